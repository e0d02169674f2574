"""The template narrative engine: render the narration with the macros of a Jinja template.

The template (config/prompts/narrative/*.j2, or the user's) must define five macros, each
of which renders one part of the script; the header of `default.j2` documents them and the
fields of `segment` and `episode` (what the narrative stage learnt of each passage from the
transcript: speakers, key phrases, key sentence; see passages.py). Templates run in Jinja's
sandbox, undefined names are errors, and output is plain text (no HTML escaping) with
whitespace collapsed.
"""

from __future__ import annotations

import re
import traceback
from collections import Counter
from pathlib import Path

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from services.captions.subtitles import speaker_name
from services.engines.narrative.base import (
    WORDS_PER_MINUTE,
    NarrativeEngine,
    WriteReport,
    clip_section,
    narration_section,
)
from services.episodes.segments import segment_bounds
from services.run.call import EngineCall

REQUIRED_MACROS = {
    "theme": ("segments", "episode"),
    "intro": ("theme", "segments", "episode"),
    "pre_clip": ("segment", "index", "total"),
    "post_clip": ("segment", "index", "total"),
    "outro": ("theme", "segments", "episode"),
}
_SIGNATURES = ", ".join(f"{m}({', '.join(a)})" for m, a in REQUIRED_MACROS.items())
_NUMBERS = (
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_QUOTED = re.compile(r"[\"“]([^\"”]{2,60})[\"”]")


class TemplateCheckError(ValueError):
    """A narrative template does not parse or does not render; `line` points at the cause."""

    def __init__(self, line: int | None, reason: str, name: str = "template") -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"{name}, line {line}: {reason}" if line else f"{name}: {reason}")


def spoken_number(n: int) -> str:
    """Say a small count in words ("three"), larger ones in digits."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def spoken_duration(seconds: float) -> str:
    """Say a duration the way a narrator would: "45 seconds", "about two minutes"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} seconds"
    minutes = round(seconds / 60)
    return f"about {spoken_number(minutes)} minutes"


def _upfirst(text: str) -> str:
    """Upper-case the first letter only (Jinja's `capitalize` lowers the rest)."""
    return text[:1].upper() + text[1:]


def _environment() -> SandboxedEnvironment:
    """Return the sandbox templates run in: plain text, strict about undefined names."""
    env = SandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["upfirst"] = _upfirst
    env.globals.update(
        spoken_number=spoken_number, spoken_duration=spoken_duration, spoken_list=spoken_list
    )
    return env


def _line_of(exc: BaseException, template: Template) -> int | None:
    """Return the template line where a rendering error happened (from the traceback)."""
    # Macros called from Python raise through the compiled code, whose lines the template's
    # debug info maps back to template lines.
    lines = [
        f.lineno
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename == "<template>" and f.lineno
    ]
    return template.get_corresponding_lineno(lines[-1]) if lines else None


def compile_template(source: str, name: str = "template") -> Template:
    """Compile template text and check its macros; raise TemplateCheckError with the line."""
    try:
        template = _environment().from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateCheckError(exc.lineno, exc.message or str(exc), name) from exc
    try:
        module = template.module
    except Exception as exc:  # noqa: BLE001 - top-level template code may fail in any way
        raise TemplateCheckError(
            _line_of(exc, template), f"{type(exc).__name__}: {exc}", name
        ) from exc
    for macro, arguments in REQUIRED_MACROS.items():
        found = getattr(module, macro, None)
        if found is None or not callable(found):
            raise TemplateCheckError(
                None, f"the template defines no macro {macro!r} (needed: {_SIGNATURES})", name
            )
        if len(getattr(found, "arguments", ())) != len(arguments):
            raise TemplateCheckError(
                None, f"macro {macro!r} must take ({', '.join(arguments)})", name
            )
    return template


def _call(template: Template, macro: str, name: str, *args: object) -> str:
    """Call one macro; return its text with whitespace collapsed."""
    try:
        text = str(getattr(template.module, macro)(*args))
    except Exception as exc:  # noqa: BLE001 - user templates fail in many ways; report the line
        raise TemplateCheckError(
            _line_of(exc, template), f"{macro}: {type(exc).__name__}: {exc}", name
        ) from exc
    return " ".join(text.split())


