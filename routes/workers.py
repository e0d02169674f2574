"""The connected pipeline workers, for the dashboard's system panel."""

from __future__ import annotations

from flask import Blueprint, current_app

from services.pipeline.celery.inspection import list_workers

bp = Blueprint("workers", __name__)


@bp.get("/api/workers")
def workers():  # noqa: ANN201
    """List the connected Celery workers (none in local mode); 503 when the broker is down."""
    report = list_workers(current_app)
    return report, 503 if report.get("error") else 200
