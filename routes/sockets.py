"""Socket.IO: the unbound `socketio` extension, its Host/Origin guard and `request_state`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, emit

from routes.guards import host_allowed, origin_matches, request_authenticated, token_matches
from routes.request_data import MAX_QUERY_INT
from services.pipeline.controller import get_controller
from services.pipeline.events import STATE_EVENT

# Handlers are declared on the unbound extension; every `init_app` attaches them to its server.
socketio = SocketIO()
SOCKET_PATH = "/socket.io"
REQUEST_ERROR_EVENT = "request_error"


def socket_request_problem(environ: dict, allowed_hosts: list[str]) -> tuple[int, str] | None:
    """Return (status, reason) when a Socket.IO request's Host or Origin is refused."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if not host_allowed(host, allowed_hosts):
        return 400, f"host {host!r} is not allowed"
    # Behind a TLS proxy the page is https while this server speaks http (as Engine.IO allows).
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
    schemes = {environ.get("wsgi.url_scheme", "http"), forwarded} - {""}
    origin = environ.get("HTTP_ORIGIN")
    if not any(origin_matches(origin, f"{scheme}://{host}/") for scheme in schemes):
        return 403, "cross-origin Socket.IO connection refused"
    return None


class SocketGuard:
    """WSGI middleware: refuse Engine.IO requests (polling or websocket) before the handshake."""

    def __init__(self, wsgi_app: Callable, allowed_hosts: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.allowed_hosts = allowed_hosts

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Answer 400/403 for a foreign Host or Origin on the Socket.IO path, else pass on."""
        path = environ.get("PATH_INFO", "")
        if path == SOCKET_PATH or path.startswith(SOCKET_PATH + "/"):
            problem = socket_request_problem(environ, self.allowed_hosts)
            if problem:
                status, reason = problem
                body = json.dumps({"error": reason, "field": "Host" if status == 400 else "Origin"})
                start_response(
                    f"{status} {'Bad Request' if status == 400 else 'Forbidden'}",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body.encode()]
        return self.wsgi_app(environ, start_response)


def install_socket_guard(app: Flask) -> None:
    """Put the Host/Origin guard in front of the Socket.IO middleware (call after init_app)."""
    app.wsgi_app = SocketGuard(app.wsgi_app, app.config["ALLOWED_HOSTS"])


@socketio.on("connect")
def on_connect(auth: dict | None = None) -> bool:
    """Refuse a foreign Host/Origin, and a missing token or login when API_TOKEN is set."""
    if socket_request_problem(request.environ, current_app.config["ALLOWED_HOSTS"]):
        return False
    if request_authenticated(current_app):
        return True
    presented = auth.get("token") if isinstance(auth, dict) else None
    if presented is not None and not isinstance(presented, str):
        raise ConnectionRefusedError({"error": "auth.token must be a string", "field": "token"})
    return token_matches(current_app.config.get("API_TOKEN"), presented)


def _state_request(data: object) -> tuple[str | None, int]:
    """Return (session id or None, after_seq) of a request_state message; raise ValueError."""
    data = data if isinstance(data, dict) else {}
    session_id = data.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > 64):
        raise ValueError("session_id")
    after = data.get("after_seq") or 0
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_QUERY_INT:
        raise ValueError("after_seq")
    return session_id or None, after


@socketio.on("request_state")
def on_request_state(data: dict | None = None) -> None:
    """Answer this client alone with the session snapshot and the logs after its last seq."""
    try:
        session_id, after = _state_request(data)
    except ValueError as exc:
        error = {"error": f"{exc} is not valid", "field": str(exc)}
        emit(REQUEST_ERROR_EVENT, error, to=request.sid)
        return
    controller = get_controller(current_app)
    if not session_id:
        active = controller.active_session()
        session_id = active.id if active else None
    status = controller.status(session_id) if session_id else None
    logs = controller.logs(session_id, after=after, limit=10000) if status else []
    emit(STATE_EVENT, {"session": status, "logs": logs}, to=request.sid)
