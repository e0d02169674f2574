"""A run started over HTTP, watched by a real python-socketio client over websocket."""

from __future__ import annotations

import os
import signal
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from tests.support.events import EventCollector
from tests.support.http_media import serve_slowly
from tests.support.processes import processes_in_group, wait_for
from tests.support.server import upload_sample

pytestmark = pytest.mark.slow


def test_http_run_streams_every_stage(live_server: str, sample_copy: Path) -> None:
    collector = EventCollector(live_server)
    episode_id = upload_sample(live_server, sample_copy)
    started = requests.post(
        f"{live_server}/pipeline/execute",
        json={"episode_id": episode_id, "selected_stages": [1, 2, 3, 4, 5, 6, 7]},
        timeout=10,
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "started" and body["monitoring_enabled"] is True
    session_id = body["session_id"]

    def completed_while_status_answers() -> bool:
        # The status answers all along the run (how fast: `make bench`, benchmarks/live.py).
        status = requests.get(f"{live_server}/pipeline/status/{session_id}", timeout=5)
        assert status.status_code == 200
        return bool(collector.of("pipeline_completion", session_id))

    wait_for(completed_while_status_answers, timeout=240, interval=0.1)
    # The last log lines follow the completion on the same channel.
    stored = collector.await_stored_logs(live_server, session_id)
    collector.client.disconnect()

    completions = collector.of("pipeline_completion", session_id)
    assert len(completions) == 1 and completions[0]["status"] == "completed", completions
    assert completions[0]["completed_stages"] == [1, 2, 3, 4, 5, 6, 7]
    assert completions[0]["outputs"]["final_video"].endswith("Output/Final/final.mp4")

    progress = collector.of("pipeline_progress", session_id)
    assert len(collector.of("pipeline_update", session_id)) == len(progress)
    for stage in range(1, 8):
        mine = [p for p in progress if p["stage"] == stage]
        values = [p["progress"] for p in mine]
        assert values == sorted(values), (stage, values)
        assert values[-1] == 100.0 and mine[-1]["status"] == "completed"
        subs = {p["sub_stage"] for p in mine if p["sub_stage"]}
        assert len(subs) >= 2, (stage, subs)
    transitions = collector.of("pipeline_transition", session_id)
    assert [t["to_stage"] for t in transitions] == [1, 2, 3, 4, 5, 6, 7]

    logs = collector.of("log_stream", session_id)
    assert [r["seq"] for r in logs] == list(range(1, len(logs) + 1))
    assert [r["seq"] for r in stored] == [r["seq"] for r in logs]

    final = requests.get(
        f"{live_server}{completions[0]['outputs']['final_video']}",
        headers={"Range": "bytes=0-99"},
        timeout=10,
    )
    assert final.status_code == 206 and len(final.content) == 100


def test_request_state_fills_the_gap(live_server: str, sample_copy: Path) -> None:
    episode_id = upload_sample(live_server, sample_copy)
    session_id = requests.post(
        f"{live_server}/pipeline/execute",
        json={"episode_id": episode_id, "selected_stages": [1, 2, 3]},
        timeout=10,
    ).json()["session_id"]
    wait_for(
        lambda: (
            requests.get(f"{live_server}/pipeline/status/{session_id}", timeout=5).json()["status"]
            in ("completed", "failed")
        ),
        timeout=120,
        interval=0.2,
    )
    late = EventCollector(live_server)
    late.client.emit("request_state", {"session_id": session_id, "after_seq": 3})
    state = wait_for(lambda: late.events["pipeline_state"], timeout=10)[0]
    late.client.disconnect()
    assert state["session"]["session_id"] == session_id
    assert state["session"]["status"] == "completed"
    seqs = [r["seq"] for r in state["logs"]]
    assert seqs and seqs[0] == 4 and seqs == list(range(4, 4 + len(seqs)))


@pytest.mark.parametrize("stage", [1, 2, 6, 7])
def test_interrupt_ends_every_process(
    app,
    live_server: str,
    sample_copy: Path,  # noqa: ANN001
    stage: int,
) -> None:
    collector = EventCollector(live_server)
    with ExitStack() as stack:
        if stage == 1:  # a slow loopback download, interrupted mid-way
            url = stack.enter_context(serve_slowly(sample_copy, bytes_per_second=300_000))
            body = {"youtube_url": url}
        elif stage == 2:  # no captions: offline speech recognition in a process pool
            body = {
                "episode_id": upload_video_only(live_server, sample_copy),
                "transcript_engine": "pocketsphinx",
            }
        else:
            body = {"episode_id": upload_sample(live_server, sample_copy)}
        started = requests.post(
            f"{live_server}/pipeline/execute",
            timeout=10,
            json={**body, "selected_stages": list(range(1, 8))},
        ).json()
        session_id, episode_id = started["session_id"], started["episode_id"]
        wait_for(
            lambda: _running_with_progress(live_server, session_id, stage),
            timeout=180,
            interval=0.02,
        )
        worker_pid = requests.get(f"{live_server}/pipeline/status/{session_id}", timeout=5).json()[
            "worker_pid"
        ]
        t0 = time.monotonic()
        answer = requests.post(f"{live_server}/pipeline/interrupt/{session_id}", timeout=10)
        assert answer.json()["status"] == "interrupted"
        wait_for(lambda: not processes_in_group(worker_pid), timeout=3)
        assert time.monotonic() - t0 < 3.0
    final = requests.get(f"{live_server}/pipeline/status/{session_id}", timeout=5).json()
    assert final["status"] == "interrupted"
    assert final["stages"][str(stage)]["status"] == "interrupted"
    episode_root = Path(app.config["DATA_DIR"]) / "episodes" / episode_id
    assert not list(episode_root.rglob("*.partial*")), "a partial file was left behind"
    completion = wait_for(lambda: collector.of("pipeline_completion", session_id), timeout=5)
    assert completion[0]["status"] == "interrupted"
    collector.client.disconnect()


def _running_with_progress(base: str, session_id: str, stage: int) -> bool:
    """Tell whether `stage` is running and has reported some (not all) progress."""
    status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()
    run = status["stages"].get(str(stage), {})
    return run.get("status") == "running" and 0 < run.get("progress", 0) < 100


def upload_video_only(base: str, video: Path) -> str:
    """Upload a video without captions; return the episode id."""
    with open(video, "rb") as handle:
        answer = requests.post(
            f"{base}/episodes/api/episodes", timeout=30, files={"file": (video.name, handle)}
        )
    assert answer.status_code == 201, answer.text
    return answer.json()["episode_id"]


def test_a_killed_worker_leaves_an_interrupted_session_that_resumes(
    app,
    live_server: str,
    sample_copy: Path,  # noqa: ANN001
) -> None:
    episode_id = upload_sample(live_server, sample_copy)
    session_id = requests.post(
        f"{live_server}/pipeline/execute",
        timeout=10,
        json={"episode_id": episode_id, "selected_stages": list(range(1, 8))},
    ).json()["session_id"]
    wait_for(lambda: _running_with_progress(live_server, session_id, 6), timeout=180, interval=0.02)
    worker_pid = requests.get(f"{live_server}/pipeline/status/{session_id}", timeout=5).json()[
        "worker_pid"
    ]
    os.kill(worker_pid, signal.SIGKILL)
    status = wait_for(lambda: _finished(live_server, session_id), timeout=10, interval=0.1)
    assert status["status"] == "interrupted" and "unexpectedly" in status["error"]
    assert status["stages"]["6"]["status"] == "interrupted"
    wait_for(lambda: not processes_in_group(worker_pid), timeout=3)
    episode_root = Path(app.config["DATA_DIR"]) / "episodes" / episode_id
    assert not list(episode_root.rglob("*.partial*"))
    resumed = requests.post(f"{live_server}/pipeline/resume/{session_id}", timeout=10).json()
    done = wait_for(
        lambda: _finished(live_server, resumed["session_id"]), timeout=180, interval=0.2
    )
    assert done["status"] == "completed"
    assert [done["stages"][str(n)]["status"] for n in range(1, 8)] == ["skipped"] * 5 + [
        "completed",
        "completed",
    ]


def _finished(base: str, session_id: str) -> dict | None:
    """Return the session's status once it has ended."""
    status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()
    return status if status["status"] in ("completed", "failed", "interrupted") else None
