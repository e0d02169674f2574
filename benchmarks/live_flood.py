"""A bench worker: one stage that logs lines at a fixed rate over the real worker's event pipe.

It speaks the protocol of `services.pipeline.runner` with that module's own `EventWriter`
(JSON lines on --events-fd) and `EventLogHandler` (standard logging → `log` events), so the
lines take the production path from the pipe on. Started by `benchmarks.live_server`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time

from services.pipeline.runner import WORKER_NICENESS, EventLogHandler, EventWriter

PROGRESS_SECONDS = 0.1  # a real stage reports progress about this often (ffmpeg -progress)
PADDING = "x" * 60  # makes a line about as long as an ffmpeg or yt-dlp log line


def flood(logger: logging.Logger, emit: EventWriter, stage: int, rate: float, total: int) -> None:
    """Log `total` lines at `rate` a second, with a progress event every PROGRESS_SECONDS."""
    from services.stages.registry import STAGES

    sub_stages = STAGES[stage].sub_stages
    started = time.monotonic()
    next_progress = started
    for n in range(1, total + 1):
        delay = started + (n - 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        logger.info("flood line %d of %d %s", n, total, PADDING)
        if time.monotonic() >= next_progress:
            next_progress += PROGRESS_SECONDS
            emit(
                {
                    "type": "progress",
                    "stage": stage,
                    "sub_stage": sub_stages[0],
                    "sub_stage_index": 0,
                    "sub_stage_count": len(sub_stages),
                    "progress": round(100.0 * n / total, 2),
                    "message": f"{n} of {total} lines",
                }
            )


def main(argv: list[str] | None = None) -> int:
    """Read the spec from stdin, run one flooding stage, report it like the real worker."""
    parser = argparse.ArgumentParser(description="Clipcast bench flood worker")
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    spec = json.loads(sys.stdin.read())
    os.nice(WORKER_NICENESS)
    emit = EventWriter(args.events_fd)
    stage = int(spec["options"]["selected_stages"][0])
    handler = EventLogHandler(emit)
    handler.stage = stage
    logger = logging.getLogger("clipcast.bench.flood")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    emit({"type": "session_started", "pid": os.getpid(), "host": socket.gethostname()})
    emit({"type": "stage_started", "stage": stage})
    flood(logger, emit, stage, args.rate, round(args.rate * args.seconds))
    emit({"type": "stage_completed", "stage": stage, "outputs": {}, "fingerprint": None})
    emit({"type": "session_finished", "status": "completed"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
