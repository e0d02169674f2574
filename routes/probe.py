"""What a URL is before it becomes an episode: POST /episodes/api/probe."""

from __future__ import annotations

from flask import Blueprint, current_app

from routes.request_data import json_body
from services.sources.probe import probe_url

bp = Blueprint("probe", __name__)


@bp.post("/api/probe")
def probe():  # noqa: ANN201
    """Return `{url, title, duration, uploader, thumbnail, ...}` for `{url}`; 400: why not."""
    return probe_url(json_body().get("url"), bool(current_app.config["ALLOW_PRIVATE_URLS"]))
