"""Event sinks (where session events go) and the progress coalescer."""

from __future__ import annotations

import threading
import time
from typing import Protocol

# The Socket.IO event names of API.md.
PROGRESS_EVENTS = ("pipeline_progress", "pipeline_update")
TRANSITION_EVENT = "pipeline_transition"
ERROR_EVENT = "pipeline_error"
COMPLETION_EVENT = "pipeline_completion"
LOG_EVENT = "log_stream"
STATE_EVENT = "pipeline_state"
WAITING_EVENT = "pipeline_waiting"  # beyond API.md: a manual-mode run waits for the picker


class EventSink(Protocol):
    """Anything that delivers session events to their audience."""

    def emit(self, event: str, payload: dict) -> None:
        """Deliver one event."""


class SocketIOSink:
    """Broadcasts events to every Socket.IO client (through a message queue when configured)."""

    def __init__(self, socketio) -> None:  # noqa: ANN001 - flask_socketio.SocketIO
        self.socketio = socketio

    def emit(self, event: str, payload: dict) -> None:
        """Broadcast one event on the default namespace."""
        self.socketio.emit(event, payload)


class RecordingSink:
    """Keeps every event in memory (tests, benchmarks)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def emit(self, event: str, payload: dict) -> None:
        """Store one event."""
        with self._lock:
            self.events.append((event, payload))

    def of(self, event: str) -> list[dict]:
        """Return the payloads of one event name."""
        with self._lock:
            return [p for e, p in self.events if e == event]


class FanOutSink:
    """Sends every event to several sinks."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = list(sinks)

    def emit(self, event: str, payload: dict) -> None:
        """Deliver one event to every sink."""
        for sink in self.sinks:
            sink.emit(event, payload)


class ProgressCoalescer:
    """Holds back running-progress updates so a session sends a few a second, never stale ones."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._last_sent = 0.0
        self._pending: dict | None = None

    def offer(self, payload: dict, force: bool = False) -> dict | None:
        """Return the payload to send now, or None if it is held back for later."""
        now = time.monotonic()
        if force or now - self._last_sent >= self.interval:
            self._pending = None
            self._last_sent = now
            return payload
        self._pending = payload
        return None

    def due(self) -> dict | None:
        """Return a held-back payload whose time has come (call this periodically)."""
        if self._pending is not None and time.monotonic() - self._last_sent >= self.interval:
            payload, self._pending = self._pending, None
            self._last_sent = time.monotonic()
            return payload
        return None

    def drain(self) -> dict | None:
        """Return any held-back payload now (before a transition or the end)."""
        payload, self._pending = self._pending, None
        if payload is not None:
            self._last_sent = time.monotonic()
        return payload
