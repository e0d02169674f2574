"""kill -9 of the server mid-run: the worker stops, a restart marks the session interrupted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.support.processes import processes_in_group, wait_for
from tests.support.server import answers, start_server

pytestmark = pytest.mark.slow
KEPT = (
    "Processing/transcript.json",
    "Processing/analysis_results.json",
    "Output/Scripts/unified_podcast_script.json",
)


def test_killed_server_leaves_an_interrupted_resumable_session(
    tmp_path: Path, sample_copy: Path
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port)
    try:
        wait_for(lambda: answers(base), timeout=30, interval=0.2)
        with (
            open(sample_copy, "rb") as video,
            open(sample_copy.with_suffix(".en.vtt"), "rb") as vtt,
        ):
            episode_id = requests.post(
                f"{base}/episodes/api/episodes",
                timeout=30,
                files={"file": ("t.mp4", video), "subtitles": ("t.en.vtt", vtt)},
            ).json()["episode_id"]
        session_id = requests.post(
            f"{base}/pipeline/execute",
            timeout=10,
            json={"episode_id": episode_id, "selected_stages": list(range(1, 8))},
        ).json()["session_id"]
        status = wait_for(lambda: _status_at_stage(base, session_id, 6), timeout=180, interval=0.1)
        worker_pid = status["worker_pid"]
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate(timeout=10)
    # The worker notices that nobody listens any more and stops with its ffmpeg children.
    wait_for(lambda: not processes_in_group(worker_pid), timeout=15)

    restarted = start_server(data_dir, port)
    try:
        wait_for(lambda: answers(base), timeout=30, interval=0.2)
        final = requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()
        assert final["status"] == "interrupted"
        assert "resume" in final["error"]
        assert {final["stages"][str(n)]["status"] for n in range(1, 6)} == {"completed"}
        assert final["stages"]["6"]["status"] in ("interrupted", "completed")
        episode_root = data_dir / "episodes" / episode_id
        assert not list(episode_root.rglob("*.partial*"))
        kept = {name: (episode_root / name).read_bytes() for name in KEPT}

        resumed = requests.post(f"{base}/pipeline/resume/{session_id}", timeout=10)
        assert resumed.status_code == 202, resumed.text
        new_id = resumed.json()["session_id"]
        done = wait_for(lambda: _finished(base, new_id), timeout=240, interval=0.3)
        assert done["status"] == "completed", done
        stages = {n: done["stages"][str(n)]["status"] for n in range(1, 8)}
        assert stages == {
            1: "skipped",
            2: "skipped",
            3: "skipped",
            4: "skipped",
            5: "skipped",
            6: "completed",
            7: "completed",
        }
        for name, content in kept.items():
            assert (episode_root / name).read_bytes() == content, f"{name} changed"
        assert (episode_root / "Output" / "Final" / "final.mp4").stat().st_size > 0
    finally:
        restarted.terminate()
        restarted.communicate(timeout=10)


def _status_at_stage(base: str, session_id: str, stage: int) -> dict | None:
    status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()
    if status["current_stage"] and status["current_stage"] >= stage and status["worker_pid"]:
        return status
    return None


def _finished(base: str, session_id: str) -> dict | None:
    status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()
    return status if status["status"] in ("completed", "failed", "interrupted") else None
