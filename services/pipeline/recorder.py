"""SessionRecorder: turns worker events into database rows and contract events for a sink."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from models import Episode, LogRecord, PipelineSession, StageRun, db, utcnow
from services.atomic import read_json
from services.engines.clients.usage import add_usage
from services.episodes.files import EpisodeFiles
from services.pipeline import events as ev
from services.pipeline import payloads
from services.pipeline.events import EventSink, ProgressCoalescer

log = logging.getLogger(__name__)

LOG_FLUSH_SECONDS = 0.1
LOG_FLUSH_RECORDS = 500
PROGRESS_DB_SECONDS = 0.5


class SessionRecorder:
    """Records one session's events (state, logs with gap-free seq) and forwards them to a sink."""

    def __init__(self, session_id: str, sink: EventSink, data_dir) -> None:  # noqa: ANN001
        self.session_id = session_id
        self.sink = sink
        self.data_dir = data_dir
        self._lock = threading.RLock()
        session = db.session.get(PipelineSession, session_id)
        if session is None:
            raise LookupError(f"no session {session_id}")
        self.episode_id = session.episode_id
        self.selected = list(session.selected_stages)
        self.stages: dict[int, dict] = {
            r.stage: {
                "status": r.status,
                "progress": r.progress,
                "sub_stage": r.sub_stage,
                "sub_stage_index": r.sub_stage_index,
                "message": r.message,
            }
            for r in session.stage_runs
        }
        self.current_stage: int | None = session.current_stage
        self.started_monotonic = time.monotonic()
        last_seq = db.session.scalar(
            select(func.max(LogRecord.seq)).where(LogRecord.session_id == session_id)
        )
        self.seq = last_seq or 0
        self.finished = session.status not in ("queued", "running", "waiting_for_selection")
        self._log_buffer: list[dict] = []
        self._last_log_flush = time.monotonic()
        self._last_progress_db = 0.0
        self._progress_dirty: set[int] = set()
        self._coalescer = ProgressCoalescer()
        self._last_sub_stage: tuple[int, str | None] | None = None
        self.outputs: dict = dict(session.outputs or {})

    # ------------------------------------------------------------------ public
    def handle(self, event: dict) -> None:
        """Apply one worker event."""
        with self._lock:
            kind = event.get("type")
            handler = getattr(self, f"_on_{kind}", None)
            if handler is None:
                log.warning("unknown worker event %r", kind)
                return
            handler(event)
            if kind != "log" and kind != "progress":
                self.flush()
            elif len(self._log_buffer) >= LOG_FLUSH_RECORDS:
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
                self._progress_dirty
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
            if self.finished:
                return
            self.log("ERROR" if status == "failed" else "WARNING", reason)
            running = [n for n, s in self.stages.items() if s["status"] == "running"]
            for n in running:
                self._set_stage(
                    n,
                    status="failed" if status == "failed" else "interrupted",
                    error=reason,
                    finished=True,
                )
            self._on_session_finished(
                {"type": "session_finished", "status": status, "error": reason}
            )
            self.flush()

    # ------------------------------------------------------------------ events
    def _on_session_started(self, event: dict) -> None:
        self._update_session(
            status="running",
            started_at=utcnow(),
            worker_pid=event.get("pid"),
            worker_host=event.get("host"),
            heartbeat_at=utcnow(),
        )

    def _on_heartbeat(self, _event: dict) -> None:
        self._update_session(heartbeat_at=utcnow())

    def _on_waiting(self, event: dict) -> None:
        number = int(event["stage"])
        self.stages.setdefault(number, {})["message"] = event.get("reason")
        self._progress_dirty.add(number)
        self._update_session(status="waiting_for_selection")
        self.sink.emit(
            ev.WAITING_EVENT,
            payloads.waiting_payload(self.session_id, self.episode_id, number, event.get("reason")),
        )
        self._send_progress(self._progress_payload(number, "running"), force=True)

    def _on_resumed(self, event: dict) -> None:
        self._update_session(status="running")
        self._send_progress(self._progress_payload(int(event["stage"]), "running"), force=True)

    def _on_stage_started(self, event: dict) -> None:
        number = int(event["stage"])
        previous = self.current_stage
        self.current_stage = number
        self._set_stage(number, status="running", progress=0.0, started=True)
        self._update_session(current_stage=number, status="running")
        self.sink.emit(
            ev.TRANSITION_EVENT, payloads.transition_payload(self.session_id, previous, number)
        )
        self._send_progress(self._progress_payload(number, "running"), force=True)

    def _on_progress(self, event: dict) -> None:
        number = int(event["stage"])
        state = self.stages.setdefault(number, {})
        state.update(
            progress=max(float(state.get("progress") or 0.0), float(event.get("progress") or 0.0)),
            sub_stage=event.get("sub_stage"),
            sub_stage_index=event.get("sub_stage_index"),
            message=event.get("message") or state.get("message"),
        )
        self._progress_dirty.add(number)
        payload = self._progress_payload(number, "running", eta=event.get("eta_seconds"))
        payload["sub_stage_count"] = event.get("sub_stage_count", payload["sub_stage_count"])
        # A new sub-stage is a state change every client should see; plain progress is coalesced.
        new_sub_stage = (number, payload["sub_stage"]) != self._last_sub_stage
        self._last_sub_stage = (number, payload["sub_stage"])
        if new_sub_stage:
            self._drain_progress()
            self._send_progress(payload, force=True)
            return
        sent = self._coalescer.offer(payload)
        if sent is not None:
            self._send_progress(sent)

    def _on_stage_completed(self, event: dict) -> None:
        number = int(event["stage"])
        self._drain_progress()
        self._set_stage(
            number,
            status="completed",
            progress=100.0,
            finished=True,
            fingerprint=event.get("fingerprint"),
        )
        self.outputs.update(event.get("outputs") or {})
        if number == 1:
            self._update_episode_from_metadata()
        self._send_progress(self._progress_payload(number, "completed"), force=True)

    def _on_stage_skipped(self, event: dict) -> None:
        number = int(event["stage"])
        self._set_stage(
            number,
            status="skipped",
            message=event.get("reason"),
            finished=True,
            fingerprint=event.get("fingerprint"),
        )
        self._send_progress(self._progress_payload(number, "skipped"), force=True)

    def _on_stage_failed(self, event: dict) -> None:
        number = int(event["stage"])
        self._drain_progress()
        error = event.get("error") or "failed"
        status = "interrupted" if event.get("error_type") == "interrupted" else "failed"
        self._set_stage(number, status=status, error=error, finished=True)
        if status == "failed":
            self.sink.emit(ev.ERROR_EVENT, payloads.error_payload(self.session_id, number, event))
        self._send_progress(self._progress_payload(number, status), force=True)

    def _on_usage(self, event: dict) -> None:
        self.outputs["token_usage"] = add_usage(self.outputs.get("token_usage"), event)
        self._update_session(outputs=self.outputs)

    def _on_log(self, event: dict) -> None:
        self.seq += 1
        self._log_buffer.append(
            {
                "session_id": self.session_id,
                "seq": self.seq,
                "level": str(event.get("level", "INFO")).upper(),
                "message": str(event.get("message", "")),
                "timestamp": float(event.get("timestamp") or time.time()),
                "logger": str(event.get("logger", "")),
                "stage": event.get("stage"),
            }
        )

    def _on_session_finished(self, event: dict) -> None:
        if self.finished:
            return
        self._drain_progress()
        status = event.get("status", "completed")
        self.finished = True
        files = EpisodeFiles.for_episode(self.data_dir, self.episode_id)
        if files.final_video.exists() and "final_video" not in self.outputs:
            self.outputs["final_video"] = files.relative(files.final_video)
        error = event.get("error")
        failed = [n for n, s in self.stages.items() if s.get("status") == "failed"]
        if failed and not error:
            error = self.stages[failed[0]].get("error")
        self._update_session(
            status=status,
            finished_at=utcnow(),
            error=error,
            overall_progress=self._overall(),
            outputs=self.outputs,
        )
        completed = [
            n for n in self.selected if self.stages.get(n, {}).get("status") == "completed"
        ]
        self._pending_completion = payloads.completion_payload(
            self.session_id,
            self.episode_id,
            status,
            completed,
            failed[0] if failed else None,
            error,
            time.monotonic() - self.started_monotonic,
            self.outputs,
        )

    # ------------------------------------------------------------------ helpers
    def flush(self) -> None:
        """Commit buffered logs and state, then emit the logs (so a reader never sees a gap)."""
        records = self._log_buffer
        self._log_buffer = []
        if records:
            db.session.execute(
                LogRecord.__table__.insert(),
                [dict(r, timestamp=datetime.fromtimestamp(r["timestamp"], UTC)) for r in records],
            )
        if self._progress_dirty:
            self._write_progress()
        db.session.commit()
        self._last_log_flush = time.monotonic()
        for record in records:
            self.sink.emit(
                ev.LOG_EVENT, dict(record, timestamp=payloads.iso_timestamp(record["timestamp"]))
            )
        completion = getattr(self, "_pending_completion", None)
        if completion is not None:
            self._pending_completion = None
            self.sink.emit(ev.COMPLETION_EVENT, completion)

    def _write_progress(self) -> None:
        for number in self._progress_dirty:
            state = self.stages.get(number, {})
            db.session.execute(
                update(StageRun)
                .where(StageRun.session_id == self.session_id, StageRun.stage == number)
                .values(
                    progress=state.get("progress", 0.0),
                    sub_stage=state.get("sub_stage"),
                    sub_stage_index=state.get("sub_stage_index"),
                    message=state.get("message"),
                )
            )
        self._progress_dirty.clear()
        self._update_session(overall_progress=self._overall())
        self._last_progress_db = time.monotonic()

    def _set_stage(
        self,
        number: int,
        *,
        status: str,
        progress: float | None = None,
        error: str | None = None,
        message: str | None = None,
        started: bool = False,
        finished: bool = False,
        fingerprint: str | None = None,
    ) -> None:
        state = self.stages.setdefault(number, {})
        state["status"] = status
        if progress is not None:
            state["progress"] = progress
        if error is not None:
            state["error"] = error
        values: dict = {"status": status, "progress": state.get("progress", 0.0)}
        if error is not None:
            values["error"] = error
        if message is not None:
            values["message"] = message
        if started:
            values["started_at"] = utcnow()
            values["error"] = None
        if finished:
            values["finished_at"] = utcnow()
        if fingerprint is not None:
            values["fingerprint"] = fingerprint
        db.session.execute(
            update(StageRun)
            .where(StageRun.session_id == self.session_id, StageRun.stage == number)
            .values(**values)
        )
        self._progress_dirty.add(number)

    def _overall(self) -> float:
        if not self.selected:
            return 0.0
        total = 0.0
        for n in self.selected:
            state = self.stages.get(n, {})
            done = state.get("status") in ("completed", "skipped")
            total += 100.0 if done else float(state.get("progress") or 0.0)
        return round(total / len(self.selected), 2)

    def _progress_payload(self, number: int, status: str, eta: float | None = None) -> dict:
        return payloads.progress_payload(
            self.session_id,
            self.episode_id,
            number,
            self.stages.get(number, {}),
            status,
            self._overall(),
            eta,
        )

    def _update_session(self, **values: object) -> None:
        """Write columns of this session's row (committed by the next flush)."""
        db.session.execute(
            update(PipelineSession).where(PipelineSession.id == self.session_id).values(**values)
        )

    def _send_progress(self, payload: dict, force: bool = False) -> None:
        if force:
            self._coalescer.drain()
        for name in ev.PROGRESS_EVENTS:
            self.sink.emit(name, payload)

    def _drain_progress(self) -> None:
        pending = self._coalescer.drain()
        if pending is not None:
            self._send_progress(pending)

    def _update_episode_from_metadata(self) -> None:
        files = EpisodeFiles.for_episode(self.data_dir, self.episode_id)
        try:
            meta = read_json(files.metadata)
        except (OSError, ValueError):
            return
        values = {}
        # An upload keeps the name the user gave it; a URL takes the video's own title.
        if meta.get("title") and meta.get("source_kind") == "url":
            values["title"] = str(meta["title"])[:500]
        if meta.get("duration"):
            values["duration"] = float(meta["duration"])
        if values:
            db.session.execute(
                update(Episode).where(Episode.id == self.episode_id).values(**values)
            )
