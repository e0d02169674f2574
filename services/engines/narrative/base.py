"""What a narrative engine is: segments in, the script of API.md out (theme and sections).

The engine returns `{"narrative_theme", "podcast_sections"}`; the narrative stage checks it
with `check_script` and adds `script_metadata`. Section order: intro; per clip NN (01, 02, ...)
pre_clip_NN, clip_NN, post_clip_NN; outro. A narration section the engine has nothing to say
for may be left out; every clip is always there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from services.captions.subtitles import speaker_name
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


# Each narration file carries this much silence (both ends together) besides its words.
SECTION_PAD_SECONDS = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def narration_seconds(sections: list[dict]) -> float:
    """Return how long the narration sections of a script take to say, pads included."""
    spoken = [s for s in sections if s.get("section_type") in NARRATION_TYPES]
    return sum(spoken_seconds(s["script_content"]) + SECTION_PAD_SECONDS for s in spoken)


def _shorten(section: dict) -> bool:
    """Drop the last sentence of a narration section; tell whether it had one to spare.

    A single sentence with a colon loses what follows it ("We begin with Ann on tea: ..."
    becomes "We begin with Ann on tea.").
    """
    text = section["script_content"].strip()
    parts = _SENTENCE_END.split(text)
    if len(parts) >= 2:
        section["script_content"] = " ".join(parts[:-1])
    elif ": " in text:
        section["script_content"] = text.split(": ", 1)[0].rstrip(",;") + "."
    else:
        return False
    section["estimated_duration"] = spoken_seconds(section["script_content"])
    return True


def fit_narration(sections: list[dict], budget_seconds: float) -> list[dict]:
    """Return the sections with narration cut to `budget_seconds`, as far as it can go.

    Bridges after clips go first (the last first), then the last sentence of the longest of
    the hook and outro, then of the longest set-up, then what follows a colon, until the
    narration fits or every part is down to one short sentence; clips stay.
    """
    kept = [dict(s) for s in sections]
    while narration_seconds(kept) > budget_seconds:
        bridges = [s for s in kept if s.get("section_type") == "post_clip"]
        if bridges:
            kept.remove(bridges[-1])
            continue
        # the hook and outro lose their extra sentences before any clip loses its set-up
        spoken = [s for s in kept if s.get("section_type") in NARRATION_TYPES]
        spoken.sort(
            key=lambda s: (s["section_type"] == "pre_clip", -len(s["script_content"].split()))
        )
        if not any(_shorten(s) for s in spoken):
            break
    return kept


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
    """Return the video_clip section of a segment: its span, title and named speaker."""
    start, end = segment_bounds(segment)
    clip_id = f"clip_{clip_number(index)}"
    speaker = speaker_name(segment.get("primary_speaker_of_quote"))
    return {
        "section_id": clip_id,
        "section_type": "video_clip",
        "clip_id": clip_id,
        "segment_id": segment["segment_id"],
        "start_time": start,
        "end_time": end,
        "duration": round(end - start, 3),
        "title": segment["narrativeSegmentTitle"],
        **({"speaker": speaker} if speaker else {}),
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
