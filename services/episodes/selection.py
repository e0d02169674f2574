"""The segment picker's work: sorting analysed segments, saving the user's selection, and the
automatic selection of a run that does not wait for the user (`auto_selection`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from services.atomic import read_json, write_json_atomic
from services.episodes.budget import clip_budget, clips_fit, default_target
from services.episodes.files import EpisodeFiles
from services.episodes.segments import (
    SEVERITIES,
    SegmentsError,
    chronological,
    load_segments,
    segment_bounds,
)
from services.run.errors import ClientError

NEAR_DUPLICATE = 0.6  # share of shared words (Jaccard) above which two passages say the same
_WORD = re.compile(r"[a-z0-9']+")

SORT_KEYS = {
    # Severity sorts by rank: "desc" puts CRITICAL first.
    "severity": lambda s: len(SEVERITIES) - SEVERITIES.index(s["severityRating"]),
    "duration": lambda s: float(s["segmentDurationInSeconds"]),
    "speaker": lambda s: s["primary_speaker_of_quote"].lower(),
    "category": lambda s: s["harm_category"].lower(),
    "confidence": lambda s: float(s["confidence_in_classification"]),
    "timestamp": lambda s: segment_bounds(s)[0],
}


class SelectionError(ClientError):
    """A picker request that cannot be carried out."""


def sorted_segments(segments: list[dict], key: str = "timestamp", order: str = "asc") -> list[dict]:
    """Sort segments by one of SORT_KEYS; ties keep timestamp order."""
    if key not in SORT_KEYS:
        raise SelectionError(f"sort must be one of: {', '.join(SORT_KEYS)}", "sort")
    if order not in ("asc", "desc"):
        raise SelectionError("order must be asc or desc", "order")
    by_time = sorted(segments, key=SORT_KEYS["timestamp"])
    return sorted(by_time, key=SORT_KEYS[key], reverse=order == "desc")


def analysed_segments(files: EpisodeFiles) -> list[dict]:
    """Return the episode's analysed segments, or raise 404 when stage 3 has not run."""
    if not files.analysis.exists():
        raise SelectionError("no analysis yet: run stage 3 first", status=404)
    try:
        return load_segments(files.analysis)
    except SegmentsError as exc:
        raise SelectionError(str(exc), status=409) from exc


def selection_is_current(files: EpisodeFiles) -> bool:
    """Tell whether a saved selection exists and is newer than the analysis it was made from."""
    if not files.selected_segments.exists():
        return False
    if not files.analysis.exists():
        return True
    return files.selected_segments.stat().st_mtime_ns >= files.analysis.stat().st_mtime_ns


def selection_source(files: EpisodeFiles) -> str | None:
    """Return who made the current selection: "user", "auto", or None when there is none."""
    if not selection_is_current(files):
        return None
    try:
        return read_json(files.selected_segments).get("selected_by") or "user"
    except (OSError, ValueError, AttributeError):
        return None


def user_selection_is_current(files: EpisodeFiles) -> bool:
    """Tell whether the current selection was made by a person (not recorded by an auto run)."""
    return selection_source(files) == "user"


def write_selection(files: EpisodeFiles, segments: list[dict], selected_by: str) -> None:
    """Write selected_segments.json: the analysis document holding only `segments`."""
    document = read_json(files.analysis)
    document["segments"] = segments
    document["selection_of"] = files.relative(files.analysis)
    document["selected_by"] = selected_by
    write_json_atomic(files.selected_segments, document)


def _positive(read: Callable[[dict], object], path: Path) -> float | None:
    """Return the positive number `read` finds in a JSON file, else None."""
    try:
        value = float(read(read_json(path)) or 0.0)  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return value if value > 0 else None


def media_seconds(files: EpisodeFiles) -> float | None:
    """Return the source media's length from Input/metadata.json, else None."""
    return _positive(lambda d: d.get("duration"), files.metadata)


def source_seconds(files: EpisodeFiles) -> float:
    """Return the source's length: the media's, else the transcript's last end, else 0."""
    last_end = _positive(
        lambda d: max((float(r["end"]) for r in d["segments"]), default=0), files.transcript
    )
    return media_seconds(files) or last_end or 0.0


def _rank(segment: dict) -> tuple[float, float, float]:
    """Return a sort key, best first: score, else severity and confidence."""
    severity = len(SEVERITIES) - SEVERITIES.index(segment["severityRating"])
    confidence = float(segment["confidence_in_classification"])
    return (-float(segment.get("score", severity)), -severity, -confidence)


