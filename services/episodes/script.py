"""The narrative script (`unified_podcast_script.json`): reading it and picking its sections."""

from __future__ import annotations

from pathlib import Path

from services.atomic import read_json

SECTION_TYPES = ("intro", "pre_clip", "video_clip", "post_clip", "outro")
NARRATION_TYPES = ("intro", "pre_clip", "post_clip", "outro")


def load_script(path: Path) -> dict:
    """Read a script file."""
    return read_json(path)


def narration_sections(script: dict) -> list[dict]:
    """Return the sections that are spoken narration, in script order."""
    return [
        s for s in script.get("podcast_sections", []) if s.get("section_type") in NARRATION_TYPES
    ]


def clip_sections(script: dict) -> list[dict]:
    """Return the video_clip sections, in script order."""
    return [s for s in script.get("podcast_sections", []) if s.get("section_type") == "video_clip"]
