"""A reel's length budget: the target length of the final and the share its clips may fill.

The final is the clips plus the narration around them. By default it runs at most a third
of the source and at most ten minutes (`default_target`); the clips fill about three
quarters of it (`clip_budget`) and the narration the rest, at most about a quarter
(`narration_budget`). A final is never longer than its source unless the user asks for it
with a target above the source's length.
"""

from __future__ import annotations

import re

SOURCE_SHARE = 1 / 3  # the default final runs at most this share of the source
MAX_DEFAULT_SECONDS = 600.0  # ... and at most ten minutes
CLIP_SHARE = 0.75  # the clips' share of the final; the narration takes the rest
# The narration's floor, however short the clips: a hook, an outro and a line per clip.
MIN_NARRATION_SECONDS = 10.0
MIN_NARRATION_SECONDS_PER_CLIP = 6.0
# Spoken narration runs a little longer than its words-per-minute estimate (pauses, padding).
NARRATION_MARGIN = 0.05
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def default_target(source_seconds: float) -> float:
    """Return the default length of a final: a third of the source, at most ten minutes."""
    return round(min(max(0.0, source_seconds) * SOURCE_SHARE, MAX_DEFAULT_SECONDS), 3)


def resolve_target(target_seconds: float | None, source_seconds: float) -> float:
    """Return the final's target length: the user's when given, else the default."""
    return float(target_seconds) if target_seconds else default_target(source_seconds)


def clip_budget(target_seconds: float) -> float:
    """Return how many seconds of clips a final of `target_seconds` holds (about 75 %)."""
    return round(max(0.0, target_seconds) * CLIP_SHARE, 3)


def narration_floor(clip_count: int) -> float:
    """Return the least narration a final of `clip_count` clips gets (hook, outro, set-ups)."""
    return MIN_NARRATION_SECONDS + MIN_NARRATION_SECONDS_PER_CLIP * max(0, clip_count)


def clips_fit(target_seconds: float, clip_seconds: float, clip_count: int) -> bool:
    """Tell whether clips of this length and count leave room for their least narration."""
    room = max(0.0, target_seconds) * (1.0 - NARRATION_MARGIN)
    return clip_seconds + narration_floor(clip_count) <= room


def narration_budget(target_seconds: float, clip_seconds: float) -> float:
    """Return the narration's share: what the clips leave, at most a quarter of the target."""
    quarter = max(0.0, target_seconds) * (1.0 - CLIP_SHARE)
    return round(max(0.0, min(quarter, target_seconds - clip_seconds)), 3)


def parse_duration(text: str) -> float:
    """Parse "300", "90s", "5m", "1m30s" or "1h" into seconds; raise ValueError otherwise."""
    compact = re.sub(r"\s+", "", str(text).lower()).replace("min", "m").replace("sec", "s")
    match = _DURATION.match(compact)
    if not compact or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a length such as 300, 90s, 5m or 1m30s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds
