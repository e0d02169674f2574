"""Crash recovery: sessions whose relaying process died are ended as interrupted, workers killed."""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path

from sqlalchemy import select

from models import PipelineSession, db, utcnow
from models.session import ACTIVE_STATUSES
from services.atomic import remove_partials
from services.episodes.files import EpisodeFiles

log = logging.getLogger(__name__)
WORKER_MODULE = b"services.pipeline.runner"


def process_alive(pid: int | None) -> bool:
    """Tell whether a process exists (and is not a zombie)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_clipcast_worker(pid: int | None) -> bool:
    """Tell whether a pid is (still) one of our worker processes, not a recycled pid."""
    try:
        return WORKER_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def end_orphan_worker(pid: int | None) -> bool:
    """Kill a leftover worker's whole process group; return whether there was one."""
    if not pid or not is_clipcast_worker(pid):
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _orphaned(statuses: tuple[str, ...]) -> list[PipelineSession]:
    """Return this host's local sessions in `statuses` whose owner process is gone, oldest first."""
    host = socket.gethostname()
    rows = db.session.scalars(
        select(PipelineSession)
        .where(PipelineSession.status.in_(statuses), PipelineSession.executor == "local")
        .order_by(PipelineSession.created_at)
    ).all()
    return [s for s in rows if s.worker_host in (None, host) and not process_alive(s.owner_pid)]


def never_started(session: PipelineSession) -> bool:
    """Tell whether a session is still waiting in the queue (no worker ever ran it)."""
    return session.status == "queued" and session.worker_pid is None and not session.started_at


def orphaned_queued_sessions() -> list[PipelineSession]:
    """Return the queued sessions of a process that is gone, oldest first: to queue again."""
    return [s for s in _orphaned(("queued",)) if never_started(s)]


def recover_orphaned_sessions(data_dir: Path) -> list[str]:
    """Mark this host's active sessions whose owner process is gone as interrupted.

    Sessions that were still waiting in the queue are left queued: the controller queues them
    again (`PipelineController.restart_queued`).
    """
    recovered = []
    for session in _orphaned(ACTIVE_STATUSES):
        if never_started(session):
            continue
        killed = end_orphan_worker(session.worker_pid)
        reason = "Clipcast stopped while this session ran; earlier stages are kept: resume it"
        session.status = "interrupted"
        session.error = reason
        session.finished_at = utcnow()
        for run in session.stage_runs:
            if run.status == "running":
                run.status, run.error, run.finished_at = "interrupted", reason, utcnow()
        removed = remove_partials(EpisodeFiles.for_episode(data_dir, session.episode_id).root)
        log.warning(
            "Session %s interrupted by a restart (worker killed: %s, partial files removed: %d)",
            session.id,
            killed,
            removed,
        )
        recovered.append(session.id)
    if recovered:
        db.session.commit()
    return recovered
