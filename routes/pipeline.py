"""Pipeline API: execute, interrupt, status, logs, sessions, engines, stage validation."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from models import Episode, db
from services.engines.registry import engine_kinds, list_engines
from services.pipeline.controller import PipelineError, get_controller
from services.pipeline.episode_store import episode_for_run
from services.stages.registry import describe_stages

bp = Blueprint("pipeline", __name__)


def _controller():  # noqa: ANN202
    return get_controller(current_app)


@bp.get("/")
def pipeline_page():  # noqa: ANN201
    """Render the pipeline page."""
    return render_template("pipeline/pipeline.html")


@bp.post("/execute")
def execute():  # noqa: ANN201
    """Start a session on a URL or an episode; 202 with its id."""
    data = request.get_json(silent=True) or {}
    episode = episode_for_run(
        current_app.config["DATA_DIR"],
        data.get("youtube_url"),
        data.get("episode_id"),
        current_app.config["ALLOW_PRIVATE_URLS"],
    )
    options = _controller().options_for(episode, data)
    session = _controller().start(episode, options)
    return jsonify(
        status="started", session_id=session.id, episode_id=episode.id, monitoring_enabled=True
    ), 202


@bp.post("/interrupt/<session_id>")
def interrupt(session_id: str):  # noqa: ANN201
    """Interrupt a running session."""
    return {"status": _controller().interrupt(session_id)}


@bp.get("/status/<session_id>")
def session_status(session_id: str):  # noqa: ANN201
    """Return one session's status."""
    status = _controller().status(session_id)
    if status is None:
        raise PipelineError(f"no session {session_id}", field="session_id")
    return status


@bp.get("/status")
def running_status():  # noqa: ANN201
    """Return the running session's status, or idle."""
    session = _controller().active_session()
    return session.to_status() if session else {"status": "idle"}


@bp.get("/logs/<session_id>")
def logs(session_id: str):  # noqa: ANN201
    """Return a session's log records after a seq."""
    after = request.args.get("after", 0, type=int)
    limit = request.args.get("limit", 1000, type=int)
    return {"logs": _controller().logs(session_id, after=after, limit=limit)}


@bp.get("/sessions")
def sessions():  # noqa: ANN201
    """List sessions, newest first."""
    return {"sessions": _controller().sessions()}


@bp.get("/stages")
def stages():  # noqa: ANN201
    """Describe the seven stages (names, descriptions, sub-stages): the UI reads them here."""
    return {"stages": describe_stages()}


@bp.get("/engines")
def engines():  # noqa: ANN201
    """List the engines of every kind with their availability."""
    return {kind: list_engines(kind) for kind in engine_kinds()}


@bp.post("/validate-stages")
def validate_stages():  # noqa: ANN201
    """Check a stage selection against what the episode has (or a new URL would have)."""
    data = request.get_json(silent=True) or {}
    episode = db.session.get(Episode, str(data.get("episode_id") or ""))
    if episode is None:
        # A new URL: nothing exists yet, so only the selection itself can supply inputs.
        episode = Episode(id="new", source=data.get("youtube_url") or "", source_kind="url")
    options = _controller().options_for(episode, data)
    errors = _controller().check(episode, options)
    return {"valid": not errors, "errors": errors, "skipped_stages": []}


@bp.post("/resume/<session_id>")
def resume(session_id: str):  # noqa: ANN201
    """Start a new session that reruns only what an old one did not finish or what changed."""
    session = _controller().resume(session_id)
    return jsonify(
        status="started",
        session_id=session.id,
        episode_id=session.episode_id,
        resumed_from=session_id,
        monitoring_enabled=True,
    ), 202
