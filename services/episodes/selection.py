"""The segment picker's work: sorting analysed segments and saving the user's selection."""

from __future__ import annotations

from services.atomic import read_json, write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.segments import SEVERITIES, SegmentsError, load_segments, segment_bounds
from services.run.errors import ClientError

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


def record_auto_selection(files: EpisodeFiles, segments: list[dict]) -> None:
    """Record the segments an automatic run narrates as the current (auto) selection."""
    write_selection(files, segments, "auto")


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
