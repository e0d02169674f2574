"""Segment picker: the page, the sorted segment list and saving a selection."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from models import Episode, db
from routes.request_data import json_body
from services.episodes.files import EpisodeFiles
from services.episodes.selection import (
    SelectionError,
    analysed_segments,
    save_selection,
    selected_ids,
    selection_source,
    sorted_segments,
)

bp = Blueprint("segments", __name__)


def _files(episode_id: str) -> EpisodeFiles:
    if db.session.get(Episode, episode_id) is None:
        raise SelectionError(f"no episode {episode_id}", status=404)
    return EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id)


@bp.get("/episode/<episode_id>")
def picker_page(episode_id: str):  # noqa: ANN201
    """Render the segment picker."""
    _files(episode_id)
    return render_template("segments/picker.html", episode=db.session.get(Episode, episode_id))


@bp.get("/api/<episode_id>")
def list_segments(episode_id: str):  # noqa: ANN201
    """Return the analysed segments, sorted, with the saved selection."""
    files = _files(episode_id)
    segments = sorted_segments(
        analysed_segments(files),
        request.args.get("sort", "timestamp"),
        request.args.get("order", "asc"),
    )
    return {
        "segments": segments,
        "selected_ids": selected_ids(files),
        "selected_by": selection_source(files),
    }


@bp.post("/api/<episode_id>/select")
def select_segments(episode_id: str):  # noqa: ANN201
    """Save the chosen segments as selected_segments.json."""
    segment_ids = json_body().get("segment_ids")
    return {"selected": save_selection(_files(episode_id), segment_ids)}
