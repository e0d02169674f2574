"""Input/metadata.json: what the source is, and the title you gave the episode.

Stage 1 writes the source's facts (title, uploader, duration, picture size...). A rename
adds `user_title`, which stage 1 keeps on a rerun and the narration speaks instead of the
source's own title; since stage 4's fingerprint reads this file, a rename re-narrates.
"""

from __future__ import annotations

from services.atomic import read_json, write_json_atomic
from services.episodes.files import EpisodeFiles

USER_TITLE = "user_title"


def read_metadata(files: EpisodeFiles) -> dict:
    """Return the episode's metadata, or {} when there is none or it is unreadable."""
    try:
        found = read_json(files.metadata)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def set_user_title(files: EpisodeFiles, title: str) -> None:
    """Record the title the user gave the episode, keeping every other field."""
    write_json_atomic(files.metadata, {**read_metadata(files), USER_TITLE: title})


def shown_title(metadata: dict) -> str | None:
    """Return the episode's title: the user's when renamed, else the source's."""
    return metadata.get(USER_TITLE) or metadata.get("title")
