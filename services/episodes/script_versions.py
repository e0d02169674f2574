"""Versions of the script: every saved script is kept in Output/Scripts/versions/<n>.json.

A version file holds `{version, saved_at, note, script}`. Saving writes the next version and
then the script itself (`unified_podcast_script.json`), both atomically; a script written
by stage 4 (or changed outside the editor) is kept as a version of its own before an edit
replaces it, so going back to it is always possible. Restoring version n saves its script
as a new version: the history only grows.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from services.atomic import partial_path, read_json, write_json_atomic
from services.episodes.files import EpisodeFiles
from services.run.errors import ClientError

MAX_NOTE_LENGTH = 200
OUTSIDE_NOTE = "written by stage 4 (or outside the editor)"


def versions_dir(files: EpisodeFiles) -> Path:
    """Return the folder of the script's versions."""
    return files.script.parent / "versions"


def _version_path(files: EpisodeFiles, number: int) -> Path:
    """Return the file of version `number`."""
    return versions_dir(files) / f"{number}.json"


def version_numbers(files: EpisodeFiles) -> list[int]:
    """Return the stored version numbers, oldest first."""
    folder = versions_dir(files)
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())


def read_version(files: EpisodeFiles, number: int) -> dict:
    """Return one stored version `{version, saved_at, note, script}`; 404 when unknown."""
    path = _version_path(files, number)
    if number < 1 or not path.is_file():
        raise ClientError(f"no script version {number}", "version", status=404)
    return read_json(path)


def list_versions(files: EpisodeFiles) -> list[dict]:
    """Return `[{version, saved_at, note, current}]`, newest first."""
    current = current_version(files)
    rows = []
    for number in reversed(version_numbers(files)):
        stored = read_version(files, number)
        rows.append(
            {
                "version": number,
                "saved_at": stored.get("saved_at"),
                "note": stored.get("note") or "",
                "current": number == current,
            }
        )
    return rows


def current_script(files: EpisodeFiles) -> dict:
    """Return the script on disk; 404 when stage 4 has not written one."""
    if not files.script.is_file():
        raise ClientError("no script yet: run stage 4 first", status=404)
    return read_json(files.script)


def current_version(files: EpisodeFiles) -> int | None:
    """Return the number of the stored version the script on disk is, or None if none is."""
    numbers = version_numbers(files)
    if not numbers or not files.script.is_file():
        return None
    if read_version(files, numbers[-1]).get("script") == read_json(files.script):
        return numbers[-1]
    return None


def _store(files: EpisodeFiles, script: dict, note: str) -> int:
    """Write `script` as the next version (a number is never taken twice); return it."""
    folder = versions_dir(files)
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        number = (version_numbers(files) or [0])[-1] + 1
        final = _version_path(files, number)
        tmp = partial_path(final)
        saved_at = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"version": number, "saved_at": saved_at, "note": note, "script": script}
        write_json_atomic(tmp, record)
        try:
            os.link(tmp, final)  # fails if another save took this number meanwhile
            return number
        except FileExistsError:
            continue
        finally:
            tmp.unlink(missing_ok=True)


def _clean_note(note: object) -> str:
    """Return a version note: one line of text, at most MAX_NOTE_LENGTH characters."""
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ClientError("note must be text", "note")
    return " ".join(note.split())[:MAX_NOTE_LENGTH]


def save_version(files: EpisodeFiles, script: dict, note: object = "") -> int:
    """Keep the script on disk if it is not stored yet, save `script` as a new version; return n."""
    text = _clean_note(note)
    if files.script.is_file() and current_version(files) is None:
        _store(files, read_json(files.script), OUTSIDE_NOTE)
    number = _store(files, script, text or "saved in the editor")
    write_json_atomic(files.script, script)
    return number


def restore_version(files: EpisodeFiles, number: int) -> int:
    """Make version `number` the script again, as a new version; return the new number."""
    stored = read_version(files, number)
    return save_version(files, stored["script"], f"back to version {number}")
