"""Socket.IO: the unbound `socketio` extension and the `request_state` handler."""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import SocketIO, emit

from routes.guards import request_authenticated, token_matches
from services.pipeline.controller import get_controller
from services.pipeline.events import STATE_EVENT

# Handlers are declared on the unbound extension; every `init_app` attaches them to its server.
socketio = SocketIO()


@socketio.on("connect")
def on_connect(auth: dict | None = None) -> bool:
    """Refuse a connection without the token or a logged-in session when API_TOKEN is set."""
    if request_authenticated(current_app):
        return True
    presented = auth.get("token") if isinstance(auth, dict) else None
    return token_matches(current_app.config.get("API_TOKEN"), presented)


@socketio.on("request_state")
def on_request_state(data: dict | None = None) -> None:
    """Answer this client alone with the session snapshot and the logs after its last seq."""
    data = data if isinstance(data, dict) else {}
    controller = get_controller(current_app)
    session_id = data.get("session_id")
    if not session_id:
        active = controller.active_session()
        session_id = active.id if active else None
    status = controller.status(session_id) if session_id else None
    try:
        after = max(0, int(data.get("after_seq") or 0))
    except (TypeError, ValueError):
        after = 0
    logs = controller.logs(session_id, after=after, limit=10000) if status else []
    emit(STATE_EVENT, {"session": status, "logs": logs}, to=request.sid)
