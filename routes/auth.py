"""Login for browsers when API_TOKEN is set (API clients send the bearer token instead)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session

from routes.guards import login_throttle, logins, token_matches

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after login (never another site, however disguised)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers drop tabs and newlines and read `\` as `/`: "/\t/evil.com" is "//evil.com".
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    """Show the token form, or log the browser in with the token."""
    if not current_app.config.get("API_TOKEN"):
        return redirect("/")
    error, status = None, 200
    if request.method == "POST":
        client = request.remote_addr or "unknown"
        throttle = login_throttle(current_app)
        wait = throttle.wait_seconds(client)
        if wait:
            error, status = f"Too many wrong tokens: try again in {wait:.0f} seconds.", 429
        elif token_matches(current_app.config["API_TOKEN"], request.form.get("token")):
            throttle.succeeded(client)
            logins(current_app).revoke(session.get("login"))
            session.clear()
            session["authenticated"] = True
            session["login"] = logins(current_app).issue()
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        else:
            throttle.failed(client)
            error, status = "That token is not right.", 401
    response = render_template("auth/login.html", error=error), status
    if status == 429:
        return (*response, {"Retry-After": str(int(wait) + 1)})
    return response


@bp.post("/logout")
def logout():  # noqa: ANN201
    """End this browser's login: the cookie stops working, even a copy of it."""
    logins(current_app).revoke(session.get("login"))
    session.clear()
    return redirect("/login")
