"""What a creator checks in a final: its length, where clips cut, loudness section by section."""

from __future__ import annotations

import json
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

TARGET_LUFS = -16.0
WORD_EDGE_TOLERANCE = 0.03  # seconds: a cut this close to a word's edge is on the edge


@dataclass(frozen=True)
class Section:
    """One chapter of a final (a narration section or a clip) and its measured loudness."""

    title: str
    start: float
    end: float
    lufs: float | None


def media_seconds(path: Path) -> float:
    """Return a media file's duration in seconds (ffprobe)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


def chapters(path: Path) -> list[tuple[str, float, float]]:
    """Return (title, start, end) of every chapter of a media file."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        (
            str(c.get("tags", {}).get("title", "")),
            float(c["start_time"]),
            float(c["end_time"]),
        )
        for c in json.loads(out).get("chapters", [])
    ]


def loudness_of_range(path: Path, start: float, end: float) -> float | None:
    """Return the integrated loudness (LUFS) of one stretch of a file's sound."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-ss", f"{start:.3f}", "-t"]
    command += [f"{max(0.0, end - start):.3f}", "-i", str(path), "-map", "0:a:0"]
    command += ["-af", "ebur128", "-f", "null", "-"]
    stderr = subprocess.run(command, capture_output=True, text=True).stderr
    found = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", stderr)
    if not found or found[-1] == "-inf":
        return None
    return float(found[-1])


def section_loudness(final: Path) -> list[Section]:
    """Measure every chapter of the final (narration sections and clips) with ebur128."""
    return [
        Section(title, start, end, loudness_of_range(final, start, end))
        for title, start, end in chapters(final)
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
