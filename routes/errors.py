"""JSON errors for the API: `{"error": ..., "field": ...}` with the right status."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import DatabaseError
from werkzeug.exceptions import HTTPException

from models import db
from services.pipeline.faults import describe_fault, is_disk_full
from services.run.errors import ClientError


def error_response(message: str, status: int, field: str | None = None, **extra):  # noqa: ANN201
    """Return the API's error body and status."""
    body = {"error": message, **extra}
    if field:
        body["field"] = field
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    """Turn service errors into API errors."""

    @app.errorhandler(ClientError)
    def _client_error(exc: ClientError):  # noqa: ANN202
        return error_response(str(exc), exc.status, exc.field, **exc.extra())

    @app.errorhandler(DatabaseError)
    def _database(exc: DatabaseError):  # noqa: ANN202
        db.session.rollback()
        config = current_app.config
        message = describe_fault(exc, config["DATA_DIR"], config.get("DB_BUSY_TIMEOUT", 0))
        if message is None:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            message = f"the database cannot be read ({reason}); GET /healthz says what to do"
        return error_response(message, 507 if is_disk_full(exc) else 503, "database")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # noqa: ANN202
        if not _wants_json():
            return exc
        return error_response(exc.description or exc.name, exc.code or 500)


def _wants_json() -> bool:
    """Tell whether the client is an API caller rather than a page load."""
    return (
        "/api/" in request.path
        or request.path.startswith(("/pipeline/", "/media/"))
        or request.accept_mimetypes.best == "application/json"
    )
