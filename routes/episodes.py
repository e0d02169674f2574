"""Episodes API: create from a URL or an upload, list, show, rename, delete."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from models import Episode, db
from routes.request_data import json_body, text_field
from services.pipeline import episode_store as store
from services.sources.url_safety import MAX_URL_LENGTH

bp = Blueprint("episodes", __name__)


def _data_dir():  # noqa: ANN202
    return current_app.config["DATA_DIR"]


def _episode_or_404(episode_id: str) -> Episode:
    episode = db.session.get(Episode, episode_id)
    if episode is None:
        raise store.EpisodeError(f"no episode {episode_id}", status=404)
    return episode


@bp.post("/api/episodes")
def create_episode():  # noqa: ANN201
    """Create an episode from JSON `{url}` or a multipart `file` (+ optional `subtitles`)."""
    if request.files.get("file"):
        upload = request.files["file"]
        subtitles = [(f.stream, f.filename or "") for f in request.files.getlist("subtitles")]
        episode = store.create_from_stream(
            _data_dir(),
            upload.stream,
            upload.filename or "",
            subtitles,
            current_app.config["CAPTION_LANGUAGE"],
        )
    else:
        body = json_body()
        url = text_field(body, "url", MAX_URL_LENGTH) or ""
        episode = store.create_from_url(
            _data_dir(), url, current_app.config["ALLOW_PRIVATE_URLS"], body.get("title")
        )
    return jsonify(store.episode_listing(_data_dir(), episode)), 201


@bp.get("/api/episodes")
def list_episodes():  # noqa: ANN201
    """List every episode with its stage chips and last session."""
    episodes = db.session.scalars(db.select(Episode).order_by(Episode.created_at.desc()))
    return {"episodes": [store.episode_listing(_data_dir(), e) for e in episodes]}


@bp.get("/api/episodes/<episode_id>")
def get_episode(episode_id: str):  # noqa: ANN201
    """Show one episode."""
    return store.episode_listing(_data_dir(), _episode_or_404(episode_id))


@bp.patch("/api/episodes/<episode_id>")
def rename_episode(episode_id: str):  # noqa: ANN201
    """Rename an episode: JSON `{title}` (trimmed, 1-200 characters, no control characters)."""
    episode = _episode_or_404(episode_id)
    body = json_body()
    if "title" not in body:
        raise store.EpisodeError("title is required", field="title")
    store.rename_episode(_data_dir(), episode, body["title"])
    return store.episode_listing(_data_dir(), episode)


@bp.delete("/api/episodes/<episode_id>")
def delete_episode(episode_id: str):  # noqa: ANN201
    """Delete an episode and its files (409 while a session runs)."""
    store.delete_episode(_data_dir(), _episode_or_404(episode_id))
    return "", 204


@bp.get("/<episode_id>")
def episode_page(episode_id: str):  # noqa: ANN201
    """Render the episode page."""
    episode = _episode_or_404(episode_id)
    return render_template("episodes/episode.html", episode=episode)
