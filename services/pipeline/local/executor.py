"""LocalExecutor: one worker process per session, in its own process group, relayed by a thread."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

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


class LocalExecutor:
    """Runs each session in a child process of this machine."""

    name = "local"

    def __init__(self, app: Flask, sink: EventSink) -> None:
        self.app = app
        self.sink = sink
        self._handles: dict[str, WorkerHandle] = {}
        self._lock = threading.Lock()

    def submit(self, session_id: str, spec: WorkerSpec) -> None:
        """Start the worker process of a session and the thread that relays its events."""
        log_path = Path(spec.data_dir) / "logs" / f"worker-{session_id}.log"
        process, read_fd = spawn_worker(spec, log_path)
        handle = WorkerHandle(session_id, process, read_fd)
        with self._lock:
            self._handles[session_id] = handle
        threading.Thread(
            target=self._relay, args=(handle,), name=f"relay-{session_id[:8]}", daemon=True
        ).start()

    def interrupt(self, session_id: str) -> bool:
        """End a session's process group; return False if it is not running here."""
        with self._lock:
            handle = self._handles.get(session_id)
        if handle is None:
            return False
        handle.interrupted = True
        end_process_group(handle.process)
        handle.done.wait(timeout=3.0)
        return True

    def is_running(self, session_id: str) -> bool:
        """Tell whether this executor runs a session now."""
        with self._lock:
            return session_id in self._handles

    def worker_alive(self, session_id: str) -> bool:
        """Tell whether a session's worker process still runs (its relay may outlive it)."""
        with self._lock:
            handle = self._handles.get(session_id)
        return handle is not None and handle.process.poll() is None

    def wait(self, session_id: str, timeout: float | None = None) -> bool:
        """Wait until a session's relay has finished; return whether it did."""
        with self._lock:
            handle = self._handles.get(session_id)
        return True if handle is None else handle.done.wait(timeout)

    def _relay(self, handle: WorkerHandle) -> None:
        """Read the worker's events until it exits; record and forward each."""
        try:
            self._relay_in_context(handle)
        finally:
            os.close(handle.events_fd)
            with self._lock:
                self._handles.pop(handle.session_id, None)
            handle.done.set()

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
