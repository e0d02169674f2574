"""CeleryExecutor: hands sessions to Celery workers and ends those whose worker went silent."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import Flask

from models import db
from models.session import ACTIVE_STATUSES
from services.pipeline.celery import claims
from services.pipeline.celery.app import celery_init_app
from services.pipeline.celery.queue_settings import SUBMIT_RETRY_POLICY
from services.pipeline.celery.tasks import queue_stage
from services.pipeline.controller import PipelineError
from services.pipeline.events import EventSink
from services.pipeline.spec import WorkerSpec

log = logging.getLogger(__name__)

INTERRUPT_WAIT_SECONDS = 10.0
POLL_SECONDS = 0.1


class CeleryExecutor:
    """Queues each session's stages for Celery workers on any machine sharing DATA_DIR."""

    name = "celery"

    def __init__(self, app: Flask, sink: EventSink, sweep: bool = True) -> None:
        self.app = app
        self.sink = sink
        self.celery = celery_init_app(app)
        self.heartbeat_timeout = float(app.config.get("WORKER_HEARTBEAT_TIMEOUT", 30.0))
        self._seen: dict[str, tuple[object, float]] = {}
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        if sweep:
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="clipcast-sweeper", daemon=True
            )
            self._sweeper.start()

    @property
    def data_dir(self) -> Path:
        """Return DATA_DIR."""
        return Path(self.app.config["DATA_DIR"])

    def submit(self, session_id: str, spec: WorkerSpec) -> None:
        """Queue the task of the session's first stage; fail the session if Redis is unreachable."""
        try:
            queue_stage(self.app.config, session_id, 0, spec, SUBMIT_RETRY_POLICY)
        except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike
            log.exception("could not queue session %s", session_id)
            reason = f"the task queue (CELERY_BROKER_URL) is unreachable: {exc}"
            claims.end_session(session_id, self.sink, self.data_dir, "failed", reason)
            raise PipelineError(f"{reason}; start Redis and try again", status=503) from exc

    def interrupt(self, session_id: str) -> bool:
        """Ask the session's worker to stop and wait (bounded) until the session has ended."""
        if not claims.request_interrupt(session_id):
            return False
        deadline = time.monotonic() + INTERRUPT_WAIT_SECONDS
        while time.monotonic() < deadline:
            if claims.session_state(session_id)[0] not in ACTIVE_STATUSES:
                return True
            # Queued or between stages: no worker holds it, so end it here.
            if claims.end_if_unclaimed(
                session_id, self.sink, self.data_dir, "interrupted by the user"
            ):
                return True
            time.sleep(POLL_SECONDS)
        # A worker holds it but does not answer: it is gone, and the sweeper will end the session.
        return True

    def is_running(self, session_id: str) -> bool:
        """Tell whether a session is queued or running on some worker."""
        return claims.session_state(session_id)[0] in ACTIVE_STATUSES

    def wait(self, session_id: str, timeout: float | None = None) -> bool:
        """Wait until a session has ended; return whether it did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_running(session_id):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.25)
        return True

    def sweep(self) -> list[str]:
        """End sessions whose worker sent no heartbeat for WORKER_HEARTBEAT_TIMEOUT seconds."""
        now = time.monotonic()
        seen: dict[str, tuple[object, float]] = {}
        ended = []
        for session_id, heartbeat in claims.running_heartbeats().items():
            last = self._seen.get(session_id)
            # Silence is measured on this process's clock: the workers' clocks may differ.
            if last is None or last[0] != heartbeat:
                seen[session_id] = (heartbeat, now)
                continue
            seen[session_id] = last
            silent_for = now - last[1]
            if silent_for >= self.heartbeat_timeout and claims.end_if_silent(
                session_id, heartbeat, silent_for, self.sink, self.data_dir
            ):
                ended.append(session_id)
        self._seen = seen
        return ended

    def close(self) -> None:
        """Stop the sweeper thread (a worker process does not sweep)."""
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
            self._sweeper = None

    def _sweep_forever(self) -> None:
        """Sweep a few times per heartbeat timeout until closed."""
        interval = max(0.5, min(5.0, self.heartbeat_timeout / 4))
        while not self._stop.wait(interval):
            with self.app.app_context():
                try:
                    self.sweep()
                except Exception:  # noqa: BLE001 - a database hiccup must not end the sweeper
                    log.exception("sweeping silent sessions failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
