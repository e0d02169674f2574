"""The script editor's side of the server: what the page needs, and checking a saved script.

An edited script must pass `check_script` (the stage 4 rules) and three more: every clip
lies inside the source, every narration section has text, and a `voice`, where a section
names one, is a voice some TTS engine offers. Saving fills in the derived fields (each
narration's estimated length, each clip's duration, the metadata's totals) and writes a new
version (services.episodes.script_versions).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.atomic import read_json
from services.engines.narrative.base import (
    SECTION_PAD_SECONDS,
    WORDS_PER_MINUTE,
    check_script,
    spoken_seconds,
)
from services.engines.registry import list_engines
from services.episodes.budget import resolve_target
from services.episodes.files import EpisodeFiles
from services.episodes.script import NARRATION_TYPES, SECTION_TYPES
from services.episodes.script_versions import save_version
from services.episodes.segments import SegmentsError, load_segments, segment_bounds
from services.episodes.selection import source_seconds
from services.run.errors import ClientError

SOURCE_SLACK_SECONDS = 0.05  # a clip may end this much after the source's measured end


class ScriptInvalidError(ClientError):
    """An edited script was refused; `errors` lists every problem, each naming its section."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The script was not saved: " + "; ".join(problems), "podcast_sections")
        self.problems = problems

    def extra(self) -> dict:
        """Return the list of problems for the error body."""
        return {"errors": self.problems}


def known_segments(files: EpisodeFiles) -> list[dict]:
    """Return the analysed and selected segments (each id once); [] when there are none."""
    found: dict[str, dict] = {}
    for path in (files.analysis, files.selected_segments):
        try:
            for segment in load_segments(path):
                found.setdefault(segment["segment_id"], segment)
        except SegmentsError:
            continue
    return list(found.values())


def known_voices(data_dir: Path | None) -> set[str]:
    """Return the id of every voice an available TTS engine offers."""
    return {
        str(voice.get("id"))
        for row in list_engines("tts", data_dir)
        for voice in row.get("voices") or []
        if voice.get("id")
    }


def _section_name(n: int, section: dict) -> str:
    """Return "section 3 (clip_02)" for messages."""
    return f"section {n} ({section.get('section_id')})"


def edit_problems(
    script: object, segments: list[dict], source: float, voices: set[str] | None
) -> list[str]:
    """Return every problem of an edited script; `voices` None means voices are not checked."""
    problems = check_script(script, segments)
    if not isinstance(script, dict) or not isinstance(script.get("podcast_sections"), list):
        return problems
    for n, section in enumerate(script["podcast_sections"], 1):
        if not isinstance(section, dict):
            continue
        end = section.get("end_time")
        is_clip = section.get("section_type") == "video_clip"
        if (
            is_clip
            and source > 0
            and isinstance(end, int | float)
            and end > source + SOURCE_SLACK_SECONDS
        ):
            problems.append(
                f"{_section_name(n, section)}: the clip ends at {end:.2f} s, after the "
                f"source's end ({source:.2f} s)"
            )
        voice = section.get("voice")
        if "voice" in section and voices is not None and voice not in voices:
            problems.append(f"{_section_name(n, section)}: {voice!r} is not a known voice")
    return problems


def with_derived_fields(script: dict) -> dict:
    """Return the script with each section's length and the metadata's totals recomputed."""
    sections = []
    for section in script["podcast_sections"]:
        section = dict(section)
        if section["section_type"] in NARRATION_TYPES:
            section["script_content"] = section["script_content"].strip()
            section["estimated_duration"] = spoken_seconds(section["script_content"])
        else:
            section["start_time"] = round(float(section["start_time"]), 3)
            section["end_time"] = round(float(section["end_time"]), 3)
            section["duration"] = round(section["end_time"] - section["start_time"], 3)
        sections.append(section)
    clips = [s for s in sections if s["section_type"] == "video_clip"]
    metadata = dict(script.get("script_metadata") or {})
    metadata.update(
        clip_count=len(clips),
        total_clip_seconds=round(sum(s["duration"] for s in clips), 3),
        estimated_narration_seconds=round(
            sum(s.get("estimated_duration") or 0 for s in sections if s not in clips), 1
        ),
        edited_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return {**script, "podcast_sections": sections, "script_metadata": metadata}


def save_edited_script(files: EpisodeFiles, body: dict, data_dir: Path | None) -> int:
    """Check an edited script (`note` optional), save it as a new version; return its number."""
    script = {k: v for k, v in body.items() if k not in ("note", "version")}
    sections = script.get("podcast_sections")
    names_voice = isinstance(sections, list) and any(
        isinstance(s, dict) and "voice" in s for s in sections
    )
    voices = known_voices(data_dir) if names_voice else None
    problems = edit_problems(script, known_segments(files), source_seconds(files), voices)
    if problems:
        raise ScriptInvalidError(problems)
    return save_version(files, with_derived_fields(script), body.get("note"))


def _transcript_lines(files: EpisodeFiles) -> list[dict]:
    """Return the transcript's lines `{start, end, speaker, text, words}`; [] without one."""
    try:
        data = read_json(files.transcript)
    except (OSError, ValueError):
        return []
    lines = data.get("segments") if isinstance(data, dict) else None
    keep = ("start", "end", "speaker", "text", "words")
    return [{k: line.get(k) for k in keep} for line in lines or [] if isinstance(line, dict)]


def _source_media(files: EpisodeFiles) -> str | None:
    """Return the source media's path inside the episode folder, or None."""
    for path in (files.original_video, files.original_audio):
        if path.is_file():
            return files.relative(path)
    return None


def _target_seconds(files: EpisodeFiles, source: float) -> float:
    """Return the final's target length: the one stage 3 used, else the default."""
    try:
        chosen = read_json(files.analysis).get("target_seconds")
    except (OSError, ValueError, AttributeError):
        chosen = None
    return resolve_target(chosen if isinstance(chosen, int | float) else None, source)


def editor_context(files: EpisodeFiles) -> dict:
    """Return what the editor shows beside the script: segments, transcript, lengths, media."""
    source = source_seconds(files)
    segments = [
        {
            "segment_id": s["segment_id"],
            "title": s.get("narrativeSegmentTitle") or s["segment_id"],
            "start_time": segment_bounds(s)[0],
            "end_time": segment_bounds(s)[1],
        }
        for s in known_segments(files)
    ]
    return {
        "segments": sorted(segments, key=lambda s: (s["start_time"], s["segment_id"])),
        "transcript": _transcript_lines(files),
        "source_seconds": source,
        "target_seconds": _target_seconds(files, source),
        "words_per_minute": WORDS_PER_MINUTE,
        "pad_seconds": SECTION_PAD_SECONDS,
        "section_types": list(SECTION_TYPES),
        "media": _source_media(files),
    }
