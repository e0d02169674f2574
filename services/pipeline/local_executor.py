"""LocalExecutor: one worker process per session, in its own process group, relayed by a thread."""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from models import db
from services.pipeline.events import EventSink
from services.pipeline.recorder import SessionRecorder

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TERM_GRACE_SECONDS = 1.5
TICK_SECONDS = 0.1


@dataclass
class WorkerHandle:
    """A running worker process and what we know about it."""

    session_id: str
    process: subprocess.Popen
    events_fd: int
    interrupted: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def _group_alive(pgid: int) -> bool:
    """Tell whether any process of a process group still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_process_group(process: subprocess.Popen, grace: float = TERM_GRACE_SECONDS) -> None:
    """SIGTERM a worker's whole process group, then SIGKILL what is left after `grace` seconds."""
    pgid = process.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class LocalExecutor:
    """Runs each session in a child process of this machine."""

    name = "local"

    def __init__(self, app: Flask, sink: EventSink) -> None:
        self.app = app
        self.sink = sink
        self._handles: dict[str, WorkerHandle] = {}
        self._lock = threading.Lock()

    def submit(self, session_id: str, spec: dict) -> None:
        """Start the worker process of a session and the thread that relays its events."""
        read_fd, write_fd = os.pipe()
        log_dir = Path(spec["data_dir"]) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"worker-{session_id}.log", "ab") as worker_log:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.pipeline.worker", "--events-fd", str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=worker_log,
                stderr=worker_log,
                pass_fds=(write_fd,),
                start_new_session=True,  # its own process group: interrupt reaches ffmpeg too
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        os.close(write_fd)
        assert process.stdin is not None
        process.stdin.write(json.dumps(spec).encode())
        process.stdin.close()
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
        with self.app.app_context():
            recorder = SessionRecorder(handle.session_id, self.sink, self.app.config["DATA_DIR"])
            try:
                self._pump(handle, recorder)
                returncode = handle.process.wait()
                if not recorder.finished:
                    if handle.interrupted:
                        recorder.finish_abnormally("interrupted", "interrupted by the user")
                    else:
                        recorder.finish_abnormally(
                            "failed",
                            f"the worker process stopped unexpectedly (exit code {returncode}); "
                            "earlier stages are kept: resume the session to continue",
                        )
                recorder.flush()
            except Exception:  # noqa: BLE001 - a relay bug must not leave the session running
                log.exception("relay of session %s failed", handle.session_id)
                db.session.rollback()
                recorder.finish_abnormally("failed", "internal error while recording the session")
            finally:
                db.session.remove()

    @staticmethod
    def _pump(handle: WorkerHandle, recorder: SessionRecorder) -> None:
        """Move events from the pipe to the recorder, ticking it a few times a second."""
        selector = selectors.DefaultSelector()
        selector.register(handle.events_fd, selectors.EVENT_READ)
        buffer = b""
        try:
            while True:
                ready = selector.select(timeout=TICK_SECONDS)
                if ready:
                    chunk = os.read(handle.events_fd, 65536)
                    if not chunk:
                        break
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            recorder.handle(json.loads(line))
                recorder.tick()
        finally:
            selector.close()
