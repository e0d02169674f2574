"""`Output/Audio/narration.json`: what each spoken narration WAV was made from.

Stage 5 keeps, per section, the digest of its text, engine, voice and rate (the speech cache's
key) with the size and mtime of the WAV it wrote; a rerun speaks and levels again only the
sections whose record no longer matches, and leaves the other WAVs untouched.
"""

from __future__ import annotations

import threading
from pathlib import Path

from services.atomic import read_json, write_json_atomic

MANIFEST_NAME = "narration.json"
# Bumped when the levelling of narration changes, so older WAVs are made again.
LEVELLING_VERSION = 1


def _stat(path: Path) -> dict | None:
    """Return a file's size and mtime, or None when it is missing."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class NarrationManifest:
    """The per-section records of stage 5 beside the narration WAVs."""

    def __init__(self, audio_dir: Path) -> None:
        self.path = audio_dir / MANIFEST_NAME
        self._lock = threading.Lock()
        try:
            data = read_json(self.path)
            sections = data.get("sections") if isinstance(data, dict) else None
            self.sections: dict = sections if isinstance(sections, dict) else {}
            if data.get("levelling") != LEVELLING_VERSION:
                self.sections = {}
        except (OSError, ValueError, AttributeError):
            self.sections = {}

    def seconds_if_current(self, section_id: str, key: str, wav: Path) -> float | None:
        """Return the recorded length of `wav` when it was made from `key` and is unchanged."""
        recorded = self.sections.get(section_id)
        if not self.untouched(section_id, wav) or recorded.get("key") != key:
            return None
        seconds = recorded.get("seconds")
        return float(seconds) if isinstance(seconds, int | float) else None

    def untouched(self, section_id: str, wav: Path) -> bool:
        """Tell whether `wav` is still the file recorded for the section (size and mtime)."""
        recorded = self.sections.get(section_id)
        if not isinstance(recorded, dict):
            return False
        return _stat(wav) == {"size": recorded.get("size"), "mtime_ns": recorded.get("mtime_ns")}

    def record(self, section_id: str, key: str, wav: Path, seconds: float) -> None:
        """Store what a finished WAV was made from (atomically, safe from several threads)."""
        with self._lock:
            self.sections[section_id] = {"key": key, "seconds": seconds, **(_stat(wav) or {})}
            self._write()

    def forget(self, section_ids: list[str] | None = None) -> None:
        """Drop the records of some sections (all when None): their WAVs are not spoken ones."""
        with self._lock:
            if section_ids is None:
                self.sections = {}
            else:
                for section_id in section_ids:
                    self.sections.pop(section_id, None)
            self._write()

    def _write(self) -> None:
        """Write the manifest."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            self.path, {"version": 1, "levelling": LEVELLING_VERSION, "sections": self.sections}
        )
