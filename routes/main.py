"""The dashboard page, the system report and the liveness probe."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from services.system_info import system_info

bp = Blueprint("main", __name__)


@bp.get("/")
def dashboard():  # noqa: ANN201
    """Render the dashboard of episodes and runs."""
    return render_template("main/dashboard.html")


@bp.get("/api/system")
def system():  # noqa: ANN201
    """Report the tools, engines and free disk space the pipeline can use."""
    return system_info(current_app.config["DATA_DIR"], current_app.config["PIPELINE_EXECUTOR"])


@bp.get("/healthz")
def health():  # noqa: ANN201
    """Answer a liveness probe."""
    return {"status": "ok"}
