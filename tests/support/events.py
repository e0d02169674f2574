"""A real python-socketio client (websocket transport) that keeps every pipeline event."""

from __future__ import annotations

import threading
from collections import defaultdict

import engineio
import requests
import socketio

from tests.support.processes import wait_for

EVENTS = (
    "pipeline_progress",
    "pipeline_update",
    "pipeline_transition",
    "pipeline_error",
    "pipeline_completion",
    "pipeline_waiting",
    "log_stream",
    "pipeline_state",
)


class InOrderEngineIO(engineio.Client):
    """Engine.IO client that handles each message in its read thread, in arrival order."""

    def _trigger_event(self, event: str, *args: object, **kwargs: object) -> object:
        # The stock client starts a new thread per message (run_async=True): under a burst
        # that reorders events and delays each by a thread start. A browser handles
        # messages in order on one thread; so does this client.
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    """python-socketio client whose event handlers run in order in the read thread."""

    def _engineio_client_class(self) -> type[engineio.Client]:
        return InOrderEngineIO


class EventCollector:
    """Connects to a server and records each event's payloads by name."""

    def __init__(self, base_url: str) -> None:
        self.events: dict[str, list[dict]] = defaultdict(list)
        self.lock = threading.Lock()
        self.client = InOrderClient(reconnection=False)
        for name in EVENTS:
            self.client.on(name, self._keeper(name))
        self.client.connect(base_url, transports=["websocket"], wait_timeout=10)

    def _keeper(self, name: str):  # noqa: ANN202
        def keep(payload: dict) -> None:
            with self.lock:
                self.events[name].append(payload)

        return keep

    def of(self, name: str, session_id: str) -> list[dict]:
        """Return one event's payloads for one session."""
        with self.lock:
            return [p for p in self.events[name] if p.get("session_id") == session_id]

    def await_stored_logs(self, base_url: str, session_id: str, timeout: float = 10) -> list[dict]:
        """Wait until every log line the server stored for a session has arrived; return them."""

        def arrived() -> list[dict] | None:
            answer = requests.get(f"{base_url}/pipeline/logs/{session_id}?limit=10000", timeout=5)
            stored = answer.json()["logs"]
            return stored if len(self.of("log_stream", session_id)) >= len(stored) else None

        return wait_for(arrived, timeout=timeout)

    def close(self) -> None:
        """Disconnect."""
        if self.client.connected:
            self.client.disconnect()
