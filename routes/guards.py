"""Request guards: Host allow-list, same-origin check, optional API token, security headers."""

from __future__ import annotations

import hmac
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from services.server.logins import LOGIN_LIFETIME_SECONDS, LoginRegistry, LoginThrottle

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_PATHS = ("/login", "/static/", "/healthz")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


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


def token_matches(expected: str | None, presented: object) -> bool:
    """Compare a presented token with the configured one in constant time."""
    if not isinstance(expected, str) or not isinstance(presented, str):
        return False
    return bool(expected and presented) and hmac.compare_digest(
        expected.encode(), presented.encode()
    )


def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer ...` header."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def request_authenticated(app: Flask) -> bool:
    """Tell whether this request may proceed under API_TOKEN (token or logged-in session)."""
    expected = app.config.get("API_TOKEN")
    if not expected:
        return True
    if token_matches(expected, bearer_token()):
        return True
    return session.get("authenticated") is True and logins(app).is_live(session.get("login"))


def logins(app: Flask) -> LoginRegistry:
    """Return the app's registry of live browser logins."""
    return app.extensions["clipcast.logins"]


def login_throttle(app: Flask) -> LoginThrottle:
    """Return the app's throttle on wrong login tokens."""
    return app.extensions["clipcast.login_throttle"]


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is `Secure` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure when configured so or when this request is HTTPS."""
        return bool(super().get_cookie_secure(app) or request.is_secure)


def _configure_sessions(app: Flask) -> None:
    """Session cookies: SameSite=Lax, HttpOnly, Secure over HTTPS, 12 hours, revocable."""
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=LOGIN_LIFETIME_SECONDS)
    app.session_interface = _SessionInterface()
    app.extensions["clipcast.logins"] = LoginRegistry(Path(app.config["DATA_DIR"]) / "logins.json")
    app.extensions["clipcast.login_throttle"] = LoginThrottle()


def _bearer_guessing(app: Flask):  # noqa: ANN202 - a response or None
    """Answer 429 while a client that sent wrong bearer tokens must wait; count wrong ones."""
    presented = bearer_token()
    if not app.config.get("API_TOKEN") or presented is None:
        return None
    throttle, client = login_throttle(app), request.remote_addr or "unknown"
    wait = throttle.wait_seconds(client)
    if wait:
        body = jsonify(error=f"too many wrong tokens: try again in {wait:.0f} s", field="token")
        return body, 429, {"Retry-After": str(int(wait) + 1)}
    if not token_matches(app.config["API_TOKEN"], presented):
        throttle.failed(client)
    return None


def install_request_guards(app: Flask) -> None:
    """Register the Host, Origin and token checks, the session cookie rules and the headers."""
    _configure_sessions(app)

    @app.before_request
    def _guard():  # noqa: ANN202
        if not host_allowed(request.host, app.config["ALLOWED_HOSTS"]):
            return jsonify(error=f"host {request.host!r} is not allowed", field="Host"), 400
        if request.method in STATE_CHANGING and not origin_matches(
            request.headers.get("Origin"), request.host_url
        ):
            return jsonify(error="cross-origin request refused", field="Origin"), 403
        guessing = _bearer_guessing(app)
        if guessing:
            return guessing
        if request.path.startswith(OPEN_PATHS) or request_authenticated(app):
            return None
        if request.accept_mimetypes.accept_html and request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path))
        return jsonify(error="authentication required: send Authorization: Bearer <token>"), 401

    @app.after_request
    def _headers(response):  # noqa: ANN001, ANN202
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
