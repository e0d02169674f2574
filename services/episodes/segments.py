"""Analysed segments (API.md): the one definition of their fields, checks and file format.

`Processing/analysis_results.json` and `Processing/selected_segments.json` share one shape:
`{"episode_id", "guideline", "engine", "generated_at", "segments": [<segment>...]}`; the
second holds only the segments the user picked (or the automatic choice, `selected_by: auto`).
The analysis stage adds `selection_basis` (cues, content, or cues and content: whether the
passages were found by the guideline's cue phrases or, failing those, by their content),
`source_seconds`, `target_seconds` and `clip_budget_seconds` (services.episodes.budget).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

from services.atomic import read_json

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")

# The fields of API.md, every one required.
REQUIRED_FIELDS = (
    "segment_id",
    "narrativeSegmentTitle",
    "severityRating",
    "harm_category",
    "primary_speaker_of_quote",
    "confidence_in_classification",
    "brief_reasoning_for_classification",
    "clipContextDescription",
    "segmentDurationInSeconds",
    "fullerContextTimestamps",
    "suggestedClip",
)
# Added by Clipcast's engines; checked when present (an LLM may leave them out): the ranking
# score; the basis of the choice (cues or content); the strongest part of the passage, whole
# sentences, for a reel that must trim it; the better segment this one nearly repeats.
OPTIONAL_FIELDS = ("score", "basis", "coreTimestamps", "repeats")
BASES = ("cues", "content")
SEGMENT_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

SEGMENT_ID = re.compile(r"^seg_\d{3,}$")
_TEXT_FIELDS = (
    "narrativeSegmentTitle",
    "harm_category",
    "primary_speaker_of_quote",
    "brief_reasoning_for_classification",
    "clipContextDescription",
)
# Rounding slack between the stored duration and end - start, and for quote timestamps.
_TOLERANCE = 0.5


class SegmentsError(ValueError):
    """A segments file is missing, unreadable or holds invalid segments."""


def segment_id(number: int) -> str:
    """Return the id of the `number`-th segment (1-based): seg_001, seg_002, ..."""
    return f"seg_{number:03d}"


def _is_number(value: object) -> bool:
    """Tell whether a JSON value is a finite number (booleans are not)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_bounds(bounds: object) -> list[str]:
    """Return the problems of a `fullerContextTimestamps` value."""
    if not isinstance(bounds, dict):
        return ["fullerContextTimestamps must be an object {start, end}"]
    start, end = bounds.get("start"), bounds.get("end")
    if not (_is_number(start) and _is_number(end)):
        return ["fullerContextTimestamps.start and .end must be numbers (seconds)"]
    if start < 0 or end <= start:
        return [f"fullerContextTimestamps must have 0 <= start < end (got {start}, {end})"]
    return []


def _check_clip(clip: object, bounds: dict | None) -> list[str]:
    """Return the problems of a `suggestedClip` value."""
    if not isinstance(clip, list):
        return ["suggestedClip must be a list of {timestamp, quote}"]
    problems = []
    for n, quote in enumerate(clip, 1):
        if not isinstance(quote, dict):
            problems.append(f"suggestedClip[{n}] must be an object {{timestamp, quote}}")
            continue
        stamp, text = quote.get("timestamp"), quote.get("quote")
        if not _is_number(stamp):
            problems.append(f"suggestedClip[{n}].timestamp must be a number (seconds)")
        elif bounds and not (bounds["start"] - _TOLERANCE <= stamp <= bounds["end"] + _TOLERANCE):
            problems.append(f"suggestedClip[{n}].timestamp {stamp} lies outside the segment")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"suggestedClip[{n}].quote must be non-empty text")
    return problems


