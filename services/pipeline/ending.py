"""Ending a session for sure: when recording failed, keep trying until the database takes it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from models import PipelineSession, db
from services.pipeline.events import EventSink
from services.pipeline.recorder import SessionRecorder

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 10.0


def _end_once(session_id: str, sink: EventSink, data_dir: Path, status: str, reason: str) -> None:
    """End the session as `status` unless it has already ended (one attempt)."""
    db.session.rollback()
    db.session.expire_all()
    session = db.session.get(PipelineSession, session_id)
    if session is None or not session.is_active:
        return
    SessionRecorder(session_id, sink, data_dir).finish_abnormally(status, reason)


def end_until_recorded(
    session_id: str,
    sink: EventSink,
    data_dir: Path,
    status: str,
    reason: str,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_tries: int | None = None,
) -> bool:
    """End an active session, retrying (with back-off) while the database refuses; say if done.

    A full disk or a locked database refuses every write until its cause is gone; the session
    must still end, with the reason, as soon as the database takes writes again. Without
    `max_tries` this keeps trying for as long as it takes.
    """
    delay = first_delay
    tries = 0
    while True:
        tries += 1
        try:
            _end_once(session_id, sink, data_dir, status, reason)
            return True
        except Exception:  # noqa: BLE001 - whatever the database says, try again later
            if tries == 1:
                log.exception("could not record the end of session %s; retrying", session_id)
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the connection itself may be gone
                db.session.remove()
        if max_tries is not None and tries >= max_tries:
            return False
        time.sleep(delay)
        delay = min(MAX_RETRY_SECONDS, delay * 2)
