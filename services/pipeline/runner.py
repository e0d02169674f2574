"""What runs in the worker process: the selected stages, in order, reporting events."""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from config.settings import parallel_jobs
from services.episodes.artifacts import artifact_exists
from services.episodes.files import EpisodeFiles
from services.pipeline.faults import describe_fault, disk_full_message, free_mb
from services.pipeline.fingerprint import stage_fingerprint
from services.pipeline.spec import WorkerSpec
from services.run.errors import StageError, StageInterrupted
from services.run.options import RunOptions
from services.stages.base import Stage, StageContext
from services.stages.registry import STAGES

HEARTBEAT_SECONDS = 5.0
# Heavy work yields the CPU to the web server (and its children inherit this), so the UI
# stays responsive on a small machine while ffmpeg saturates every core.
WORKER_NICENESS = 10
AUTOGROUP = "/proc/self/autogroup"
NEARLY_FULL_MB = 1  # a stage that fails with less free space in DATA_DIR failed for want of it
Emit = Callable[[dict], None]


class EventLogHandler(logging.Handler):
    """Sends log records of the stages to the session log as `log` events."""

    def __init__(self, emit: Emit) -> None:
        super().__init__(level=logging.INFO)
        self.emit_event = emit
        self.stage: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record."""
        try:
            message = record.getMessage()
            if record.exc_info and record.levelno >= logging.ERROR:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            self.emit_event(
                {
                    "type": "log",
                    "level": record.levelname,
                    "logger": record.name,
                    "message": message,
                    "stage": self.stage,
                    "timestamp": record.created,
                }
            )
        except Exception:  # noqa: BLE001 - logging must never break a stage
            self.handleError(record)


def run_session(spec: WorkerSpec, emit: Emit, cancel_event: threading.Event) -> str:
    """Run the spec's stages in order; return completed, failed or interrupted."""
    data_dir = Path(spec.data_dir)
    files = EpisodeFiles.for_episode(data_dir, spec.episode_id)
    files.ensure_dirs()
    options = spec.options
    # PARALLEL_JOBS is read where the work runs: a Celery worker caps its own machine's cores.
    settings = {"parallel_jobs": parallel_jobs(), **spec.settings()}
    handler = EventLogHandler(emit)
    logger = logging.getLogger("clipcast")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    status = "completed"
    try:
        for number in options.selected_stages:
            stage = STAGES[number]()
            fingerprint = stage_fingerprint(number, files, data_dir, options)
            if _unchanged(spec, stage, fingerprint, files, options):
                reason = reuse_reason(spec.previous_time(number))
                logger.info("Stage %d reused: %s", number, reason)
                emit(
                    {
                        "type": "stage_skipped",
                        "stage": number,
                        "fingerprint": fingerprint,
                        "reason": f"reused: {reason}",
                    }
                )
                continue
            handler.stage = number
            emit({"type": "stage_started", "stage": number})
            ctx = StageContext(
                stage=stage,
                files=files,
                data_dir=data_dir,
                options=options,
                episode_id=spec.episode_id,
                session_id=spec.session_id,
                emit=emit,
                settings=settings,
                cancel_event=cancel_event,
            )
            started = time.monotonic()
            logger.info("%s started", stage.name)
            try:
                ctx.check_cancelled()
                outputs = stage.run(ctx) or {}
            except StageInterrupted:
                logger.warning("%s interrupted", stage.name)
                emit(
                    {
                        "type": "stage_failed",
                        "stage": number,
                        "error": "interrupted by the user",
                        "error_type": "interrupted",
                        "recoverable": True,
                    }
                )
                return "interrupted"
            except Exception as exc:  # noqa: BLE001 - every failure is reported, never hidden
                failure = stage_failure(stage, exc, data_dir)
                if failure["error_type"] == "internal":
                    logger.exception("%s crashed", stage.name)
                else:
                    logger.error("%s failed: %s", stage.name, failure["error"])
                emit(failure)
                return "failed"
            ctx.progress(stage.sub_stages[-1], 1.0)
            release_memory()
            logger.info("%s completed in %.1f s", stage.name, time.monotonic() - started)
            emit(
                {
                    "type": "stage_completed",
                    "stage": number,
                    "outputs": _relative(outputs),
                    "fingerprint": fingerprint,
                }
            )
        return status
    finally:
        handler.stage = None
        logger.removeHandler(handler)