def _reason(reasoning: str) -> str:
    """Return a short paraphrase of a reasoning: its first clause, at most 30 words."""
    clause = re.split(r"[:;]|(?<=[.!?])\s", reasoning.strip(), maxsplit=1)[0]
    words = clause.strip().rstrip(".!?").split()
    return " ".join(words[:30]) + ("..." if len(words) > 30 else "")


def spoken_list(items: list[str]) -> str:
    """Join items the way they are said: "a", "a and b", "a, b and c"."""
    items = [i for i in items if i]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def segment_view(segment: dict, index: int, passage: dict | None = None) -> dict:
    """Return what a template sees of one segment (the file's fields plus friendly ones)."""
    start, end = segment_bounds(segment)
    passage = passage or {}
    named = passage.get("speakers") or []
    speaker = named[0] if named else speaker_name(segment.get("primary_speaker_of_quote"))
    known = speaker is not None
    quotes = segment.get("suggestedClip") or []
    reasoning = segment.get("brief_reasoning_for_classification", "")
    return {
        **segment,
        "id": segment["segment_id"],
        "number": index,
        "title": segment["narrativeSegmentTitle"],
        "category": segment["harm_category"],
        "severity": segment["severityRating"],
        "severity_word": segment["severityRating"].lower(),
        "speaker": speaker if known else "the speaker",
        "speaker_known": known,
        "speakers": named,
        "speakers_words": spoken_list(named),
        "who": spoken_list(named) if len(named) > 1 else (speaker or "the speaker"),
        "topic": (passage.get("topics") or [segment["narrativeSegmentTitle"]])[0],
        "topics": passage.get("topics") or [],
        "key_sentence": passage.get("key_sentence") or "",
        "key_is_quote": bool(passage.get("key_is_quote")),
        "next": None,  # the view of the clip that plays next (set by render_sections)
        "previous": None,
        "start": start,
        "end": end,
        "duration": round(end - start),
        "start_clock": f"{int(start) // 60}:{int(start) % 60:02d}",
        "duration_words": spoken_duration(end - start),
        "reason": _reason(reasoning),
        "cues": [f'"{c}"' for c in _QUOTED.findall(reasoning)][:3],
        "quote": quotes[0]["quote"] if quotes else "",
        "context": segment.get("clipContextDescription", ""),
        "confidence": segment.get("confidence_in_classification", 0.0),
    }


def episode_view(episode: dict, views: list[dict]) -> dict:
    """Return what a template sees of the episode: id, title, speakers, counts, budget."""
    categories = Counter(v["category"] for v in views)
    seconds = sum(v["end"] - v["start"] for v in views)
    speakers = list(episode.get("speakers") or [])
    budget = episode.get("narration_seconds")
    words = round(budget * WORDS_PER_MINUTE / 60) if budget else None
    return {
        "episode_id": episode.get("episode_id", ""),
        "title": episode.get("title") or "this recording",
        "title_known": bool(episode.get("title")),
        "speakers": speakers,
        "speakers_words": spoken_list(speakers),
        "speaker_count": int(episode.get("speaker_count") or len(speakers) or 1),
        "speaker_count_words": spoken_number(int(episode.get("speaker_count") or 1)),
        "guideline": episode.get("guideline") or "",
        "narration_words": words,
        # brief: the budget leaves room for about a sentence or two per part only
        "brief": words is not None and words < 40 + 32 * len(views),
        "clip_count": len(views),
        "clip_count_words": spoken_number(len(views)),
        "categories": [c for c, _ in categories.most_common()],
        "total_clip_seconds": round(seconds, 1),
        "total_clip_words": spoken_duration(seconds),
    }


