"""One `execute` for the API and the CLI: everything is validated before anything is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Episode, PipelineSession, db
from services.pipeline.spec import WorkerSpec
from services.run.options import RunOptions
from tests.support.media import make_video


def _nothing_created(app, data_dir: Path) -> None:  # noqa: ANN001
    """Assert that no episode row, session row or episode folder exists."""
    with app.app_context():
        assert db.session.query(Episode).count() == 0
        assert db.session.query(PipelineSession).count() == 0
    folder = data_dir / "episodes"
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"tts_engine": "nope"}, 400, "tts_engine"),
        ({"analysis_prompt": "nope"}, 400, "analysis_prompt"),
        ({"selected_stages": [6]}, 400, "selected_stages"),
        ({"segment_mode": "random"}, 400, "segment_mode"),
        ({"preset": "no-such-preset"}, 404, None),
    ],
)
def test_a_refused_run_on_a_new_url_leaves_nothing_behind(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    data_dir: Path,
    body: dict,
    status: int,
    field: str | None,
) -> None:
    answer = client.post(
        "/pipeline/execute", json={"youtube_url": "http://127.0.0.1:9/talk.mp4", **body}
    )
    assert answer.status_code == status, answer.get_json()
    if field:
        assert answer.get_json()["field"] == field
    _nothing_created(app, data_dir)


def test_dependency_errors_of_a_new_url_name_every_missing_input(client) -> None:  # noqa: ANN001
    answer = client.post(
        "/pipeline/execute",
        json={"youtube_url": "http://127.0.0.1:9/talk.mp4", "selected_stages": [3, 6]},
    )
    messages = [e["message"] for e in answer.get_json()["errors"]]
    assert "stage 3 needs a transcript: select stage 2 or run it first" in messages
    assert any(m.startswith("stage 6 needs a script") for m in messages)


def test_the_cli_refuses_before_copying_the_file(app, data_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    video = make_video(tmp_path / "talk.mp4", seconds=1)
    result = app.test_cli_runner().invoke(
        args=["pipeline", "run", str(video), "--stages", "6", "--quiet"]
    )
    assert result.exit_code == 1
    assert "stage 6 needs" in result.output
    _nothing_created(app, data_dir)


def test_a_refused_start_of_a_new_episode_is_undone(app, client, data_dir: Path) -> None:  # noqa: ANN001
    controller = app.extensions["clipcast.pipeline"]

    def refuse(_session_id: str, _spec: WorkerSpec) -> None:
        raise OSError("no worker today")

    controller.executor.submit = refuse
    answer = client.post(
        "/pipeline/execute",
        json={"youtube_url": "http://127.0.0.1:9/talk.mp4", "selected_stages": [1]},
    )
    assert answer.status_code == 500
    assert "could not start the worker process: no worker today" in answer.get_json()["error"]
    _nothing_created(app, data_dir)


def test_worker_spec_round_trips_through_json(tmp_path: Path) -> None:
    spec = WorkerSpec(
        session_id="s1",
        episode_id="e1",
        data_dir=str(tmp_path),
        options=RunOptions.from_dict(
            {"selected_stages": [2, 1], "tts_engine": "espeak", "source": "u"}
        ),
        allow_private_urls=True,
        skip_unchanged=True,
        previous_fingerprints={"1": "abc"},
    )
    assert spec.selected_stages == [1, 2]
    assert WorkerSpec.from_json(spec.to_json()) == spec
    assert spec.to_json()["settings"] == {"allow_private_urls": True}
    assert spec.previous_fingerprint(1) == "abc" and spec.previous_fingerprint(2) is None
    one = spec.for_stage(2, Path("/mnt/shared"))
    assert one.selected_stages == [2] and one.data_dir == "/mnt/shared"
    assert one.options.tts_engine == "espeak" and spec.selected_stages == [1, 2]
    with pytest.raises(ValueError, match="stages"):
        WorkerSpec.from_json({**spec.to_json(), "options": {"selected_stages": [9]}})
