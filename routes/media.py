"""Serve regular files inside an episode folder (with HTTP Range), never anything outside it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file

from services.episodes.files import EpisodeFiles, is_safe_id

bp = Blueprint("media", __name__)


@bp.get("/<episode_id>/<path:relative_path>")
def episode_file(episode_id: str, relative_path: str):  # noqa: ANN201
    """Send one file of an episode: after resolving links it must be a regular file inside."""
    if not is_safe_id(episode_id) or "/." in f"/{relative_path}":
        abort(404)
    root = EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id).root.resolve()
    target = (root / relative_path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        abort(404)
    return send_file(target, conditional=True, max_age=0)
