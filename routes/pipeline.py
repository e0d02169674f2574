"""Pipeline API: execute, interrupt, status, logs, sessions, engines, stage validation."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from models import Episode, db
from routes.request_data import json_body, query_int, text_field
from services.engines.registry import engine_kinds, list_engines
from services.pipeline.controller import PipelineError, RunRequest, get_controller
from services.pipeline.estimates import session_estimates
from services.run.options import OptionsError, RunOptions
from services.sources.url_safety import MAX_URL_LENGTH
from services.stages.registry import describe_stages

bp = Blueprint("pipeline", __name__)


# Request keys besides the options: the source, the preset, and API.md's `force`.
RUN_REQUEST_KEYS = {"youtube_url", "episode_id", "preset", "force"}


def _controller():  # noqa: ANN202
    return get_controller(current_app)


def _run_request() -> tuple[dict, str | None, str | None]:
    """Return an execute/validate body checked for unknown keys and field types."""
    data = json_body()
    RunOptions.check_request_keys(data, RUN_REQUEST_KEYS)
    text_field(data, "preset", 100)
    if data.get("force") is not None and not isinstance(data["force"], bool):
        raise OptionsError("force must be true or false", "force")
    return data, text_field(data, "youtube_url", MAX_URL_LENGTH), text_field(data, "episode_id", 64)


def _known_session(session_id: str) -> dict:
    """Return a session's status, or raise 404 for an unknown id."""
    status = _controller().status(session_id)
    if status is None:
        raise PipelineError(f"no session {session_id}", field="session_id", status=404)
    return status


@bp.get("/")
def pipeline_page():  # noqa: ANN201
    """Render the pipeline page."""
    return render_template("pipeline/pipeline.html")


@bp.post("/execute")
def execute():  # noqa: ANN201
    """Start a session on a URL or an episode; 202 with its id."""
    data, youtube_url, episode_id = _run_request()
    run = RunRequest(
        options=data, episode_id=episode_id, url=youtube_url, force=data.get("force") is True
    )
    episode, session = _controller().execute(run)
    answer = _controller().start_answer(session.id)
    return jsonify(
        **answer, session_id=session.id, episode_id=episode.id, monitoring_enabled=True
    ), 202


@bp.post("/interrupt/<session_id>")
def interrupt(session_id: str):  # noqa: ANN201
    """Interrupt a running session."""
    _known_session(session_id)
    return {"status": _controller().interrupt(session_id)}


@bp.get("/status/<session_id>")
def session_status(session_id: str):  # noqa: ANN201
    """Return one session's status."""
    return _known_session(session_id)


@bp.get("/status")
def running_status():  # noqa: ANN201
    """Return the running session's status, or idle."""
    session = _controller().active_session()
    return _controller().status_of(session) if session else {"status": "idle"}


@bp.get("/estimates/<session_id>")
def estimates(session_id: str):  # noqa: ANN201
    """Return how long each stage of a session is expected to take on this machine."""
    answer = session_estimates(session_id, current_app.config["DATA_DIR"])
    if answer is None:
        raise PipelineError(f"no session {session_id}", field="session_id", status=404)
    return answer


@bp.get("/logs/<session_id>")
def logs(session_id: str):  # noqa: ANN201
    """Return a session's log records after a seq."""
    after = query_int("after", 0)
    limit = query_int("limit", 1000, low=1, high=10000)
    _known_session(session_id)
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
    data_dir = current_app.config["DATA_DIR"]
    return {kind: list_engines(kind, data_dir) for kind in engine_kinds()}


@bp.post("/validate-stages")
def validate_stages():  # noqa: ANN201
    """Check a stage selection against what the episode has (or a new URL would have)."""
    data, youtube_url, episode_id = _run_request()
    episode = db.session.get(Episode, episode_id or "")
    new = episode is None
    if new:
        # A new URL: nothing exists yet, so only the selection itself can supply inputs.
        episode = Episode(id="new", source=youtube_url or "", source_kind="url")
    options = _controller().options_for(episode, data)
    errors = _controller().check(episode, options, new_episode=new)
    return {"valid": not errors, "errors": errors, "skipped_stages": []}


@bp.post("/resume/<session_id>")
def resume(session_id: str):  # noqa: ANN201
    """Start a new session that reruns only what an old one did not finish or what changed."""
    session = _controller().resume(session_id)
    return jsonify(
        **_controller().start_answer(session.id),
        session_id=session.id,
        episode_id=session.episode_id,
        resumed_from=session_id,
        monitoring_enabled=True,
    ), 202
