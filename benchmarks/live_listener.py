"""One Socket.IO listener process for `benchmarks.live`: stamps the arrival of every event.

Each listener is its own process, as each browser tab is, so twenty of them do not share one
interpreter lock and one thread's decoding does not delay another's receive time. Protocol:
    python -m benchmarks.live_listener http://127.0.0.1:PORT
prints `ready` once connected; given a session id on stdin, it waits for that session's
`pipeline_completion`, prints one JSON line `[[receive time, event, payload], ...]` of the
session's events and exits.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from tests.support.events import InOrderClient

COMPLETION_WAIT_SECONDS = 15.0


class Listener:
    """Connects over websocket and keeps (receive time, event, payload) of every event."""

    def __init__(self, base_url: str) -> None:
        self.received: list[tuple[float, str, object]] = []
        self.completed: set[str] = set()
        self.changed = threading.Condition()
        self.client = InOrderClient(reconnection=False)
        self.client.on("*", self._keep)
        self.client.connect(base_url, transports=["websocket"], wait_timeout=10)

    def _keep(self, event: str, payload: object = None) -> None:
        at = time.time()
        with self.changed:
            self.received.append((at, event, payload))
            if event == "pipeline_completion" and isinstance(payload, dict):
                self.completed.add(str(payload.get("session_id")))
                self.changed.notify_all()

    def events_of(self, session_id: str) -> list[tuple[float, str, object]]:
        """Wait for the session's completion, then return its events."""
        with self.changed:
            self.changed.wait_for(lambda: session_id in self.completed, COMPLETION_WAIT_SECONDS)
            return [
                r
                for r in self.received
                if isinstance(r[2], dict) and r[2].get("session_id") == session_id
            ]


def main() -> None:
    """Listen until told a session id; print its events as JSON."""
    listener = Listener(sys.argv[1])
    print("ready", flush=True)
    session_id = sys.stdin.readline().strip()
    sys.stdout.write(json.dumps(listener.events_of(session_id)) + "\n")
    sys.stdout.flush()
    # Leave without the websocket close handshake, as a closed tab does: the dev server never
    # answers the close frame, so a polite disconnect would wait out a 3 s timeout.
    os._exit(0)


if __name__ == "__main__":
    main()
