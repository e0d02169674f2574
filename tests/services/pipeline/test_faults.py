"""Faults of the machine: told so a person can act, and a session always ends."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from config.settings import TestConfig
from models import Episode, PipelineSession, db
from services.pipeline import ending
from services.pipeline.events import RecordingSink
from services.pipeline.faults import describe_fault, free_mb
from tests.support.media import make_video
from tests.support.processes import wait_for


def _wrapped(message: str) -> OperationalError:
    """Return SQLAlchemy's wrapping of a sqlite3 error, as the recorder would see it."""
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError as exc:
            raise OperationalError("COMMIT", {}, exc) from exc
    except OperationalError as wrapped:
        return wrapped


def test_faults_are_told_with_what_to_do(tmp_path: Path) -> None:
    free = free_mb(tmp_path)
    full = describe_fault(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert full == (
        f"disk full: {free} MB free in DATA_DIR ({tmp_path}); free some space there, then run again"
    )
    assert describe_fault(_wrapped("database or disk is full"), tmp_path) == full
    locked = describe_fault(_wrapped("database is locked"), tmp_path, waited=30)
    assert locked.startswith("the database stayed locked for 30 s")
    assert describe_fault(ValueError("bad value"), tmp_path) is None
    assert describe_fault(OSError(errno.EACCES, "Permission denied"), tmp_path) is None


def test_an_unrecordable_end_is_retried_until_the_database_takes_it(
    app,  # noqa: ANN001
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with app.app_context():
        db.session.add(Episode(id="e1", source="x", source_kind="url"))
        db.session.add(PipelineSession(id="s1", episode_id="e1", status="running"))
        db.session.commit()
        real, calls = ending._end_once, []

        def refuse_twice(*args: object) -> None:
            calls.append(args)
            if len(calls) <= 2:
                raise _wrapped("database or disk is full")
            real(*args)

        monkeypatch.setattr(ending, "_end_once", refuse_twice)
        sink = RecordingSink()
        assert ending.end_until_recorded("s1", sink, data_dir, "failed", "disk full", 0.01)
        assert len(calls) == 3
        db.session.expire_all()
        session = db.session.get(PipelineSession, "s1")
        assert (session.status, session.error) == ("failed", "disk full")
        assert [c["status"] for c in sink.of("pipeline_completion")] == ["failed"]

    def refuse(*_args: object) -> None:
        raise _wrapped("database is locked")

    monkeypatch.setattr(ending, "_end_once", refuse)
    with app.app_context():
        assert not ending.end_until_recorded("s1", sink, data_dir, "failed", "x", 0.01, 2)


@pytest.fixture
def impatient_app(data_dir: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Return an app whose database writes give up after half a second of a held lock."""
    monkeypatch.setenv("DB_BUSY_TIMEOUT", "0.5")
    application = create_app(TestConfig(data_dir))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_locked_database_fails_the_session_clearly_and_a_new_run_completes(
    impatient_app,  # noqa: ANN001
    data_dir: Path,
    tmp_path: Path,
) -> None:
    client = impatient_app.test_client()
    executor = impatient_app.extensions["clipcast.pipeline"].executor
    video = make_video(tmp_path / "v.mp4", seconds=2)
    answer = client.post(
        "/episodes/api/episodes", data={"file": (io.BytesIO(video.read_bytes()), video.name)}
    )
    episode_id = answer.get_json()["episode_id"]
    body = {"episode_id": episode_id, "selected_stages": [1]}
    started = client.post("/pipeline/execute", json=body)
    assert started.status_code == 202
    session_id = started.get_json()["session_id"]

    holder = sqlite3.connect(data_dir / "clipcast.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        wait_for(lambda: not executor.worker_alive(session_id), timeout=60)
        refused = client.post(
            "/pipeline/execute",
            json={"youtube_url": "http://127.0.0.1:9/new.mp4", "selected_stages": [1]},
        )
        assert refused.status_code == 503
        assert refused.get_json()["error"].startswith("the database stayed locked for 0.5 s")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert executor.wait(session_id, timeout=60)
    status = client.get(f"/pipeline/status/{session_id}").get_json()
    assert status["status"] == "failed"
    assert status["error"].startswith("the database stayed locked"), status["error"]
    with impatient_app.app_context():
        assert db.session.query(Episode).count() == 1  # the refused URL left nothing behind
    again = client.post("/pipeline/execute", json=body)
    assert again.status_code == 202
    assert executor.wait(again.get_json()["session_id"], timeout=120)
    status = client.get(f"/pipeline/status/{again.get_json()['session_id']}").get_json()
    assert status["status"] == "completed", status["error"]


def test_a_session_left_running_without_its_relay_does_not_block_the_episode(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=1)
    answer = client.post(
        "/episodes/api/episodes", data={"file": (io.BytesIO(video.read_bytes()), video.name)}
    )
    episode_id = answer.get_json()["episode_id"]
    with app.app_context():
        stuck = PipelineSession(
            id="stuck", episode_id=episode_id, status="running", owner_pid=os.getpid()
        )
        db.session.add(stuck)
        db.session.commit()
    started = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": [1]}
    )
    assert started.status_code == 202, started.get_json()
    old = client.get("/pipeline/status/stuck").get_json()
    assert old["status"] == "failed" and "lost the process recording it" in old["error"]
    app.extensions["clipcast.pipeline"].executor.wait(started.get_json()["session_id"], 60)
