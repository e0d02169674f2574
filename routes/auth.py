"""Login for browsers when API_TOKEN is set (API clients send the bearer token instead)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session

from routes.guards import token_matches

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    """Show the token form, or log the browser in with the token."""
    if not current_app.config.get("API_TOKEN"):
        return redirect("/")
    error = None
    if request.method == "POST":
        if token_matches(current_app.config["API_TOKEN"], request.form.get("token")):
            session.clear()
            session["authenticated"] = True
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = "That token is not right."
    return render_template("auth/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():  # noqa: ANN201
    """Forget this browser's login."""
    session.clear()
    return redirect("/login")
