"""The controller: stage validation, order, a failing stage stops the run, one run per episode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from services.pipeline.controller import PipelineController
from services.pipeline.events import RecordingSink
from services.pipeline.local.executor import LocalExecutor
from tests.support.media import make_video


@pytest.fixture
def recorded(app):  # noqa: ANN001, ANN201
    """Swap the app's event sink for one that keeps every event."""
    sink = RecordingSink()
    app.extensions["clipcast.pipeline"] = PipelineController(app, sink, LocalExecutor(app, sink))
    return sink


def upload(client, video: Path) -> str:  # noqa: ANN001
    """Upload a video without captions; return the episode id."""
    answer = client.post(
        "/episodes/api/episodes", data={"file": (io.BytesIO(video.read_bytes()), video.name)}
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["episode_id"]


def run_to_end(app, client, body: dict) -> dict:  # noqa: ANN001
    """Start a session and wait until its worker and relay are done; return its status."""
    started = client.post("/pipeline/execute", json=body)
    assert started.status_code == 202, started.get_json()
    session_id = started.get_json()["session_id"]
    assert app.extensions["clipcast.pipeline"].executor.wait(session_id, timeout=120)
    return client.get(f"/pipeline/status/{session_id}").get_json()


def test_missing_inputs_are_named_before_anything_runs(client, tmp_path: Path) -> None:  # noqa: ANN001
    episode_id = upload(client, make_video(tmp_path / "v.mp4", seconds=2))
    answer = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": [6]}
    )
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "stage 6 needs a script: select stage 4 or run it first"
    assert body["field"] == "selected_stages"
    assert "stage 6 needs the source video" in " ".join(e["message"] for e in body["errors"])
    assert client.get("/pipeline/sessions").get_json()["sessions"] == []
    check = client.post(
        "/pipeline/validate-stages", json={"episode_id": episode_id, "selected_stages": [1, 2, 3]}
    )
    assert check.get_json() == {"valid": True, "errors": [], "skipped_stages": []}


def test_bad_options_name_the_field(client, tmp_path: Path) -> None:  # noqa: ANN001
    episode_id = upload(client, make_video(tmp_path / "v.mp4", seconds=2))
    for body, field in [
        ({"selected_stages": [0, 9]}, "selected_stages"),
        ({"segment_mode": "random"}, "segment_mode"),
        ({"tts_engine": "nope"}, "tts_engine"),
        ({"analysis_prompt": "nope"}, "analysis_prompt"),
    ]:
        answer = client.post("/pipeline/execute", json={"episode_id": episode_id, **body})
        assert answer.status_code == 400 and answer.get_json()["field"] == field, body
    assert client.post("/pipeline/execute", json={"episode_id": "nope"}).status_code == 404


def test_a_failing_stage_stops_the_run_and_keeps_earlier_work(
    app,
    client,
    recorded,  # noqa: ANN001
    tmp_path: Path,
    data_dir: Path,
) -> None:
    episode_id = upload(client, make_video(tmp_path / "v.mp4", seconds=3))
    status = run_to_end(app, client, {"episode_id": episode_id, "selected_stages": [1, 2, 3]})
    assert status["status"] == "failed"
    stages = {n: status["stages"][str(n)]["status"] for n in ("1", "2", "3")}
    assert stages == {"1": "completed", "2": "failed", "3": "pending"}
    assert "no speech" in status["stages"]["2"]["error"].lower()
    errors = recorded.of("pipeline_error")
    assert len(errors) == 1 and errors[0]["stage"] == 2 and errors[0]["error"]
    transitions = [t["to_stage"] for t in recorded.of("pipeline_transition")]
    assert transitions == [1, 2]
    completion = recorded.of("pipeline_completion")
    assert completion[0]["status"] == "failed" and completion[0]["failed_stage"] == 2
    assert (data_dir / "episodes" / episode_id / "Input" / "original_video.mp4").exists()


def test_one_running_session_per_episode(app, client, recorded, tmp_path: Path) -> None:  # noqa: ANN001
    episode_id = upload(client, make_video(tmp_path / "v.mp4", seconds=20, size="640x360"))
    first = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": [1]}
    )
    assert first.status_code == 202
    second = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": [1]}
    )
    assert second.status_code == 409
    deleting = client.delete(f"/episodes/api/episodes/{episode_id}")
    assert deleting.status_code == 409
    app.extensions["clipcast.pipeline"].executor.wait(first.get_json()["session_id"], 60)
    assert client.delete(f"/episodes/api/episodes/{episode_id}").status_code == 204