def _words(segment: dict) -> set[str]:
    """Return the words of a segment's quotes (what it says)."""
    text = " ".join(q["quote"] for q in segment["suggestedClip"]).lower()
    return set(_WORD.findall(text))


def _duplicates(segment: dict, chosen: list[dict]) -> bool:
    """Tell whether a segment nearly repeats a chosen one (by `repeats` or shared words)."""
    if segment.get("repeats") in {c["segment_id"] for c in chosen}:
        return True
    words = _words(segment)
    for other in chosen:
        theirs = _words(other)
        if words and theirs and len(words & theirs) / len(words | theirs) > NEAR_DUPLICATE:
            return True
    return False


def trimmed(segment: dict) -> dict:
    """Return the segment cut to its strongest part (`coreTimestamps`), its quotes inside."""
    core = segment["coreTimestamps"]
    start, end = float(core["start"]), float(core["end"])
    quotes = [q for q in segment["suggestedClip"] if start - 0.5 <= q["timestamp"] <= end]
    cut = {k: v for k, v in segment.items() if k != "coreTimestamps"}
    cut.update(
        fullerContextTimestamps={"start": start, "end": end},
        segmentDurationInSeconds=round(end - start, 3),
        suggestedClip=quotes,
        trimmedFrom=dict(segment["fullerContextTimestamps"]),
    )
    return cut


def auto_selection(
    segments: list[dict], budget_seconds: float, target_seconds: float | None = None
) -> list[dict]:
    """Return the passages an automatic run narrates, in source order.

    The best passages (by score) fill up to `budget_seconds` of clips; a passage too long for
    what is left is trimmed to its strongest sentences (`coreTimestamps`) when those fit;
    near-duplicates of a chosen passage are left out. With a `target_seconds`, a passage is
    taken only while the clips still leave room for their least narration (a short source's
    clips shrink so that the final keeps to its target). At least one passage is always chosen
    (trimmed when it has a core), so a run never ends without a clip.
    """
    chosen: list[dict] = []
    used = 0.0
    for segment in sorted(segments, key=_rank):
        if _duplicates(segment, chosen):
            continue
        options = [segment, trimmed(segment)] if "coreTimestamps" in segment else [segment]
        for option in options:
            seconds = float(option["segmentDurationInSeconds"])
            fits = target_seconds is None or clips_fit(
                target_seconds, used + seconds, len(chosen) + 1
            )
            if used + seconds <= budget_seconds and fits:
                chosen.append(option)
                used += seconds
                break
    if not chosen and segments:
        best = min(segments, key=_rank)
        chosen = [trimmed(best) if "coreTimestamps" in best else best]
    return chronological(chosen)


def record_auto_selection(files: EpisodeFiles, segments: list[dict]) -> list[dict]:
    """Choose and record the segments an automatic run narrates (the current auto selection).

    The clip budget is the analysis file's `clip_budget_seconds`, else that of the default
    target for the source's length; returns the chosen segments in source order.
    """
    try:
        analysis = read_json(files.analysis)
        budget = float(analysis.get("clip_budget_seconds") or 0.0)
        target = float(analysis.get("target_seconds") or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        budget, target = 0.0, 0.0
    target = target or default_target(source_seconds(files))
    budget = budget or clip_budget(target)
    chosen = auto_selection(segments, budget, target or None)  # None: the length is unknown
    write_selection(files, chosen, "auto")
    return chosen


def selected_ids(files: EpisodeFiles) -> list[str]:
    """Return the ids of the current saved selection (empty when none or stale)."""
    if not selection_is_current(files):
        return []
    try:
        return [s["segment_id"] for s in load_segments(files.selected_segments)]
    except SegmentsError:
        return []


def save_selection(files: EpisodeFiles, segment_ids: object) -> int:
    """Write selected_segments.json with the chosen segments, in the analysis format."""
    if not isinstance(segment_ids, list) or not all(isinstance(i, str) for i in segment_ids):
        raise SelectionError("segment_ids must be a list of segment ids", "segment_ids")
    if not segment_ids:
        raise SelectionError("select at least one segment", "segment_ids")
    segments = analysed_segments(files)
    known = {s["segment_id"]: s for s in segments}
    unknown = [i for i in segment_ids if i not in known]
    if unknown:
        raise SelectionError(f"unknown segment id(s): {', '.join(unknown)}", "segment_ids")
    wanted = set(segment_ids)
    chosen = [s for s in segments if s["segment_id"] in wanted]
    write_selection(files, chosen, "user")
    return len(chosen)