def stage_failure(stage: Stage, exc: Exception, data_dir: Path) -> dict:
    """Return the `stage_failed` event of an exception, naming a full disk as such.

    A tool that ran out of space may not say so; a failure with DATA_DIR all but full is
    reported as the full disk it most likely is.
    """
    fault = describe_fault(exc, data_dir)
    if fault is None and free_mb(data_dir) < NEARLY_FULL_MB:
        fault = disk_full_message(data_dir)
    if fault is not None:
        error, error_type, recoverable = fault, "disk_full", True
    elif isinstance(exc, StageError):
        error, error_type, recoverable = str(exc), exc.error_type, exc.recoverable
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        error, error_type, recoverable = f"{exc.strerror or exc}{where}", "os_error", True
    else:
        error, error_type = f"unexpected error in {stage.name}: {exc}", "internal"
        recoverable = False
    return {
        "type": "stage_failed",
        "stage": stage.number,
        "error": error,
        "error_type": error_type,
        "recoverable": recoverable,
    }


def release_memory() -> None:
    """Give the memory a finished stage freed back to the system, so the next starts small.

    Python and onnxruntime free into the C heap, which keeps the pages (300 MB after Piper
    spoke a narration); malloc_trim returns them. Only glibc has it; elsewhere this is a no-op.
    """
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reuse_reason(completed_at: str | None) -> str:
    """Say why a stage is reused, with when it last completed (UTC) when known."""
    since = ""
    if completed_at:
        try:
            when = datetime.fromisoformat(completed_at)
        except ValueError:
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            since = f" since {when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return f"inputs and options unchanged{since}"


def _unchanged(
    spec: WorkerSpec, stage: Stage, fingerprint: str, files: EpisodeFiles, options: RunOptions
) -> bool:
    """Tell whether a run may skip a stage: not forced, same fingerprint, outputs still there."""
    if not spec.skip_unchanged:
        return False
    if spec.previous_fingerprint(stage.number) != fingerprint:
        return False
    if not all(artifact_exists(key, files, options) for key in stage.outputs):
        return False
    return stage.outputs_untouched(files, options)


def _relative(outputs: dict) -> dict:
    """Keep only JSON-able output values (paths as strings)."""
    return json.loads(json.dumps(outputs, default=str))


class EventWriter:
    """Writes events as JSON lines to a file descriptor, one writer at a time."""

    def __init__(self, fd: int) -> None:
        self._stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()
        self.broken = False

    def __call__(self, event: dict) -> None:
        """Write one event; a closed reader is remembered, not raised."""
        line = json.dumps(event, default=str)
        with self._lock:
            if self.broken:
                return
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.broken = True
                # Nobody records this session any more (the server died): stop cleanly.
                os.kill(os.getpid(), signal.SIGTERM)


def _start_heartbeat(emit: Emit, stop: threading.Event) -> None:
    """Send a heartbeat event every few seconds until `stop` is set."""

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            emit({"type": "heartbeat", "timestamp": time.time()})

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()


def yield_cpu() -> None:
    """Lower this worker's CPU priority, and its session's where the kernel groups by session.

    The worker leads its own session (so an interrupt ends its whole group). With the
    kernel's autogroup scheduling a session is scheduled as one group against the server's,
    and a process's nice value only ranks it inside its group, so the group's own nice
    value (/proc/self/autogroup) is what makes ffmpeg give way to the web server.
    """
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    try:
        with open(AUTOGROUP, "w", encoding="ascii") as handle:
            handle.write(str(WORKER_NICENESS))
    except OSError:
        pass  # no autogroup scheduling here (or not allowed): the process nice value holds


def main(argv: list[str] | None = None) -> int:
    """Worker process entry: read the spec from stdin, run it, stream events to --events-fd."""
    parser = argparse.ArgumentParser(description="Clipcast pipeline worker")
    parser.add_argument("--events-fd", type=int, required=True)
    args = parser.parse_args(argv)
    spec = WorkerSpec.from_json(json.loads(sys.stdin.read()))
    yield_cpu()
    emit = EventWriter(args.events_fd)
    cancel_event = threading.Event()

    def on_terminate(_signum: int, _frame: object) -> None:
        # Raise in the main thread so `finally` blocks remove partial files before we exit.
        if not cancel_event.is_set():
            cancel_event.set()
            raise StageInterrupted("interrupted by the user")

    signal.signal(signal.SIGTERM, on_terminate)
    signal.signal(signal.SIGINT, on_terminate)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stop = threading.Event()
    emit({"type": "session_started", "pid": os.getpid(), "host": socket.gethostname()})
    _start_heartbeat(emit, stop)
    try:
        status = run_session(spec, emit, cancel_event)
    except StageInterrupted:
        status = "interrupted"
    finally:
        stop.set()
    emit({"type": "session_finished", "status": status})
    return 0


if __name__ == "__main__":
    sys.exit(main())