def validate_segment(d: object) -> list[str]:
    """Return the problems of one segment object; an empty list means it is valid."""
    if not isinstance(d, dict):
        return ["a segment must be a JSON object"]
    missing = [name for name in REQUIRED_FIELDS if name not in d]
    if missing:
        return [f"missing field(s): {', '.join(missing)}"]
    problems: list[str] = []
    if not isinstance(d["segment_id"], str) or not SEGMENT_ID.match(d["segment_id"]):
        problems.append(f"segment_id must look like seg_001 (got {d['segment_id']!r})")
    for name in _TEXT_FIELDS:
        if not isinstance(d[name], str) or not d[name].strip():
            problems.append(f"{name} must be non-empty text")
    if d["severityRating"] not in SEVERITIES:
        problems.append(f"severityRating must be one of {', '.join(SEVERITIES)}")
    confidence = d["confidence_in_classification"]
    if not _is_number(confidence) or not 0.0 <= confidence <= 1.0:
        problems.append("confidence_in_classification must be a number from 0 to 1")
    bound_problems = _check_bounds(d["fullerContextTimestamps"])
    problems += bound_problems
    bounds = None if bound_problems else d["fullerContextTimestamps"]
    duration = d["segmentDurationInSeconds"]
    if not _is_number(duration) or duration <= 0:
        problems.append("segmentDurationInSeconds must be a positive number")
    elif bounds and abs(duration - (bounds["end"] - bounds["start"])) > _TOLERANCE:
        problems.append("segmentDurationInSeconds must equal end - start")
    problems += _check_clip(d["suggestedClip"], bounds)
    if "score" in d and not _is_number(d["score"]):
        problems.append("score must be a number")
    if "basis" in d and d["basis"] not in BASES:
        problems.append(f"basis must be one of {', '.join(BASES)}")
    if "coreTimestamps" in d:
        problems += _check_core(d["coreTimestamps"], bounds)
    if "repeats" in d and (not isinstance(d["repeats"], str) or not SEGMENT_ID.match(d["repeats"])):
        problems.append("repeats must be a segment id such as seg_001")
    return problems


def _check_core(core: object, bounds: dict | None) -> list[str]:
    """Return the problems of a `coreTimestamps` value: a span inside the segment."""
    problems = [p.replace("fullerContextTimestamps", "coreTimestamps") for p in _check_bounds(core)]
    if problems or not bounds or not isinstance(core, dict):
        return problems
    if core["start"] < bounds["start"] - _TOLERANCE or core["end"] > bounds["end"] + _TOLERANCE:
        return ["coreTimestamps must lie inside fullerContextTimestamps"]
    return []


def segment_bounds(segment: dict) -> tuple[float, float]:
    """Return (start, end) seconds of a segment."""
    bounds = segment["fullerContextTimestamps"]
    return float(bounds["start"]), float(bounds["end"])


def chronological(segments: list[dict]) -> list[dict]:
    """Return segments sorted by start time (then id)."""
    return sorted(segments, key=lambda s: (segment_bounds(s)[0], s["segment_id"]))


def segments_document(segments: list[dict], **meta: object) -> dict:
    """Return the file object: episode_id, guideline, engine, generated_at, segments."""
    document: dict = {
        "episode_id": meta.pop("episode_id", None),
        "guideline": meta.pop("guideline", None),
        "engine": meta.pop("engine", None),
        "generated_at": meta.pop("generated_at", datetime.now(UTC).isoformat(timespec="seconds")),
    }
    document.update(meta)
    document["segments"] = list(segments)
    return document


def load_segments(path: Path) -> list[dict]:
    """Read a segments file and return its valid segments; raise SegmentsError otherwise."""
    path = Path(path)
    try:
        data = read_json(path)
    except FileNotFoundError as exc:
        raise SegmentsError(f"{path.name} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise SegmentsError(f"{path.name} is not readable JSON: {exc}") from exc
    segments = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(segments, list):
        raise SegmentsError(f"{path.name} has no 'segments' list")
    seen: set[str] = set()
    for n, segment in enumerate(segments, 1):
        problems = validate_segment(segment)
        if problems:
            raise SegmentsError(f"{path.name}, segment {n}: {'; '.join(problems)}")
        if segment["segment_id"] in seen:
            raise SegmentsError(f"{path.name}: segment id {segment['segment_id']} is repeated")
        seen.add(segment["segment_id"])
    return segments
