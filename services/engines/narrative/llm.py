"""The `llm` narrative engine: a chat model writes the narration around the chosen clips.

The system prompt is the narrative template file as written (its header explains the five
parts and the narrator's voice) plus the script format of API.md; the request lists the
segments in play order. The answer's narration is kept and put in canonical order around
clip sections built from the segments themselves, so clip times never depend on the model;
the result is checked with `check_script`, and an unusable answer is sent back with what
was wrong, up to LLM_MAX_TRIES times.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

from services.engines.base import engine_failure
from services.engines.clients.chat import ChatClient, ChatEngine, NoUsableReply
from services.engines.clients.http import ApiError
from services.engines.clients.replies import ReplyError
from services.engines.narrative.base import (
    NarrativeEngine,
    check_script,
    clip_section,
    narration_section,
)
from services.episodes.segments import segment_bounds
from services.run.call import EngineCall
from services.run.errors import InvalidInputError, ToolError
from services.run.words import plural

SETTINGS = "LLM_BASE_URL, LLM_API_KEY and LLM_MODEL"
_NUMBER = re.compile(r"(\d+)\s*$")

FORMAT_INSTRUCTIONS = """
# Output format
Write the narration of a podcast that plays the clips listed by the user, in that order.
Answer with one JSON object and nothing else:
{"narrative_theme": "<one line naming what ties the clips together>",
 "podcast_sections": [
   {"section_id": "intro", "section_type": "intro", "script_content": "<spoken text>"},
   {"section_id": "pre_clip_01", "section_type": "pre_clip", "script_content": "..."},
   {"section_id": "clip_01", "section_type": "video_clip", "clip_id": "clip_01",
    "segment_id": "<the clip's segment_id>", "start_time": <seconds>, "end_time": <seconds>,
    "title": "<the clip's title>"},
   {"section_id": "post_clip_01", "section_type": "post_clip", "script_content": "..."},
   ... the same three sections for clip_02, clip_03, ...,
   {"section_id": "outro", "section_type": "outro", "script_content": "..."}]}
