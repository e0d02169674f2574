"""What a narrative engine is: segments in, the script of API.md out (theme and sections).

The engine returns `{"narrative_theme", "podcast_sections"}`; the narrative stage checks it
with `check_script` and adds `script_metadata`. Section order: intro; per clip NN (01, 02, ...)
pre_clip_NN, clip_NN, post_clip_NN; outro. A narration section the engine has nothing to say
for may be left out; every clip is always there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from services.engines.base import Engine
from services.episodes.files import is_safe_id
from services.episodes.script import NARRATION_TYPES, SECTION_TYPES
from services.episodes.segments import segment_bounds
from services.run.call import EngineCall

WORDS_PER_MINUTE = 150
# report(fraction, message): progress of the "write" sub-stage (EngineCall.report).
WriteReport = Callable[[float, str], None]


def spoken_seconds(text: str) -> float:
    """Return how long `text` takes to say at about 150 words a minute."""
    return round(len(text.split()) * 60.0 / WORDS_PER_MINUTE, 1)


def clip_number(index: int) -> str:
    """Return the two-digit number of the `index`-th clip (1-based): 01, 02, ..."""
    return f"{index:02d}"


def narration_section(section_type: str, text: str, index: int | None = None) -> dict:
    """Return a narration section; pre/post clip ids carry the clip number."""
    section_id = section_type if index is None else f"{section_type}_{clip_number(index)}"
    return {
        "section_id": section_id,
        "section_type": section_type,
        "script_content": text,
        "estimated_duration": spoken_seconds(text),
    }


def clip_section(segment: dict, index: int) -> dict:
    """Return the video_clip section of a segment: its full context span."""
    start, end = segment_bounds(segment)
    clip_id = f"clip_{clip_number(index)}"
    return {
        "section_id": clip_id,
        "section_type": "video_clip",
        "clip_id": clip_id,
        "segment_id": segment["segment_id"],
        "start_time": start,
        "end_time": end,
        "duration": round(end - start, 3),
        "title": segment["narrativeSegmentTitle"],
    }


def _is_time(value: object) -> bool:
    """Tell whether a value is a finite, non-negative number of seconds."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def check_script(script: object, segments: list[dict]) -> list[str]:
    """Return the problems of a script object; an empty list means it is usable."""
    if not isinstance(script, dict):
        return ["the script must be a JSON object"]
    problems = []
    if not isinstance(script.get("narrative_theme"), str) or not script["narrative_theme"].strip():
        problems.append("narrative_theme must be non-empty text")
    sections = script.get("podcast_sections")
    if not isinstance(sections, list) or not sections:
        return problems + ["podcast_sections must be a non-empty list"]
    known = {s["segment_id"]: segment_bounds(s) for s in segments}
    seen: set[str] = set()
    for n, section in enumerate(sections, 1):
        where = f"section {n}"
        if not isinstance(section, dict):
            problems.append(f"{where} must be an object")
            continue
        section_id, kind = section.get("section_id"), section.get("section_type")
        if not isinstance(section_id, str) or not is_safe_id(section_id) or section_id in seen:
            problems.append(f"{where}: section_id must be a unique name of letters, digits, _")
        seen.add(str(section_id))
        if kind not in SECTION_TYPES:
            problems.append(f"{where}: section_type must be one of {', '.join(SECTION_TYPES)}")
        elif kind in NARRATION_TYPES:
            text = section.get("script_content")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where} ({section_id}): script_content must be non-empty text")
        else:
            problems += _check_clip(section, where, known)
    if not any(isinstance(s, dict) and s.get("section_type") == "video_clip" for s in sections):
        problems.append("the script has no video_clip section")
    return problems


def _check_clip(section: dict, where: str, known: dict[str, tuple[float, float]]) -> list[str]:
    """Return the problems of one video_clip section."""
    problems = []
    if not isinstance(section.get("clip_id"), str) or not is_safe_id(section["clip_id"]):
        problems.append(f"{where}: clip_id must be a name of letters, digits and _")
    start, end = section.get("start_time"), section.get("end_time")
    if not (_is_time(start) and _is_time(end) and end > start):
        problems.append(f"{where}: start_time and end_time must be seconds with start < end")
    if not isinstance(section.get("title"), str) or not section["title"].strip():
        problems.append(f"{where}: title must be non-empty text")
    if section.get("segment_id") is not None and section["segment_id"] not in known:
        problems.append(f"{where}: segment_id {section['segment_id']!r} is not a known segment")
    return problems


class NarrativeEngine(Engine):
    """Base of narrative engines: write the narration around chronologically ordered clips."""

    kind: ClassVar[str] = "narrative"

    def write(
        self,
        segments: list[dict],
        prompt_path: Path,
        episode: dict,
        call: EngineCall,
    ) -> dict:
        """Return `{"narrative_theme", "podcast_sections"}` for `segments` (in time order).

        `episode` holds `episode_id` and `title`; `prompt_path` is the narrative prompt file.
        """
        raise NotImplementedError
