"""SessionRecorder: keeps a session's state (session_state.py) and persists what it changes.

The rules live in `session_state`; this module only loads the state, writes the rows the
handlers ask for, batches log records (gap-free `seq`), coalesces progress and sends events.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update

from models import Episode, LogRecord, PipelineSession, StageRun, db
from models.session import ACTIVE_STATUSES
from services.episodes.files import EpisodeFiles
from services.episodes.metadata import read_metadata
from services.pipeline import events as ev
from services.pipeline import payloads
from services.pipeline import session_state as st
from services.pipeline.events import EventSink, ProgressCoalescer

log = logging.getLogger(__name__)

LOG_FLUSH_SECONDS = 0.1
LOG_FLUSH_RECORDS = 500
PROGRESS_DB_SECONDS = 0.5


def load_state(session: PipelineSession, last_seq: int) -> st.SessionState:
    """Return the state of a stored session."""
    return st.SessionState(
        session_id=session.id,
        episode_id=session.episode_id,
        selected=list(session.selected_stages),
        stages={
            r.stage: {
                "status": r.status,
                "progress": r.progress,
                "sub_stage": r.sub_stage,
                "sub_stage_index": r.sub_stage_index,
                "message": r.message,
            }
            for r in session.stage_runs
        },
        current_stage=session.current_stage,
        seq=last_seq,
        finished=session.status not in ACTIVE_STATUSES,
        outputs=dict(session.outputs or {}),
    )


class SessionRecorder:
    """Records one session's events (state, logs with gap-free seq) and forwards them to a sink."""

    def __init__(self, session_id: str, sink: EventSink, data_dir: Path | str) -> None:
        self.session_id = session_id
        self.sink = sink
        self.data_dir = data_dir
        self._lock = threading.RLock()
        session = db.session.get(PipelineSession, session_id)
        if session is None:
            raise LookupError(f"no session {session_id}")
        last_seq = db.session.scalar(
            select(func.max(LogRecord.seq)).where(LogRecord.session_id == session_id)
        )
        self.state = load_state(session, last_seq or 0)
        self.episode_id = self.state.episode_id
        self._log_buffer: list[dict] = []
        self._last_log_flush = time.monotonic()
        self._last_progress_db = 0.0
        self._coalescer = ProgressCoalescer()
        self._completion: dict | None = None

    @property
    def finished(self) -> bool:
        """Tell whether the session has ended (nothing more is recorded)."""
        return self.state.finished

    @finished.setter
    def finished(self, value: bool) -> None:
        self.state.finished = value

    @property
    def started_monotonic(self) -> float:
        """Return when the session started, on this process's monotonic clock."""
        return self.state.started_monotonic

    @started_monotonic.setter
    def started_monotonic(self, value: float) -> None:
        self.state.started_monotonic = value

    # ------------------------------------------------------------------ public
    def handle(self, event: dict) -> None:
        """Apply one worker event."""
        with self._lock:
            kind = event.get("type")
            if kind == "session_finished":
                self.state.final_video = self._final_video()
            effects = st.apply_event(self.state, event)
            if effects is None:
                log.warning("unknown worker event %r", kind)
                return
            self._apply(effects)
            if kind not in st.BATCHED or len(self._log_buffer) >= LOG_FLUSH_RECORDS:
                self.flush()

    def tick(self) -> None:
        """Flush logs and due progress; call this a few times a second."""
        with self._lock:
            if self._log_buffer and time.monotonic() - self._last_log_flush >= LOG_FLUSH_SECONDS:
                self.flush()
            due = self._coalescer.due()
            if due is not None:
                self._send_progress(due)
            if (
                self.state.progress_dirty
                and time.monotonic() - self._last_progress_db >= PROGRESS_DB_SECONDS
            ):
                self._write_progress()
                db.session.commit()

    def log(self, level: str, message: str, stage: int | None = None) -> None:
        """Add a line of the controller's own to the session log."""
        self.handle(
            {
                "type": "log",
                "level": level,
                "message": message,
                "stage": stage,
                "logger": "clipcast.pipeline",
                "timestamp": time.time(),
            }
        )

    def finish_abnormally(self, status: str, reason: str) -> None:
        """End a session whose worker stopped without saying how it ended."""
        with self._lock:
            if self.state.finished:
                return
            self.state.final_video = self._final_video()
            self._apply(st.abnormal_end(self.state, status, reason))
            self.flush()

    def flush(self) -> None:
        """Commit buffered logs and state, then emit the logs (so a reader never sees a gap)."""
        records = self._log_buffer
        self._log_buffer = []
        if records:
            db.session.execute(
                LogRecord.__table__.insert(),
                [dict(r, timestamp=datetime.fromtimestamp(r["timestamp"], UTC)) for r in records],
            )
        if self.state.progress_dirty:
            self._write_progress()
        db.session.commit()
        self._last_log_flush = time.monotonic()
        for record in records:
            self.sink.emit(
                ev.LOG_EVENT, dict(record, timestamp=payloads.iso_timestamp(record["timestamp"]))
            )
        if self._completion is not None:
            completion, self._completion = self._completion, None
            self.sink.emit(ev.COMPLETION_EVENT, completion)

    # ------------------------------------------------------------------ effects
    def _apply(self, effects: list[st.Effect]) -> None:
        """Carry out the effects of one event, in order."""
        for effect in effects:
            if isinstance(effect, st.SessionRow):
                if effect.started:
                    self.write_session_started(effect.values)
                else:
                    self._update_session(**effect.values)
            elif isinstance(effect, st.StageRow):
                self._update_stage(effect.number, effect.values)
            elif isinstance(effect, st.Send):
                self.sink.emit(effect.event, effect.payload)
            elif isinstance(effect, st.Progress):
                self._progress(effect)
            elif isinstance(effect, st.DrainProgress):
                self._drain_progress()
            elif isinstance(effect, st.LogLine):
                self._log_buffer.append(effect.record)
            elif isinstance(effect, st.EpisodeFromMetadata):
                self._update_episode_from_metadata()
            elif isinstance(effect, st.Completion):
                self._completion = effect.payload

    def write_session_started(self, values: dict) -> None:
        """Record the worker's start (a distributed stage records it its own way)."""
        self._update_session(**values)

    def _progress(self, effect: st.Progress) -> None:
        """Send progress now (forced) or through the coalescer."""
        if effect.force:
            self._send_progress(effect.payload, force=True)
            return
        sent = self._coalescer.offer(effect.payload)
        if sent is not None:
            self._send_progress(sent)

    def _write_progress(self) -> None:
        """Store the progress of every stage that changed since the last write."""
        for number in self.state.progress_dirty:
            stage = self.state.stages.get(number, {})
            self._update_stage(
                number,
                {
                    "progress": stage.get("progress", 0.0),
                    "sub_stage": stage.get("sub_stage"),
                    "sub_stage_index": stage.get("sub_stage_index"),
                    "message": stage.get("message"),
                },
            )
        self.state.progress_dirty.clear()
        self._update_session(overall_progress=self.state.overall())
        self._last_progress_db = time.monotonic()

    def _update_stage(self, number: int, values: dict) -> None:
        """Write columns of one stage's row (committed by the next flush)."""
        db.session.execute(
            update(StageRun)
            .where(StageRun.session_id == self.session_id, StageRun.stage == number)
            .values(**values)
        )

    def _update_session(self, **values: object) -> None:
        """Write columns of this session's row (committed by the next flush)."""
        db.session.execute(
            update(PipelineSession).where(PipelineSession.id == self.session_id).values(**values)
        )

    def _send_progress(self, payload: dict, force: bool = False) -> None:
        """Send a progress payload under both of its event names."""
        if force:
            self._coalescer.drain()
        for name in ev.PROGRESS_EVENTS:
            self.sink.emit(name, payload)

    def _drain_progress(self) -> None:
        """Send any held-back progress now."""
        pending = self._coalescer.drain()
        if pending is not None:
            self._send_progress(pending)

    def _final_video(self) -> str | None:
        """Return the episode-relative path of the final video, when it exists."""
        files = EpisodeFiles.for_episode(self.data_dir, self.episode_id)
        return files.relative(files.final_video) if files.final_video.exists() else None

    def _update_episode_from_metadata(self) -> None:
        """Take a URL episode's title, and any episode's duration, from stage 1's metadata."""
        meta = read_metadata(EpisodeFiles.for_episode(self.data_dir, self.episode_id))
        values = {}
        # An upload keeps the name the user gave it; a URL still named by its address takes
        # the video's own title (a title the user chose is kept).
        if meta.get("title") and meta.get("source_kind") == "url":
            db.session.execute(
                update(Episode)
                .where(Episode.id == self.episode_id, Episode.title == Episode.source)
                .values(title=str(meta["title"])[:500])
            )
        if meta.get("duration"):
            values["duration"] = float(meta["duration"])
        if values:
            db.session.execute(
                update(Episode).where(Episode.id == self.episode_id).values(**values)
            )
