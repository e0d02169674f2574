"""What a creator checks in a final: its length, where clips cut, loudness section by section."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

from services.media.ffmpeg import probe
from services.media.loudness import SILENCE_LUFS, span_loudness

TARGET_LUFS = -16.0
WORD_EDGE_TOLERANCE = 0.03  # seconds: a cut this close to a word's edge is on the edge


@dataclass(frozen=True)
class Section:
    """One chapter of a final (a narration section or a clip) and its measured loudness."""

    title: str
    start: float
    end: float
    lufs: float | None


def chapters(path: Path) -> list[tuple[str, float, float]]:
    """Return (title, start, end) of every chapter of a media file."""
    return [
        (str(c.get("tags", {}).get("title", "")), float(c["start_time"]), float(c["end_time"]))
        for c in probe(path).get("chapters", [])
    ]


def section_loudness(final: Path) -> list[Section]:
    """Measure every chapter of the final (narration sections and clips) with ebur128."""
    sections = chapters(final)
    measured = span_loudness(final, [(start, end) for _, start, end in sections])
    return [
        Section(title, start, end, lufs if lufs > SILENCE_LUFS else None)
        for (title, start, end), lufs in zip(sections, measured, strict=True)
    ]


def worst_deviation(sections: list[Section], target: float = TARGET_LUFS) -> float | None:
    """Return the largest distance in LU of a measured section from the target."""
    values = [abs(s.lufs - target) for s in sections if s.lufs is not None]
    return max(values) if values else None


def transcript_words(transcript: dict) -> list[tuple[float, float]]:
    """Return (start, end) of every timed word of a transcript."""
    return [
        (float(w["start"]), float(w["end"]))
        for segment in transcript.get("segments", [])
        for w in segment.get("words") or []
    ]


def cuts_inside_words(script: dict, words: list[tuple[float, float]]) -> int:
    """Count clip in and out points of a script that fall inside a spoken word."""
    inside = 0
    for section in script.get("podcast_sections", []):
        if section.get("section_type") != "video_clip":
            continue
        for cut in (float(section["start_time"]), float(section["end_time"])):
            if any(
                start + WORD_EDGE_TOLERANCE < cut < end - WORD_EDGE_TOLERANCE
                for start, end in words
            ):
                inside += 1
    return inside


def clip_count(script: dict) -> int:
    """Return how many clips a script has."""
    return sum(1 for s in script.get("podcast_sections", []) if s["section_type"] == "video_clip")


def narration_texts(script: dict) -> list[str]:
    """Return the narration text of every non-clip section, in order."""
    return [
        str(s.get("script_content") or "")
        for s in script.get("podcast_sections", [])
        if s.get("section_type") != "video_clip" and s.get("script_content")
    ]


def fixed_windows(path: Path, step: float = 4.0) -> list[dict]:
    """Return transcript-like segments every `step` seconds over a WAV (for diarization)."""
    with wave.open(str(path)) as source:
        seconds = source.getnframes() / source.getframerate()
    starts = [n * step for n in range(int(seconds // step))]
    return [{"start": s, "end": min(seconds, s + step), "text": "words"} for s in starts]
