"""The server `benchmarks.live` measures: `python app.py`, plus two bench-only changes made here.

1. Every Socket.IO event gets an extra key `emitted_at` (unix time, float) taken in the
   Socket.IO sink just before `socketio.emit`, so a client on this machine can tell the time
   from the server's emit to its own receive. Clients ignore unknown keys; API.md allows
   added fields.
2. With `--flood-rate`, sessions run `benchmarks.live_flood` (a worker that logs at a fixed
   rate over the same event pipe) instead of the real stages; everything after the pipe
   (relay thread, SessionRecorder, database, Socket.IO) is the production code.

Both are monkeypatches applied in this process only, so production code carries no bench
hooks. SIGUSR1 dumps every thread's stack into the server's output (to see where a slow
answer waits). Usage:
    python -m benchmarks.live_server --port 5123 [--flood-rate 2000 --flood-seconds 30]
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
import time
from collections.abc import Callable
from functools import partial

from services.pipeline.events import SocketIOSink
from services.pipeline.local import executor as local_executor
from services.pipeline.local.relay import spawn_worker


def stamped_emit(self: SocketIOSink, event: str, payload: dict) -> None:
    """Broadcast one event with the time of its emit added as `emitted_at`."""
    self.socketio.emit(event, {**payload, "emitted_at": time.time()})


def flood_spawner(rate: float, seconds: float) -> Callable[..., tuple]:
    """Return a `spawn_worker` that starts the flood worker on the same pipe instead."""
    extra = ("--rate", str(rate), "--seconds", str(seconds))
    return partial(spawn_worker, module="benchmarks.live_flood", extra_args=extra)


def main(argv: list[str] | None = None) -> int:
    """Apply the bench changes, then serve exactly as `python app.py --port N` does."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--flood-rate", type=float, default=0.0)
    parser.add_argument("--flood-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    SocketIOSink.emit = stamped_emit
    if args.flood_rate > 0:
        local_executor.spawn_worker = flood_spawner(args.flood_rate, args.flood_seconds)
    import app

    return app.main(["--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
