"""The user's own narration: list script sections, import a recording for one, delete it.

An upload never loses the text-to-speech take it replaces: that take is kept beside it
(`Output/Audio/tts/<section_id>.wav`) and can be put back. Which files are the user's is
told by `Output/Audio/recordings.json` (section id -> SHA-256 of the stored recording), so a
file stage 5 spoke again later counts as a TTS take whatever was uploaded before.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import BinaryIO

from services.atomic import atomic_output, read_json, write_json_atomic
from services.episodes.files import EpisodeFiles, is_safe_id
from services.episodes.script import load_script, narration_sections
from services.media.ffmpeg import failure_reason, media_duration
from services.media.narration_audio import normalise_narration
from services.run.errors import ClientError, StageError

# Extension -> demuxer forced for the decode check: a playlist or text file named .wav fails it.
AUDIO_DEMUXERS = {
    ".wav": "wav",
    ".mp3": "mp3",
    ".m4a": "mov",
    ".aac": "aac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".flac": "flac",
    ".webm": "matroska",
}
MAX_AUDIO_BYTES = 100 * 1024 * 1024
TTS_TAKES = "tts"
RECORDINGS = "recordings.json"


class NarrationError(ClientError):
    """An import request that cannot be carried out."""


def tts_take(files: EpisodeFiles, section_id: str) -> Path:
    """Return where the text-to-speech take a recording replaced is kept."""
    return files.audio_dir / TTS_TAKES / f"{section_id}.wav"


def _digest(path: Path) -> str:
    """Return a file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recordings(files: EpisodeFiles) -> dict:
    """Return `{section_id: digest}` of the user's recordings."""
    try:
        data = read_json(files.audio_dir / RECORDINGS)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _mark_recording(files: EpisodeFiles, section_id: str, digest: str | None) -> None:
    """Record (or, with None, forget) that a section's audio is the user's recording."""
    recordings = _recordings(files)
    if digest is None:
        recordings.pop(section_id, None)
    else:
        recordings[section_id] = digest
    write_json_atomic(files.audio_dir / RECORDINGS, recordings)


def audio_source(files: EpisodeFiles, section_id: str) -> str | None:
    """Return "recording" or "tts" for a section's audio file, None when it has none."""
    audio = files.section_audio(section_id)
    if not audio.exists():
        return None
    return "recording" if _recordings(files).get(section_id) == _digest(audio) else "tts"


def section_list(files: EpisodeFiles) -> list[dict]:
    """Return the script's narration sections with their audio, its length and where it is from."""
    if not files.script.exists():
        raise NarrationError("no script yet: run stage 4 first", status=404)
    rows = []
    for section in narration_sections(load_script(files.script)):
        audio = files.section_audio(section["section_id"])
        take = tts_take(files, section["section_id"])
        rows.append(
            {
                "section_id": section["section_id"],
                "section_type": section["section_type"],
                "script_content": section.get("script_content", ""),
                "estimated_duration": section.get("estimated_duration"),
                "has_audio": audio.exists(),
                "duration": round(media_duration(audio), 2) if audio.exists() else None,
                "audio_url": files.relative(audio) if audio.exists() else None,
                "audio_source": audio_source(files, section["section_id"]),
                "tts_take_url": files.relative(take) if take.exists() else None,
            }
        )
    return rows


def _require_section(files: EpisodeFiles, section_id: str) -> None:
    """Refuse a section id that the script does not have."""
    known = {row["section_id"] for row in section_list(files)}
    if not is_safe_id(section_id) or section_id not in known:
        raise NarrationError(
            f"the script has no narration section {section_id!r}", "section_id", status=404
        )


def decode_check(path: Path, extension: str, shown_name: str = "the file") -> None:
    """Decode the whole file with the demuxer its extension implies; refuse what fails."""
    demuxer = AUDIO_DEMUXERS[extension]
    result = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-f",
            demuxer,
            "-i",
            "file:" + str(path),
            "-map",
            "0:a:0",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        reason = failure_reason(result.stderr, path, shown_name, "no audio stream")
        raise NarrationError(f"not a readable {extension} audio file: {reason}", "file", status=415)


def import_narration(files: EpisodeFiles, section_id: str, stream: BinaryIO, filename: str) -> dict:
    """Check, normalise and store a recording as the section's narration."""
    _require_section(files, section_id)
    extension = Path(filename or "").suffix.lower()
    if extension not in AUDIO_DEMUXERS:
        raise NarrationError(
            f"{extension or 'no extension'}: upload one of {', '.join(sorted(AUDIO_DEMUXERS))}",
            "file",
            status=415,
        )
    scratch = files.work_dir / "imports"
    scratch.mkdir(parents=True, exist_ok=True)
    upload = scratch / f"{uuid.uuid4().hex}{extension}"
    try:
        with open(upload, "wb") as out:
            copied = _copy_limited(stream, out)
        if copied == 0:
            raise NarrationError("the file is empty", "file")
        decode_check(upload, extension, Path(filename).name)
        _keep_tts_take(files, section_id)
        try:
            result = normalise_narration(upload, files.section_audio(section_id), scratch)
        except StageError as exc:
            raise NarrationError(str(exc), "file", status=415) from exc
    finally:
        upload.unlink(missing_ok=True)
    if result.seconds <= 2 * 0.25 + 0.05:
        files.section_audio(section_id).unlink(missing_ok=True)
        raise NarrationError("the recording is silent", "file")
    _mark_recording(files, section_id, _digest(files.section_audio(section_id)))
    return {"section_id": section_id, "duration": round(result.seconds, 2)}


def _keep_tts_take(files: EpisodeFiles, section_id: str) -> None:
    """Before an upload replaces a text-to-speech take, keep a copy of it to go back to."""
    if audio_source(files, section_id) != "tts":
        return  # no audio, or the user's own recording: nothing of the TTS's to keep
    take = tts_take(files, section_id)
    take.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(take) as tmp:
        shutil.copyfile(files.section_audio(section_id), tmp)


def restore_tts_take(files: EpisodeFiles, section_id: str) -> dict:
    """Put a section's kept text-to-speech take back in place of the user's recording."""
    _require_section(files, section_id)
    take = tts_take(files, section_id)
    if not take.exists():
        raise NarrationError(f"section {section_id} has no TTS take kept", "section_id", status=404)
    audio = files.section_audio(section_id)
    with atomic_output(audio) as tmp:
        shutil.copyfile(take, tmp)
    _mark_recording(files, section_id, None)
    return {"section_id": section_id, "duration": round(media_duration(audio), 2)}


def _copy_limited(stream: BinaryIO, out: BinaryIO) -> int:
    """Copy at most MAX_AUDIO_BYTES; refuse a larger file with 413."""
    total = 0
    while chunk := stream.read(1024 * 1024):
        total += len(chunk)
        if total > MAX_AUDIO_BYTES:
            raise NarrationError(
                f"the file is larger than {MAX_AUDIO_BYTES // 2**20} MB", "file", status=413
            )
        out.write(chunk)
    return total


def delete_narration(files: EpisodeFiles, section_id: str) -> None:
    """Remove a section's narration file."""
    _require_section(files, section_id)
    path = files.section_audio(section_id)
    if not path.exists():
        raise NarrationError(f"section {section_id} has no narration", "section_id", status=404)
    path.unlink()
    _mark_recording(files, section_id, None)
