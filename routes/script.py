"""The script editor: the page, the script with its version, saving, versions and going back."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from models import Episode, db
from routes.request_data import json_body
from services.engines.narrative.script_edit import editor_context, save_edited_script
from services.episodes.files import EpisodeFiles
from services.episodes.script_versions import (
    current_script,
    current_version,
    list_versions,
    restore_version,
)
from services.run.errors import ClientError

bp = Blueprint("script", __name__)


def _episode(episode_id: str) -> Episode:
    """Return the episode, or answer 404."""
    episode = db.session.get(Episode, episode_id)
    if episode is None:
        raise ClientError(f"no episode {episode_id}", status=404)
    return episode


def _files(episode_id: str) -> EpisodeFiles:
    """Return the files of an existing episode."""
    _episode(episode_id)
    return EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id)


def _answer(files: EpisodeFiles) -> dict:
    """Return the current script with the number of its version (null: not stored yet)."""
    return {**current_script(files), "version": current_version(files)}


@bp.get("/<episode_id>/script")
def script_page(episode_id: str):  # noqa: ANN201
    """Render the script editor."""
    return render_template("episodes/script.html", episode=_episode(episode_id))


@bp.get("/api/<episode_id>/script")
def get_script(episode_id: str):  # noqa: ANN201
    """Return the current script with `version`."""
    return _answer(_files(episode_id))


@bp.put("/api/<episode_id>/script")
def put_script(episode_id: str):  # noqa: ANN201
    """Check and save the whole script (optional `note`) as a new version."""
    files = _files(episode_id)
    save_edited_script(files, json_body(), current_app.config["DATA_DIR"])
    return _answer(files)


@bp.get("/api/<episode_id>/script/context")
def script_context(episode_id: str):  # noqa: ANN201
    """Return the segments, transcript, lengths and source media the editor shows."""
    return editor_context(_files(episode_id))


@bp.get("/api/<episode_id>/script/versions")
def script_versions(episode_id: str):  # noqa: ANN201
    """Return every stored version, newest first."""
    return {"versions": list_versions(_files(episode_id))}


@bp.post("/api/<episode_id>/script/versions/<int:number>/restore")
def restore(episode_id: str, number: int):  # noqa: ANN201
    """Make an earlier version the script again (saved as a new version)."""
    files = _files(episode_id)
    restore_version(files, number)
    return _answer(files)
