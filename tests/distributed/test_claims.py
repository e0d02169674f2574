"""Database claims on real PostgreSQL: a stage runs once, redeliveries are bounded, the sweeper
ends only silent sessions, and nothing ever touches a finished session."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from models import Episode, LogRecord, PipelineSession, StageRun, db, utcnow
from services.pipeline.celery import claims
from services.pipeline.controller import PipelineError
from services.pipeline.events import RecordingSink
from services.pipeline.spec import WorkerSpec

pytestmark = pytest.mark.distributed


@pytest.fixture
def pg_app(data_dir: Path, dist_database_url: str, dist_redis_url: str, monkeypatch):  # noqa: ANN001, ANN201
    """Return an app on the module's PostgreSQL database, inside an app context."""
    from app import create_app
    from config.settings import TestConfig

    monkeypatch.setenv("DATABASE_URL", dist_database_url)
    monkeypatch.setenv("CELERY_BROKER_URL", dist_redis_url)
    application = create_app(TestConfig(data_dir))
    with application.app_context():
        assert db.engine.dialect.name == "postgresql"
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def executor(pg_app):  # noqa: ANN001, ANN201
    """Return a CeleryExecutor on the app, without its background sweeper."""
    from services.pipeline.celery.executor import CeleryExecutor

    return CeleryExecutor(pg_app, RecordingSink(), sweep=False)


def make_session(status: str = "running", stages: tuple[int, ...] = (1, 2)) -> str:
    """Insert an episode and a celery session on it; return the session id."""
    episode = Episode(id=uuid.uuid4().hex[:12], title="t", source="x.mp4", source_kind="upload")
    session = PipelineSession(
        id=uuid.uuid4().hex,
        episode_id=episode.id,
        status=status,
        selected_stages=list(stages),
        options={"selected_stages": list(stages)},
        executor="celery",
    )
    session.stage_runs = [StageRun(stage=n, status="pending") for n in stages]
    db.session.add_all([episode, session])
    db.session.commit()
    return session.id


def stage_status(session_id: str, stage: int) -> str:
    """Return a stage's status, read fresh."""
    db.session.expire_all()
    return db.session.get(PipelineSession, session_id).stage_run(stage).status


def test_a_stage_is_claimed_once_and_redeliveries_are_bounded(pg_app) -> None:  # noqa: ANN001
    session_id = make_session()
    assert claims.claim_stage(session_id, 1, "w1@h", max_deliveries=3) == claims.CLAIMED
    assert stage_status(session_id, 1) == "running"
    # The same message again (worker lost, visibility timeout): never a second run.
    assert claims.claim_stage(session_id, 1, "w2@h", max_deliveries=3) == claims.BUSY
    db.session.get(PipelineSession, session_id).stage_run(1).status = "completed"
    db.session.commit()
    assert claims.claim_stage(session_id, 1, "w2@h", max_deliveries=3) == claims.DONE
    # A stage whose earlier deliveries all died before claiming it is given up.
    run = db.session.get(PipelineSession, session_id).stage_run(2)
    run.deliveries = 3
    db.session.commit()
    assert claims.claim_stage(session_id, 2, "w1@h", max_deliveries=3) == claims.EXHAUSTED
    assert stage_status(session_id, 2) == "pending"


def test_finished_sessions_are_left_alone(pg_app) -> None:  # noqa: ANN001
    sink = RecordingSink()
    session_id = make_session(status="completed")
    assert claims.claim_stage(session_id, 1, "w1@h", max_deliveries=3) == claims.ENDED
    assert not claims.request_interrupt(session_id)
    assert not claims.end_session(session_id, sink, pg_app.config["DATA_DIR"], "failed", "late")
    db.session.expire_all()
    assert db.session.get(PipelineSession, session_id).status == "completed"
    assert sink.events == []


def test_interrupt_request_reaches_the_claim(pg_app) -> None:  # noqa: ANN001
    session_id = make_session(status="queued")
    assert claims.request_interrupt(session_id)
    assert claims.session_state(session_id) == ("queued", True)
    assert claims.claim_stage(session_id, 1, "w1@h", max_deliveries=3) == claims.INTERRUPT


def test_interrupting_a_queued_session_ends_it_without_a_worker(pg_app, executor) -> None:  # noqa: ANN001
    session_id = make_session(status="queued")
    started = time.monotonic()
    assert executor.interrupt(session_id) is True
    assert time.monotonic() - started < 2
    db.session.expire_all()
    session = db.session.get(PipelineSession, session_id)
    assert session.status == "interrupted" and session.error == "interrupted by the user"
    completion = executor.sink.of("pipeline_completion")
    assert [c["status"] for c in completion] == ["interrupted"]
    assert executor.interrupt(session_id) is False


def test_sweeper_ends_only_silent_sessions(pg_app, executor) -> None:  # noqa: ANN001
    silent = make_session()
    beating = make_session()
    finished = make_session()
    for session_id in (silent, beating, finished):
        assert claims.claim_stage(session_id, 1, "w1@h", max_deliveries=3) == claims.CLAIMED
    executor.heartbeat_timeout = 0.3
    assert executor.sweep() == []  # first sight of each heartbeat
    time.sleep(0.4)
    db.session.get(PipelineSession, beating).heartbeat_at = utcnow()
    db.session.get(PipelineSession, finished).status = "completed"
    db.session.commit()
    assert executor.sweep() == [silent]
    db.session.expire_all()
    ended = db.session.get(PipelineSession, silent)
    assert ended.status == "interrupted" and "heartbeat" in ended.error and "resume" in ended.error
    assert ended.stage_run(1).status == "interrupted"
    assert db.session.get(PipelineSession, beating).status == "running"
    assert db.session.get(PipelineSession, finished).status == "completed"
    lines = db.session.query(LogRecord).filter_by(session_id=silent).all()
    assert [r.seq for r in lines] == [1] and "heartbeat" in lines[0].message
    completions = executor.sink.of("pipeline_completion")
    assert [(c["session_id"], c["status"]) for c in completions] == [(silent, "interrupted")]


def test_unreachable_broker_fails_the_session_with_503(pg_app, monkeypatch) -> None:  # noqa: ANN001
    from services.pipeline.celery.executor import CeleryExecutor

    closed = "redis://127.0.0.1:9/0"  # nothing listens there
    monkeypatch.setenv("CELERY_BROKER_URL", closed)  # Celery reads it before its own config
    pg_app.config["CELERY_BROKER_URL"] = closed
    executor = CeleryExecutor(pg_app, RecordingSink(), sweep=False)
    session_id = make_session(status="queued", stages=(1,))
    spec = WorkerSpec.from_json(
        {"session_id": session_id, "episode_id": "e", "data_dir": "/x", "options": {}}
    )
    with pytest.raises(PipelineError) as caught:
        executor.submit(session_id, spec)
    assert caught.value.status == 503 and "unreachable" in str(caught.value)
    db.session.expire_all()
    assert db.session.get(PipelineSession, session_id).status == "failed"
