"""Request guards: the Host allow-list (DNS rebinding) and the same-origin check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, request

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def host_allowed(host_header: str, allowed: list[str]) -> bool:
    """Tell whether a Host header (with or without port) names an allowed host."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        name = host[: host.find("]") + 1]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in {h.lower() for h in allowed} or "*" in allowed


def origin_matches(origin: str | None, host_url: str) -> bool:
    """Tell whether an Origin header is this app's own origin (absent counts as same)."""
    if not origin:
        return True
    own = urlsplit(host_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc.lower()) == (own.scheme, own.netloc.lower())


def install_request_guards(app: Flask) -> None:
    """Register the Host and Origin checks on every request."""

    @app.before_request
    def _guard():  # noqa: ANN202
        if not host_allowed(request.host, app.config["ALLOWED_HOSTS"]):
            return jsonify(error=f"host {request.host!r} is not allowed", field="Host"), 400
        if request.method in STATE_CHANGING and not origin_matches(
            request.headers.get("Origin"), request.host_url
        ):
            return jsonify(error="cross-origin request refused", field="Origin"), 403
        return None
