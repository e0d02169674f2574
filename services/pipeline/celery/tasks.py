"""The Celery task of the distributed mode: run one stage of a session, then queue the next.

A session runs stage by stage: the web process queues the task of its first stage; each task
claims its stage in the database, runs `services.pipeline.runner` on it (the same entry as the
local executor, in its own process group), relays the events through a `SessionRecorder` to the
database and the Socket.IO message queue, and queues the task of the next stage on that stage's
queue.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC
from pathlib import Path

from celery import shared_task
from flask import Flask, current_app
from sqlalchemy import func, update

from models import PipelineSession, db, utcnow
from models.session import ACTIVE_STATUSES
from services.pipeline.celery import claims
from services.pipeline.celery.queue_settings import NEXT_STAGE_RETRY_POLICY, stage_queue
from services.pipeline.events import EventSink, SocketIOSink
from services.pipeline.local.relay import end_process_group, pump_events, spawn_worker
from services.pipeline.recorder import SessionRecorder
from services.pipeline.spec import WorkerSpec
from services.stages.registry import STAGES

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how often a relay looks for an interrupt request
USER_INTERRUPT = "interrupted by the user"
RESUMABLE = "earlier stages are kept: resume the session to continue"


class NullSink:
    """Drops events (no SOCKETIO_MESSAGE_QUEUE: the database still records everything)."""

    def emit(self, event: str, payload: dict) -> None:
        """Drop one event."""


_emitters: dict[int, EventSink] = {}


def worker_sink(config: dict) -> EventSink:
    """Return this process's sink: a write-only Socket.IO emitter on the message queue."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url:
        return NullSink()
    pid = os.getpid()  # one emitter per pool process; a forked child builds its own
    if pid not in _emitters:
        from flask_socketio import SocketIO

        _emitters.clear()
        _emitters[pid] = SocketIOSink(SocketIO(message_queue=url, async_mode="threading"))
    return _emitters[pid]


class StageRecorder(SessionRecorder):
    """Records one stage of a distributed session, which goes on after the stage ends."""

    def __init__(self, session_id: str, sink: EventSink, data_dir: Path, node: str) -> None:
        super().__init__(session_id, sink, data_dir)
        self.node = node
        started = db.session.get(PipelineSession, session_id).started_at
        if started is not None:  # the completion event counts from the first stage
            started = started if started.tzinfo else started.replace(tzinfo=UTC)
            self.started_monotonic -= max(0.0, (utcnow() - started).total_seconds())

    def write_session_started(self, values: dict) -> None:
        """Record the stage's worker: the session started with its first stage, on any node."""
        db.session.execute(
            update(PipelineSession)
            .where(
                PipelineSession.id == self.session_id,
                PipelineSession.status.in_(ACTIVE_STATUSES),
            )
            .values(
                status="running",
                started_at=func.coalesce(PipelineSession.started_at, utcnow()),
                worker_pid=values.get("worker_pid"),
                worker_host=self.node,
                heartbeat_at=utcnow(),
            )
        )


