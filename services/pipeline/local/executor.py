"""LocalExecutor: one worker process per session, in its own process group, relayed by a thread.

At most MAX_CONCURRENT_RUNS workers run at once; later sessions wait `queued`, in order.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from config.settings import max_concurrent_runs
from models import db
from services.atomic import remove_partials
from services.episodes.files import EpisodeFiles
from services.pipeline.ending import end_until_recorded
from services.pipeline.events import EventSink
from services.pipeline.faults import describe_fault
from services.pipeline.local.relay import end_process_group, pump_events, spawn_worker
from services.pipeline.recorder import SessionRecorder
from services.pipeline.spec import WorkerSpec

log = logging.getLogger(__name__)


@dataclass
class WorkerHandle:
    """A running worker process and what we know about it."""

    session_id: str
    process: subprocess.Popen
    events_fd: int
    interrupted: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class QueuedRun:
    """A submitted session waiting for a free place; `done` is set when it ends."""

    session_id: str
    spec: WorkerSpec
    done: threading.Event = field(default_factory=threading.Event)


class LocalExecutor:
    """Runs each session in a child process of this machine."""

    name = "local"

    def __init__(self, app: Flask, sink: EventSink) -> None:
        self.app = app
        self.sink = sink
        self._handles: dict[str, WorkerHandle] = {}
        self._queue: list[QueuedRun] = []  # oldest first
        self._lock = threading.Lock()
        self.max_runs = max(1, int(app.config.get("MAX_CONCURRENT_RUNS") or max_concurrent_runs()))

    def submit(self, session_id: str, spec: WorkerSpec) -> None:
        """Start a session's worker and relay now, or queue it while every place is taken."""
        run = QueuedRun(session_id, spec)
        with self._lock:
            if len(self._handles) >= self.max_runs or self._queue:
                self._queue.append(run)
                log.info("session %s queued at place %d", session_id, len(self._queue))
                return
            self._spawn(run)

    def _spawn(self, run: QueuedRun) -> None:
        """Start a worker process and the thread that relays its events (lock held)."""
        log_path = Path(run.spec.data_dir) / "logs" / f"worker-{run.session_id}.log"
        process, read_fd = spawn_worker(run.spec, log_path)
        handle = WorkerHandle(run.session_id, process, read_fd, done=run.done)
        self._handles[run.session_id] = handle
        threading.Thread(
            target=self._relay, args=(handle,), name=f"relay-{run.session_id[:8]}", daemon=True
        ).start()

    def _start_queued(self) -> None:
        """Start queued sessions, oldest first, while places are free; end any that cannot."""
        while True:
            with self._lock:
                if not self._queue or len(self._handles) >= self.max_runs:
                    return
                run = self._queue.pop(0)
                try:
                    self._spawn(run)
                    continue
                except Exception as exc:  # noqa: BLE001 - ended below, the queue goes on
                    failure = exc
            log.error("queued session %s could not start: %s", run.session_id, failure)
            self._end_unstarted(run, "failed", f"could not start the worker process: {failure}")

    def _end_unstarted(
        self, run: QueuedRun, status: str, reason: str, max_tries: int | None = None
    ) -> None:
        """Record the end of a session that never had a worker."""
        data_dir = Path(self.app.config["DATA_DIR"])
        try:
            with self.app.app_context():
                try:
                    end_until_recorded(
                        run.session_id, self.sink, data_dir, status, reason, max_tries=max_tries
                    )
                finally:
                    db.session.remove()
        finally:
            run.done.set()

    def queue_position(self, session_id: str) -> int | None:
        """Return a queued session's place in line (1 = next to start), None when not queued."""
        with self._lock:
            ids = [run.session_id for run in self._queue]
        return ids.index(session_id) + 1 if session_id in ids else None

    def interrupt(self, session_id: str) -> bool:
        """End a session: drop it from the queue, or end its process group; False if not here."""
        with self._lock:
            queued = next((run for run in self._queue if run.session_id == session_id), None)
            if queued is not None:
                self._queue.remove(queued)
            handle = self._handles.get(session_id)
        if queued is not None:
            reason = "interrupted by the user before it started"
            self._end_unstarted(queued, "interrupted", reason, max_tries=3)
            return True
        if handle is None:
            return False
        handle.interrupted = True
        end_process_group(handle.process)
        handle.done.wait(timeout=3.0)
        return True

    def is_running(self, session_id: str) -> bool:
        """Tell whether this executor runs (or has queued) a session now."""
        with self._lock:
            return session_id in self._handles or any(
                run.session_id == session_id for run in self._queue
            )

    def worker_alive(self, session_id: str) -> bool:
        """Tell whether a session's worker process still runs (its relay may outlive it)."""
        with self._lock:
            handle = self._handles.get(session_id)
        return handle is not None and handle.process.poll() is None

    def wait(self, session_id: str, timeout: float | None = None) -> bool:
        """Wait until a (queued or running) session has ended here; return whether it did."""
        with self._lock:
            handle = self._handles.get(session_id)
            queued = [run.done for run in self._queue if run.session_id == session_id]
        done = handle.done if handle is not None else (queued[0] if queued else None)
        return True if done is None else done.wait(timeout)

    def _relay(self, handle: WorkerHandle) -> None:
        """Read the worker's events until it exits; record and forward each."""
        try:
            self._relay_in_context(handle)
        finally:
            os.close(handle.events_fd)
            with self._lock:
                self._handles.pop(handle.session_id, None)
            handle.done.set()
            self._start_queued()

    def _relay_in_context(self, handle: WorkerHandle) -> None:
        """Relay inside an app context; never leave the session marked running."""
        data_dir = Path(self.app.config["DATA_DIR"])
        with self.app.app_context():
            try:
                self._record(handle, data_dir)
            except Exception as exc:  # noqa: BLE001 - a full disk, a locked database, a bug
                log.exception("relay of session %s failed", handle.session_id)
                # Nobody records the worker any more: stop it, then end the session for sure.
                end_process_group(handle.process, grace=0.5)
                reason = describe_fault(exc, data_dir, self.app.config["DB_BUSY_TIMEOUT"])
                end_until_recorded(
                    handle.session_id,
                    self.sink,
                    data_dir,
                    "failed",
                    reason or f"internal error while recording the session: {exc}",
                )
            finally:
                db.session.remove()

    def _record(self, handle: WorkerHandle, data_dir: Path) -> None:
        """Record the worker's events until it exits; end a session it left unfinished."""
        recorder = SessionRecorder(handle.session_id, self.sink, data_dir)
        pump_events(handle.events_fd, recorder.handle, recorder.tick)
        returncode = handle.process.wait()
        if not recorder.finished:
            if handle.interrupted:
                recorder.finish_abnormally("interrupted", "interrupted by the user")
            else:
                # Killed from outside (OOM killer, kill -9): end its orphaned children,
                # drop half-written files; finished stages are intact for resume.
                end_process_group(handle.process, grace=0.5)
                remove_partials(EpisodeFiles.for_episode(data_dir, recorder.episode_id).root)
                recorder.finish_abnormally(
                    "interrupted",
                    f"the worker process stopped unexpectedly (exit code {returncode}); "
                    "earlier stages are kept: resume the session to continue",
                )
        recorder.flush()