script_content is plain text to be read aloud: no markup, no stage directions, no symbols.
Keep every clip, in the order given, with its own start_time and end_time.
"""


def system_prompt(template_text: str) -> str:
    """Return the system prompt: the narrative template as a style guide, then the format."""
    return (
        "You write narration for Clipcast, which turns a long video into a narrated "
        "compilation. The narrative template below (Jinja) is the house style: follow its "
        "voice, its structure and the kind of things each part says, writing freely in that "
        "style instead of filling it in mechanically.\n\n# Narrative template\n"
        f"{template_text.strip()}\n{FORMAT_INSTRUCTIONS}"
    )


def user_prompt(segments: list[dict], episode: dict) -> str:
    """Return the request: the episode and its clips in play order."""
    clips = []
    passages = episode.get("passages") or {}
    for number, segment in enumerate(segments, 1):
        start, end = segment_bounds(segment)
        passage = passages.get(segment["segment_id"]) or {}
        clips.append(
            {
                "clip_id": f"clip_{number:02d}",
                "segment_id": segment["segment_id"],
                "start_time": start,
                "end_time": end,
                "title": segment["narrativeSegmentTitle"],
                "category": segment["harm_category"],
                "severity": segment["severityRating"],
                "speaker": segment["primary_speaker_of_quote"],
                "reasoning": segment["brief_reasoning_for_classification"],
                "context": segment["clipContextDescription"],
                "quotes": [q["quote"] for q in segment.get("suggestedClip") or []][:3],
                "speakers": passage.get("speakers") or [],
                "key_phrases": passage.get("topics") or [],
                "key_sentence": passage.get("key_sentence") or "",
            }
        )
    title = episode.get("title") or "this recording"
    speakers = ", ".join(episode.get("speakers") or []) or "not named"
    budget = episode.get("narration_seconds")
    words = f"\nNarration budget: at most {round(budget * 2.5)} words in all." if budget else ""
    return (
        f"Episode: {title}\nSpeakers: {speakers}{words}\nClips, in the order they play:\n"
        f"{json.dumps(clips, indent=1, ensure_ascii=False)}\n"
    )


def _clip_of(section: dict, kind: str, seen: int, total: int, ids: dict[str, int]) -> int | None:
    """Return the clip number (1-based) a pre/post clip section belongs to."""
    if section.get("segment_id") in ids:
        return ids[section["segment_id"]]
    match = _NUMBER.search(str(section.get("section_id") or ""))
    if match and 1 <= int(match.group(1)) <= total:
        return int(match.group(1))
    number = seen + 1 if kind == "pre_clip" else seen
    return number if 1 <= number <= total else None


def assemble_script(data: object, segments: list[dict]) -> dict:
    """Return the canonical script from a parsed answer; raise ReplyError when unusable."""
    if isinstance(data, dict) and "podcast_sections" not in data:
        inner = next((v for v in data.values() if isinstance(v, dict)), None)
        data = inner if inner and "podcast_sections" in inner else data
    if not isinstance(data, dict) or not isinstance(data.get("podcast_sections"), list):
        raise ReplyError('the JSON object has no "podcast_sections" list')
    ids = {s["segment_id"]: n for n, s in enumerate(segments, 1)}
    texts: dict[tuple[str, int | None], str] = {}
    seen = 0
    for section in data["podcast_sections"]:
        if not isinstance(section, dict):
            continue
        kind = section.get("section_type")
        text = section.get("script_content")
        text = " ".join(text.split()) if isinstance(text, str) else ""
        if kind == "video_clip":
            seen += 1
        elif kind in ("intro", "outro") and text:
            texts.setdefault((kind, None), text)
        elif kind in ("pre_clip", "post_clip") and text:
            number = _clip_of(section, kind, seen, len(segments), ids)
            if number is not None:
                texts.setdefault((kind, number), text)
    if not texts:
        raise ReplyError("the script has no narration (every script_content was empty)")
    sections = []
    if ("intro", None) in texts:
        sections.append(narration_section("intro", texts[("intro", None)]))
    for number, segment in enumerate(segments, 1):
        for kind in ("pre_clip", "post_clip"):
            if kind == "post_clip":
                sections.append(clip_section(segment, number))
            if (kind, number) in texts:
                sections.append(narration_section(kind, texts[(kind, number)], number))
    if ("outro", None) in texts:
        sections.append(narration_section("outro", texts[("outro", None)]))
    theme = data.get("narrative_theme")
    theme = " ".join(theme.split()) if isinstance(theme, str) and theme.strip() else ""
    script = {"narrative_theme": theme, "podcast_sections": sections}
    problems = check_script(script, segments)
    if problems:
        raise ReplyError("; ".join(problems[:3]))
    return script


class LLMNarrativeEngine(ChatEngine, NarrativeEngine):
    """Ask an OpenAI-compatible chat model to write the narration."""

    name: ClassVar[str] = "llm"
    description: ClassVar[str] = (
        "A language model writes the narration in the style of the chosen template; "
        "set LLM_BASE_URL/LLM_API_KEY/LLM_MODEL."
    )

    def write(
        self,
        segments: list[dict],
        prompt_path: Path,
        episode: dict,
        call: EngineCall,
    ) -> dict:
        """Return `{"narrative_theme", "podcast_sections"}` written by the model."""
        log = call.logger
        try:
            template_text = Path(prompt_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"The narrative template cannot be read: {exc}.") from exc
        client = ChatClient(call=call, engine=self.name)
        log.info(
            "Asking %s for the narration of %s",
            client.endpoint.describe(),
            plural(len(segments), "clip"),
        )
        call.report(0.0, f"asking {client.endpoint.base_url}")
        try:
            script, reply = client.ask_json(
                system_prompt(template_text),
                user_prompt(segments, episode),
                lambda data: assemble_script(data, segments),
                what="narration",
            )
        except ApiError as exc:
            raise _failure(exc, SETTINGS) from exc
        except NoUsableReply as exc:
            raise _failure(
                f"{client.endpoint.describe()} gave {exc}",
                "LLM_MODEL (choose a model that follows JSON instructions)",
                ToolError,
            ) from exc
        if not script["narrative_theme"]:
            script["narrative_theme"] = f"Moments from {episode.get('title') or 'the recording'}"
        narrated = sum(1 for s in script["podcast_sections"] if s["section_type"] != "video_clip")
        log.info(
            "The model wrote %d narration sections (%d tokens)",
            narrated,
            reply.usage["total_tokens"],
        )
        call.report(1.0, f"{narrated} narration sections written")
        return script


def _failure(problem: object, settings: str, cls: type | None = None) -> Exception:
    """Return the stage error naming the engine, the setting and the fallback engine."""

    return engine_failure("narrative", "llm", problem, settings, cls)