def render_sections(
    template: Template,
    segments: list[dict],
    episode: dict,
    report: WriteReport | None = None,
    name: str = "template",
) -> dict:
    """Render theme and sections for segments (in time order) with a compiled template."""
    passages = episode.get("passages") or {}
    views = [segment_view(s, n, passages.get(s["segment_id"])) for n, s in enumerate(segments, 1)]
    for before, after in zip(views, views[1:], strict=False):
        before["next"], after["previous"] = after, before
    context = episode_view(episode, views)
    for view in views:
        view["brief"] = context["brief"]
    theme = _call(template, "theme", name, views, context) or f"Moments from {context['title']}"
    sections = []

    def add(kind: str, text: str, index: int | None = None) -> None:
        if text:  # a macro that renders nothing leaves its section out
            sections.append(narration_section(kind, text, index))

    add("intro", _call(template, "intro", name, theme, views, context))
    for n, (segment, view) in enumerate(zip(segments, views, strict=True), 1):
        add("pre_clip", _call(template, "pre_clip", name, view, n, len(views)), n)
        sections.append(clip_section(segment, n))
        add("post_clip", _call(template, "post_clip", name, view, n, len(views)), n)
        if report:
            report(n / len(views), f"narrated clip {n} of {len(views)}")
    add("outro", _call(template, "outro", name, theme, views, context))
    return {"narrative_theme": theme, "podcast_sections": sections}


SAMPLE_SEGMENTS = [
    {
        "segment_id": "seg_001",
        "narrativeSegmentTitle": "Miracle cure claims about ginger tea",
        "severityRating": "HIGH",
        "harm_category": "Medical misinformation",
        "primary_speaker_of_quote": "Sam",
        "confidence_in_classification": 0.8,
        "brief_reasoning_for_classification": "The passage uses medical misinformation "
        'language in 4 of 6 sentences: "miracle cure" (twice), "detox" (once).',
        "clipContextDescription": "Sam talks about ginger tea from 1:00 to 1:40 (40 s).",
        "segmentDurationInSeconds": 40.0,
        "fullerContextTimestamps": {"start": 60.0, "end": 100.0},
        "suggestedClip": [{"timestamp": 61.0, "quote": "Ginger tea is a miracle cure."}],
        "score": 7.5,
    },
    {
        "segment_id": "seg_002",
        "narrativeSegmentTitle": "Guaranteed returns pitch about crypto coins",
        "severityRating": "LOW",
        "harm_category": "Financial scam",
        "primary_speaker_of_quote": "unknown",
        "confidence_in_classification": 0.4,
        "brief_reasoning_for_classification": "A pitch promising guaranteed returns.",
        "clipContextDescription": "The speaker talks about crypto coins.",
        "segmentDurationInSeconds": 95.0,
        "fullerContextTimestamps": {"start": 200.0, "end": 295.0},
        "suggestedClip": [],
        "score": 2.0,
    },
]


def render_check(path: Path) -> None:
    """Check a narrative template parses and renders on sample data; raise TemplateCheckError."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateCheckError(None, f"cannot be read: {exc}", path.name) from exc
    check_template_text(source, path.name)


def check_template_text(source: str, name: str = "template") -> None:
    """Check template text the way render_check checks a file."""
    template = compile_template(source, name)
    for segments in (SAMPLE_SEGMENTS, SAMPLE_SEGMENTS[:1]):
        render_sections(
            template, segments, {"episode_id": "sample", "title": "A sample talk"}, name=name
        )


class TemplateNarrativeEngine(NarrativeEngine):
    """Write the narration offline from a Jinja template's macros."""

    name = "template"
    description = "Offline: fills a narrative template (Jinja macros) with each segment's details."

    def write(
        self,
        segments: list[dict],
        prompt_path: Path,
        episode: dict,
        call: EngineCall,
    ) -> dict:
        """Render the template at `prompt_path` around `segments`; raise TemplateCheckError."""
        path = Path(prompt_path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateCheckError(None, f"cannot be read: {exc}", path.name) from exc
        template = compile_template(source, path.name)
        call.report(0.0, f"template {path.name} compiled")
        return render_sections(template, segments, episode, call.report, path.name)