class StageRelay:
    """Runs one claimed stage in a worker process and relays its events."""

    def __init__(
        self, app: Flask, session_id: str, stage: int, spec: WorkerSpec, node: str, last: bool
    ) -> None:
        self.app = app
        self.session_id = session_id
        self.stage = stage
        self.spec = spec
        self.node = node
        self.last = last
        self.data_dir = Path(app.config["DATA_DIR"])
        self.sink = worker_sink(app.config)
        self.outcome: str | None = None  # the status the worker process reported
        self.stop: str | None = None  # "interrupt" (asked to) or "ended" (someone else ended it)
        self._next_poll = 0.0

    def end(self, status: str, reason: str) -> str:
        """End the session as `status` unless it already ended; return the status."""
        claims.end_session(self.session_id, self.sink, self.data_dir, status, reason)
        return status

    def run(self, queue: str | None) -> str:
        """Run the stage to its end; return completed, failed, interrupted or ended."""
        recorder = StageRecorder(self.session_id, self.sink, self.data_dir, self.node)
        name = STAGES[self.stage].name
        recorder.log("INFO", f"{name} runs on worker {self.node} (queue {queue})", self.stage)
        spec = self.spec.for_stage(self.stage, self.data_dir)  # this machine's DATA_DIR mount
        process = events_fd = None
        try:
            log_path = self.data_dir / "logs" / f"worker-{self.session_id}.log"
            process, events_fd = spawn_worker(spec, log_path)
            pump_events(
                events_fd,
                lambda event: self._handle(recorder, event),
                lambda: self._tick(recorder, process),
            )
            return self._conclude(recorder, process.wait())
        except Exception:  # noqa: BLE001 - a relay bug must not leave the session running
            log.exception("relay of session %s stage %s failed", self.session_id, self.stage)
            db.session.rollback()
            if process is not None:
                end_process_group(process)
            return self.end("failed", f"internal error while running {name} on {self.node}")
        finally:
            if events_fd is not None:
                os.close(events_fd)

    def _handle(self, recorder: StageRecorder, event: dict) -> None:
        """Record one event; a completed stage that is not the last leaves the session running."""
        if self.stop == "ended":
            return
        if event.get("type") == "session_finished":
            self.outcome = event.get("status", "completed")
            if self.outcome == "completed" and not self.last:
                recorder.flush()
                return
        recorder.handle(event)

    def _tick(self, recorder: StageRecorder, process) -> None:  # noqa: ANN001
        """Flush what is due; every POLL_SECONDS, end the process group if asked to stop."""
        if self.stop == "ended":
            return
        recorder.tick()
        now = time.monotonic()
        if self.stop or now < self._next_poll:
            return
        self._next_poll = now + POLL_SECONDS
        status, interrupt = claims.session_state(self.session_id)
        if status not in ACTIVE_STATUSES:
            # Ended elsewhere (the sweeper, a deleted episode): record nothing more.
            self.stop, recorder.finished = "ended", True
        elif interrupt:
            self.stop = "interrupt"
        else:
            return
        # In a thread: the pump keeps reading, so the worker can report its interruption.
        threading.Thread(target=end_process_group, args=(process,), daemon=True).start()

    def _conclude(self, recorder: StageRecorder, returncode: int) -> str:
        """Decide how the stage ended once its worker process has exited."""
        if self.stop == "ended":
            return claims.ENDED
        recorder.flush()
        if self.outcome is None:
            recorder.finished = True
            if self.stop == "interrupt":
                return self.end("interrupted", USER_INTERRUPT)
            return self.end(
                "failed",
                f"the worker process stopped unexpectedly (exit code {returncode}) on "
                f"{self.node}; {RESUMABLE}",
            )
        if self.outcome == "completed" and not self.last:
            if self.stop == "interrupt" or claims.session_state(self.session_id)[1]:
                return self.end("interrupted", USER_INTERRUPT)
        return self.outcome


@shared_task(name="clipcast.run_stage", bind=True)
def run_stage(self, session_id: str, index: int, spec_data: dict) -> str:  # noqa: ANN001
    """Run the `index`-th selected stage of a session on this worker, then queue the next."""
    app = current_app._get_current_object()
    spec = WorkerSpec.from_json(spec_data)
    stages = spec.selected_stages
    stage = stages[index]
    node = self.request.hostname or socket.gethostname()
    queue = (self.request.delivery_info or {}).get("routing_key")
    relay = StageRelay(app, session_id, stage, spec, node, last=index == len(stages) - 1)
    deliveries = int(app.config.get("CELERY_MAX_DELIVERIES", 3))
    outcome = claims.claim_stage(session_id, stage, node, deliveries)
    if outcome == claims.CLAIMED:
        outcome = relay.run(queue)
    elif outcome == claims.INTERRUPT:
        outcome = relay.end("interrupted", USER_INTERRUPT)
    elif outcome == claims.EXHAUSTED:
        outcome = relay.end(
            "failed",
            f"{STAGES[stage].name} was handed to workers {deliveries} times and none finished "
            f"it (a worker keeps dying on it: out of memory?); {RESUMABLE}",
        )
    log.info("session %s stage %s on %s: %s", session_id, stage, node, outcome)
    if outcome in ("completed", claims.DONE) and index + 1 < len(stages):
        try:
            queue_stage(app.config, session_id, index + 1, spec, NEXT_STAGE_RETRY_POLICY)
        except Exception as exc:  # noqa: BLE001 - the broker stayed unreachable
            log.exception("could not queue the next stage of session %s", session_id)
            nxt = STAGES[stages[index + 1]].name
            return relay.end("interrupted", f"could not queue {nxt} ({exc}); {RESUMABLE}")
    return outcome


def queue_stage(
    config: dict, session_id: str, index: int, spec: WorkerSpec, retry_policy: dict
) -> None:
    """Send the task of the `index`-th selected stage of a session to that stage's queue."""
    stage = spec.selected_stages[index]
    run_stage.apply_async(
        (session_id, index, spec.to_json()),
        queue=stage_queue(config, stage),
        retry=True,
        retry_policy=retry_policy,
    )
