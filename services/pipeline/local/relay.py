"""Worker processes: start one in its own process group, pump its events, end its group."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from services.pipeline.spec import WorkerSpec

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TERM_GRACE_SECONDS = 1.5
TICK_SECONDS = 0.1


WORKER_MODULE = "services.pipeline.runner"


def spawn_worker(
    spec: WorkerSpec, log_path: Path, module: str = WORKER_MODULE, extra_args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, int]:
    """Start the worker process on a spec; return it and the read end of its event pipe.

    `module` and `extra_args` name another worker speaking the same pipe protocol (the
    bench's log flood uses this).
    """
    read_fd, write_fd = os.pipe()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_path, "ab") as worker_log:
            process = subprocess.Popen(
                [sys.executable, "-m", module, "--events-fd", str(write_fd), *extra_args],
                stdin=subprocess.PIPE,
                stdout=worker_log,
                stderr=worker_log,
                pass_fds=(write_fd,),
                start_new_session=True,  # its own process group: interrupt reaches ffmpeg too
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    assert process.stdin is not None
    process.stdin.write(json.dumps(spec.to_json()).encode())
    process.stdin.close()
    return process, read_fd


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


def pump_events(events_fd: int, handle: Callable[[dict], None], tick: Callable[[], None]) -> None:
    """Pass each JSON-line event to `handle` until the pipe closes; `tick` a few times a second."""
    selector = selectors.DefaultSelector()
    selector.register(events_fd, selectors.EVENT_READ)
    buffer = b""
    try:
        while True:
            ready = selector.select(timeout=TICK_SECONDS)
            if ready:
                chunk = os.read(events_fd, 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        handle(json.loads(line))
            tick()
    finally:
        selector.close()
