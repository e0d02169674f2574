"""The final's timeline for video editors: GET /episodes/api/<id>/timeline.<fmt>."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from models import Episode, db
from services.episodes.files import EpisodeFiles
from services.episodes.timeline_export import export_timeline
from services.run.errors import ClientError

bp = Blueprint("timelines", __name__)


@bp.get("/api/<episode_id>/timeline.<fmt>")
def timeline(episode_id: str, fmt: str) -> Response:
    """Download the episode's timeline as OpenTimelineIO (otio), FCP XML (xml) or EDL (edl)."""
    episode = db.session.get(Episode, episode_id)
    if episode is None:
        raise ClientError(f"no episode {episode_id}", status=404)
    files = EpisodeFiles.for_episode(current_app.config["DATA_DIR"], episode_id)
    exported = export_timeline(files, fmt, episode.title or episode_id)
    return Response(
        exported.text,
        mimetype=exported.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
