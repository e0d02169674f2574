"""The dashboard page, the system report and the liveness probe."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from models import db
from services.server.database_health import database_problem
from services.server.system_info import system_info

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
    """Answer a health probe: 200 when the database reads and is sound, else 503 saying why."""
    problem = database_problem(db.engine)
    if problem:
        return {"status": "error", "error": problem}, 503
    return {"status": "ok"}
