"""Who may run or end a distributed session: database claims taken under a row lock.

Every decision that could race (a worker taking a stage, an interrupt of a queued session, the
sweeper ending a session whose worker went silent) locks the session row first, so on PostgreSQL
exactly one of them wins, and none of them ever touches a session that has already finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update

from models import PipelineSession, StageRun, db, utcnow
from models.session import ACTIVE_STATUSES
from services.atomic import remove_partials
from services.episodes.files import EpisodeFiles
from services.pipeline.events import EventSink
from services.pipeline.recorder import SessionRecorder

log = logging.getLogger(__name__)

CLAIMED = "claimed"  # this delivery runs the stage
DONE = "done"  # the stage already finished (a redelivered message): go on with the next one
BUSY = "busy"  # an earlier delivery claimed it: its worker runs it, or the sweeper ends it
ENDED = "ended"  # the session is over (finished, interrupted or deleted): drop the message
INTERRUPT = "interrupt"  # the user asked to stop before this stage started
EXHAUSTED = "exhausted"  # delivered too often without ever being claimed


def _locked_session(session_id: str) -> PipelineSession | None:
    """Load a session with its row locked until the next commit or rollback."""
    return db.session.scalars(
        select(PipelineSession)
        .where(PipelineSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def claim_stage(session_id: str, stage: int, node: str, max_deliveries: int) -> str:
    """Count a delivery of a stage's message and take the stage for this worker if it may."""
    session = _locked_session(session_id)
    if session is None or not session.is_active:
        db.session.rollback()
        return ENDED
    run = session.stage_run(stage)
    if run is None:
        db.session.rollback()
        return ENDED
    run.deliveries = (run.deliveries or 0) + 1
    if session.interrupt_requested:
        outcome = INTERRUPT
    elif run.status in ("completed", "skipped"):
        outcome = DONE
    elif run.status != "pending":
        outcome = BUSY
    elif run.deliveries > max_deliveries:
        outcome = EXHAUSTED
    else:
        outcome = CLAIMED
        run.status, run.started_at, run.error = "running", utcnow(), None
        session.heartbeat_at, session.worker_host = utcnow(), node
    db.session.commit()
    return outcome


def request_interrupt(session_id: str) -> bool:
    """Flag an active session for interruption; return False when it is not active."""
    changed = db.session.execute(
        update(PipelineSession)
        .where(PipelineSession.id == session_id, PipelineSession.status.in_(ACTIVE_STATUSES))
        .values(interrupt_requested=True)
    ).rowcount
    db.session.commit()
    return bool(changed)


def session_state(session_id: str) -> tuple[str | None, bool]:
    """Return a session's current status and interrupt flag, read fresh from the database."""
    with db.engine.connect() as connection:
        row = connection.execute(
            select(PipelineSession.status, PipelineSession.interrupt_requested).where(
                PipelineSession.id == session_id
            )
        ).first()
    return (row[0], bool(row[1])) if row else (None, False)


def _has_running_stage(session: PipelineSession) -> bool:
    """Tell whether some worker holds a stage of the session."""
    return any(run.status == "running" for run in session.stage_runs)


def end_session(
    session_id: str,
    sink: EventSink,
    data_dir: Path,
    status: str,
    reason: str,
    when: Callable[[PipelineSession], bool] = lambda _session: True,
) -> bool:
    """End an active session as `status` if `when(session)` holds under the lock; say if it did."""
    session = _locked_session(session_id)
    if session is None or not session.is_active or not when(session):
        db.session.rollback()
        return False
    SessionRecorder(session_id, sink, data_dir).finish_abnormally(status, reason)
    return True


def end_if_unclaimed(session_id: str, sink: EventSink, data_dir: Path, reason: str) -> bool:
    """End an active session no worker is running (queued, between stages) as interrupted."""
    return end_session(
        session_id,
        sink,
        data_dir,
        "interrupted",
        reason,
        when=lambda session: not _has_running_stage(session),
    )


def running_heartbeats() -> dict[str, object]:
    """Return {session_id: heartbeat_at} of active celery sessions with a claimed stage."""
    rows = db.session.execute(
        select(PipelineSession.id, PipelineSession.heartbeat_at)
        .join(StageRun, StageRun.session_id == PipelineSession.id)
        .where(
            PipelineSession.executor == "celery",
            PipelineSession.status.in_(ACTIVE_STATUSES),
            StageRun.status == "running",
        )
        .distinct()
    ).all()
    db.session.rollback()  # end the read transaction: the next pass must see new heartbeats
    return {session_id: heartbeat for session_id, heartbeat in rows}


def end_if_silent(
    session_id: str, heartbeat: object, silent_for: float, sink: EventSink, data_dir: Path
) -> bool:
    """End a session as interrupted if its heartbeat is still the one seen `silent_for` s ago."""
    session = db.session.get(PipelineSession, session_id)
    if session is None:
        return False
    worker, episode_id = session.worker_host or "its worker", session.episode_id
    db.session.rollback()
    reason = (
        f"lost the worker: {worker} sent no heartbeat for {silent_for:.0f} s (it stopped or lost "
        "its connection); earlier stages are kept: resume the session to continue"
    )
    ended = end_session(
        session_id,
        sink,
        data_dir,
        "interrupted",
        reason,
        when=lambda s: s.heartbeat_at == heartbeat and _has_running_stage(s),
    )
    if ended:
        episode_root = EpisodeFiles.for_episode(data_dir, episode_id).root
        removed = remove_partials(episode_root)
        log.warning("Session %s: %s (partial files removed: %d)", session_id, reason, removed)
    return ended
