"""Every run reuses a stage whose inputs and options are unchanged; `force` reruns it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import PipelineSession, StageRun, db
from services.atomic import read_json, write_json_atomic
from services.episodes.files import EpisodeFiles
from services.pipeline.fingerprint import stage_fingerprint
from services.pipeline.runner import run_session
from services.pipeline.spec import WorkerSpec
from services.run.options import RunOptions
from tests.services.stages.av_fixtures import EPISODE, scripted_episode, write_script
from tests.support.script_episode import add_episode_row

COMPLETED_AT = "2026-12-05T03:00:00+00:00"


def _run(data_dir: Path, previous: dict[str, str], force: bool = False) -> list[dict]:
    """Run stage 5 (espeak) in this process as the worker would; return its events."""
    options = RunOptions.from_dict({"selected_stages": [5], "tts_engine": "espeak"})
    spec = WorkerSpec(
        session_id="s",
        episode_id=EPISODE,
        data_dir=str(data_dir),
        options=options,
        skip_unchanged=not force,
        previous_fingerprints=previous,
        previous_times=dict.fromkeys(previous, COMPLETED_AT),
    )
    events: list[dict] = []
    assert run_session(spec, events.append, threading.Event()) == "completed"
    return events


def _kinds(events: list[dict]) -> list[str]:
    """Return the stage events' types."""
    return [e["type"] for e in events if e["type"].startswith("stage_")]


def _fingerprint(events: list[dict]) -> dict[str, str]:
    """Return the recorded fingerprint of stage 5, as the controller would pass it on."""
    done = [e for e in events if e["type"] in ("stage_completed", "stage_skipped")]
    return {"5": done[-1]["fingerprint"]}


def test_a_second_run_reuses_the_stage_and_force_reruns_it(tmp_path: Path) -> None:
    files = scripted_episode(tmp_path)
    first = _run(tmp_path, {})
    assert _kinds(first) == ["stage_started", "stage_completed"]
    wavs = {p: p.stat().st_mtime_ns for p in files.audio_dir.glob("*.wav")}

    second = _run(tmp_path, _fingerprint(first))
    assert _kinds(second) == ["stage_skipped"]
    skipped = next(e for e in second if e["type"] == "stage_skipped")
    assert skipped["reason"].startswith("reused: inputs and options unchanged since")
    messages = [e["message"] for e in second if e["type"] == "log"]
    assert "Stage 5 reused: inputs and options unchanged since 2026-12-05 03:00:00 UTC" in messages
    assert {p: p.stat().st_mtime_ns for p in wavs} == wavs

    forced = _run(tmp_path, _fingerprint(second), force=True)
    assert _kinds(forced) == ["stage_started", "stage_completed"]


def test_a_changed_sentence_reruns_the_stage_a_moved_clip_does_not(tmp_path: Path) -> None:
    files = scripted_episode(tmp_path)
    previous = _fingerprint(_run(tmp_path, {}))
    write_script(files, clips=[(1.5, 3.5), (4.0, 6.0)])  # stage 6's part only
    assert _kinds(_run(tmp_path, previous)) == ["stage_skipped"]

    script = read_json(files.script)
    script["podcast_sections"][0]["script_content"] = "A brand new opening line."
    write_json_atomic(files.script, script)
    assert _kinds(_run(tmp_path, previous)) == ["stage_started", "stage_completed"]


def test_missing_outputs_are_made_again_even_with_the_same_fingerprint(tmp_path: Path) -> None:
    files = scripted_episode(tmp_path)
    previous = _fingerprint(_run(tmp_path, {}))
    files.section_audio("outro").unlink()
    assert _kinds(_run(tmp_path, previous)) == ["stage_started", "stage_completed"]
    assert files.section_audio("outro").exists()


def test_a_replaced_narration_wav_is_made_again(tmp_path: Path) -> None:
    files = scripted_episode(tmp_path)
    previous = _fingerprint(_run(tmp_path, {}))
    intro = files.section_audio("intro").stat().st_mtime_ns
    files.section_audio("outro").write_bytes(b"RIFF not the speech stage 5 wrote")
    assert _kinds(_run(tmp_path, previous)) == ["stage_started", "stage_completed"]
    assert files.section_audio("outro").stat().st_size > 1000
    assert files.section_audio("intro").stat().st_mtime_ns == intro


@pytest.mark.parametrize("force", [False, True])
def test_execute_passes_force_to_the_worker(app, client, data_dir: Path, force: bool) -> None:  # noqa: ANN001
    scripted_episode(data_dir)
    add_episode_row(app, EPISODE)
    controller = app.extensions["clipcast.pipeline"]
    specs: list[WorkerSpec] = []
    controller.executor.submit = lambda _session_id, spec: specs.append(spec)
    body = {"episode_id": EPISODE, "selected_stages": [5], "force": force}
    answer = client.post("/pipeline/execute", json=body)
    assert answer.status_code == 202, answer.get_json()
    assert specs[0].skip_unchanged is (not force)


