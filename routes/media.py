"""Serve files inside an episode folder (with HTTP Range), never outside it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory

from services.episodes.files import EpisodeFiles, is_safe_id

bp = Blueprint("media", __name__)


@bp.get("/<episode_id>/<path:relative_path>")
def episode_file(episode_id: str, relative_path: str):  # noqa: ANN201
    """Send one file of an episode; send_from_directory refuses paths that leave the folder."""
    if not is_safe_id(episode_id) or "/." in f"/{relative_path}":
        abort(404)
    root = EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id).root
    return send_from_directory(root, relative_path, conditional=True, max_age=0)
