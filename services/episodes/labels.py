"""How an episode is named in a list: its title, told apart from others of the same title.

Two episodes of one title get the source (the URL's host, or the uploaded file's name) and
the creation date after it; the time of day, then the id, are added only while that still
leaves two labels the same. Every list of episodes shows `display_title` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from models import Episode


def source_label(episode: Episode) -> str:
    """Return where an episode came from, shortly: a URL's host, or the upload's file name."""
    if episode.source_kind == "upload":
        return episode.source_name or PurePosixPath(episode.source or "").name or "upload"
    host = urlsplit(episode.source or "").hostname or ""
    return host.removeprefix("www.") or episode.source or "URL"


def _when(episode: Episode, pattern: str) -> str:
    """Return the episode's creation time (UTC) formatted with `pattern`, or "" when unknown."""
    created = episode.created_at
    if created is None:
        return ""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(UTC).strftime(pattern)


_DETAILS: tuple[Callable[[Episode], str], ...] = (
    lambda e: " · ".join(p for p in (source_label(e), _when(e, "%Y-%m-%d")) if p),
    lambda e: " · ".join(p for p in (source_label(e), _when(e, "%Y-%m-%d %H:%M")) if p),
    lambda e: " · ".join(p for p in (source_label(e), _when(e, "%Y-%m-%d %H:%M"), e.id) if p),
)


def display_title(episode: Episode, same_title: Sequence[Episode]) -> str:
    """Return an episode's label among `same_title` (the episodes sharing its title, itself too)."""
    title = episode.title or episode.id
    others = [e for e in same_title if e.id != episode.id]
    if not others:
        return title
    for detail in _DETAILS:
        mine = detail(episode)
        if all(detail(other) != mine for other in others):
            break
    return f"{title} ({mine})"