def test_force_must_be_a_boolean(client) -> None:  # noqa: ANN001
    answer = client.post("/pipeline/execute", json={"episode_id": EPISODE, "force": "yes"})
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "force"


# ------------------------------------------------------------------- fingerprint inputs


def _episode(tmp_path: Path) -> EpisodeFiles:
    """Return an episode with every file stages 4-7 read."""
    files = scripted_episode(tmp_path)
    write_json_atomic(files.transcript, {"segments": [{"start": 0, "end": 9, "text": "Hello."}]})
    write_json_atomic(files.metadata, {"title": "Talk", "duration": 9})
    write_json_atomic(files.analysis, {"guideline_name": "highlights", "segments": []})
    write_json_atomic(files.selected_segments, {"selected_by": "user", "segments": []})
    write_json_atomic(files.video_dir / "clips.json", {"version": 1, "clips": {}})
    return files


def _print(number: int, files: EpisodeFiles, data_dir: Path, **options: object) -> str:
    """Return stage `number`'s fingerprint with the given options."""
    return stage_fingerprint(number, files, data_dir, RunOptions.from_dict(options))


@pytest.mark.parametrize(
    ("number", "path", "options"),
    [
        (4, "Processing/transcript.json", {}),
        (4, "Input/metadata.json", {}),
        (4, "Processing/analysis_results.json", {}),
        (4, "Processing/selected_segments.json", {"segment_mode": "manual"}),
        (7, "Processing/transcript.json", {}),
        (7, "Output/Video/clips.json", {}),
        (3, "Input/metadata.json", {}),
    ],
)
def test_a_changed_input_file_changes_the_fingerprint(
    tmp_path: Path, number: int, path: str, options: dict
) -> None:
    files = _episode(tmp_path)
    before = _print(number, files, tmp_path, **options)
    write_json_atomic(files.root / path, {"changed": True})
    assert _print(number, files, tmp_path, **options) != before


def test_target_length_changes_stage_4(tmp_path: Path) -> None:
    files = _episode(tmp_path)
    assert _print(4, files, tmp_path, target_seconds=60) != _print(4, files, tmp_path)


def test_stage_5_and_6_read_only_their_part_of_the_script(tmp_path: Path) -> None:
    files = _episode(tmp_path)
    before = {n: _print(n, files, tmp_path) for n in (5, 6, 7)}
    write_script(files, clips=[(1.5, 3.5), (4.0, 6.0)])
    moved = {n: _print(n, files, tmp_path) for n in (5, 6, 7)}
    assert moved[5] == before[5] and moved[6] != before[6] and moved[7] != before[7]
    script = read_json(files.script)
    script["podcast_sections"][-1]["script_content"] = "Bye now."
    write_json_atomic(files.script, script)
    edited = {n: _print(n, files, tmp_path) for n in (5, 6, 7)}
    assert edited[5] != moved[5] and edited[6] == moved[6] and edited[7] != moved[7]


def test_manual_recordings_are_stage_5_inputs(tmp_path: Path) -> None:
    files = _episode(tmp_path)
    files.section_audio("intro").write_bytes(b"RIFF one")
    before = _print(5, files, tmp_path, audio_method="manual")
    files.section_audio("intro").write_bytes(b"RIFF two")
    assert _print(5, files, tmp_path, audio_method="manual") != before


def test_reuse_is_dated_by_the_run_that_completed_the_stage(app) -> None:  # noqa: ANN001
    add_episode_row(app, EPISODE)
    runs = [("a", "completed", "f1", 1), ("b", "skipped", "f1", 2), ("c", "completed", "f2", 3)]
    with app.app_context():
        for session_id, status, fingerprint, hour in runs:
            session = PipelineSession(id=session_id, episode_id=EPISODE, status="completed")
            finished = datetime(2026, 12, 5, hour, tzinfo=UTC)
            session.stage_runs = [
                StageRun(stage=5, status=status, fingerprint=fingerprint, finished_at=finished),
                StageRun(stage=6, status="completed", fingerprint="g", finished_at=finished),
            ]
            db.session.add(session)
            db.session.commit()
            fingerprints, times = app.extensions["clipcast.pipeline"].completed_runs(EPISODE)
            expected = {"a": "01", "b": "01", "c": "03"}[session_id]
            assert fingerprints["5"] == fingerprint
            assert times["5"].startswith(f"2026-12-05T{expected}:00:00")
        assert times["6"].startswith("2026-12-05T03:00:00")


def test_worker_spec_carries_the_previous_times() -> None:
    spec = WorkerSpec(
        session_id="s",
        episode_id="e",
        data_dir="/d",
        options=RunOptions(),
        previous_fingerprints={"5": "f"},
        previous_times={"5": COMPLETED_AT},
    )
    again = WorkerSpec.from_json(spec.to_json())
    assert again.previous_time(5) == COMPLETED_AT and again.previous_time(6) is None
