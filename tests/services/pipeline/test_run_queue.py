"""MAX_CONCURRENT_RUNS: sessions beyond it wait `queued`, in order, and start as places free."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from models import PipelineSession, db
from services.pipeline.controller import PipelineController
from services.pipeline.events import RecordingSink
from services.pipeline.local.executor import LocalExecutor
from services.pipeline.recovery import recover_orphaned_sessions
from tests.services.pipeline.test_controller import upload
from tests.support.media import make_video


@pytest.fixture
def one_at_a_time(app):  # noqa: ANN001, ANN201
    """Give the app a controller whose executor runs one session at a time; return its sink."""
    app.config["MAX_CONCURRENT_RUNS"] = 1
    sink = RecordingSink()
    app.extensions["clipcast.pipeline"] = PipelineController(app, sink, LocalExecutor(app, sink))
    return sink


def executor_of(app) -> LocalExecutor:  # noqa: ANN001
    """Return the app's local executor."""
    return app.extensions["clipcast.pipeline"].executor


@contextmanager
def held(app, session_id: str) -> Iterator[None]:  # noqa: ANN001
    """Keep a running session's worker stopped (SIGSTOP) inside the block, so it cannot end."""
    process = executor_of(app)._handles[session_id].process
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGCONT)


def execute(client, episode_id: str) -> dict:  # noqa: ANN001
    """Start stage 1 of an episode; return the 202 answer."""
    answer = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": [1]}
    )
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def status(client, session_id: str) -> dict:  # noqa: ANN001
    """Return a session's status."""
    return client.get(f"/pipeline/status/{session_id}").get_json()


def test_runs_beyond_the_cap_wait_in_order(app, client, one_at_a_time, tmp_path: Path) -> None:  # noqa: ANN001
    video = make_video(tmp_path / "v.mp4", seconds=2)
    episodes = [upload(client, video) for _ in range(4)]
    first = execute(client, episodes[0])
    assert first["status"] == "started" and first["queue_position"] is None
    with held(app, first["session_id"]):
        queued = [execute(client, e) for e in episodes[1:]]
        assert [(q["status"], q["queue_position"]) for q in queued] == [
            ("queued", 1),
            ("queued", 2),
            ("queued", 3),
        ]
        second, third, fourth = (q["session_id"] for q in queued)
        assert status(client, third)["queue_position"] == 2
        assert client.post(f"/pipeline/interrupt/{third}").get_json() == {"status": "interrupted"}
        assert status(client, fourth)["queue_position"] == 2
        assert status(client, second)["status"] == "queued"
        assert status(client, first["session_id"])["queue_position"] is None
    for session_id in (first["session_id"], second, fourth):
        assert executor_of(app).wait(session_id, timeout=120)
    ran = [status(client, s) for s in (first["session_id"], second, fourth)]
    assert [s["status"] for s in ran] == ["completed"] * 3
    # Each started only after the one before it had finished.
    for before, after in zip(ran, ran[1:], strict=False):
        assert after["started_at"] >= before["finished_at"]
    stopped = status(client, third)
    assert stopped["status"] == "interrupted" and stopped["queue_position"] is None
    assert stopped["worker_pid"] is None and stopped["started_at"] is None
    assert not (Path(app.config["DATA_DIR"]) / "logs" / f"worker-{third}.log").exists()
    ends = {p["session_id"]: p["status"] for p in one_at_a_time.of("pipeline_completion")}
    assert ends[third] == "interrupted"


def test_queued_sessions_of_a_stopped_server_run_after_a_restart(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    one_at_a_time,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    episode_id = upload(client, make_video(tmp_path / "v.mp4", seconds=2))
    first = execute(client, upload(client, make_video(tmp_path / "w.mp4", seconds=2)))
    with held(app, first["session_id"]):
        queued = execute(client, episode_id)["session_id"]
        assert status(client, queued)["queue_position"] == 1
        # As if the server had stopped: the queue is gone with it, the row says `queued`.
        executor_of(app)._queue.clear()
        gone = subprocess.Popen(["true"])
        gone.wait()
        with app.app_context():
            db.session.get(PipelineSession, queued).owner_pid = gone.pid
            db.session.commit()
            assert recover_orphaned_sessions(Path(app.config["DATA_DIR"])) == []
            restarted = app.extensions["clipcast.pipeline"].restart_queued()
        assert restarted == [queued]
        assert status(client, queued)["queue_position"] == 1
    assert executor_of(app).wait(queued, timeout=120)
    assert executor_of(app).wait(first["session_id"], timeout=120)
    assert status(client, queued)["status"] == "completed"
    with app.app_context():
        assert db.session.get(PipelineSession, queued).owner_pid == os.getpid()
