"""Manual narration: the audio page and per-section import/delete."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from models import Episode, db
from services.episodes.files import EpisodeFiles
from services.episodes.narration_import import (
    NarrationError,
    delete_narration,
    import_narration,
    restore_tts_take,
    section_list,
)

bp = Blueprint("audio", __name__)


def _files(episode_id: str) -> EpisodeFiles:
    if db.session.get(Episode, episode_id) is None:
        raise NarrationError(f"no episode {episode_id}", status=404)
    return EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id)


@bp.get("/<episode_id>")
def audio_page(episode_id: str):  # noqa: ANN201
    """Render the narration page."""
    _files(episode_id)
    return render_template("audio/audio.html", episode=db.session.get(Episode, episode_id))


@bp.get("/api/<episode_id>/sections")
def sections(episode_id: str):  # noqa: ANN201
    """List the script's narration sections and their audio."""
    return {"sections": section_list(_files(episode_id))}


@bp.post("/api/<episode_id>/sections/<section_id>")
def upload(episode_id: str, section_id: str):  # noqa: ANN201
    """Import a recording for one section."""
    file = request.files.get("file")
    if file is None:
        raise NarrationError("attach the recording as `file`", "file")
    result = import_narration(_files(episode_id), section_id, file.stream, file.filename or "")
    return jsonify(result), 201


@bp.post("/api/<episode_id>/sections/<section_id>/tts")
def use_tts_take(episode_id: str, section_id: str):  # noqa: ANN201
    """Put the kept text-to-speech take back in place of a recording."""
    return restore_tts_take(_files(episode_id), section_id)


@bp.delete("/api/<episode_id>/sections/<section_id>")
def delete(episode_id: str, section_id: str):  # noqa: ANN201
    """Delete a section's recording."""
    delete_narration(_files(episode_id), section_id)
    return "", 204
