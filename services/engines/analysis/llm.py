"""The `llm` analysis engine: the guideline file goes to a chat model, segments come back.

The system prompt is the guideline file as written (comments included) plus the output
format of API.md; the transcript goes in overlapping parts whose lines carry absolute
timestamps. Each answer is parsed leniently, repaired where that is safe and checked with
`services.episodes.segments.validate_segment`; an unusable answer is sent back with what was wrong,
up to LLM_MAX_TRIES times. Segments found twice where parts overlap are merged.
"""

from __future__ import annotations

from typing import ClassVar

from services.engines.analysis.base import (
    AnalysisEngine,
    AnalysisOptions,
    transcript_sentences,
)
from services.engines.analysis.llm_chunks import TranscriptPart, clock, split_transcript
from services.engines.analysis.llm_segments import (
    SentenceIndex,
    mark_cut,
    merge_segments,
    segments_of_reply,
)
from services.engines.base import engine_failure
from services.engines.clients.chat import ChatClient, ChatEngine, NoUsableReply
from services.engines.clients.http import ApiError
from services.engines.clients.settings import env_number
from services.library.guidelines import Guideline
from services.run.call import EngineCall
from services.run.errors import ToolError

SETTINGS = "LLM_BASE_URL, LLM_API_KEY and LLM_MODEL"

FORMAT_INSTRUCTIONS = """
# Output format
Answer with one JSON object and nothing else: {"segments": [<segment>, ...]}, an empty list
when no passage fits. Each segment object has exactly these fields:
- "segment_id": "seg_001", "seg_002", ... in the order of your list
- "narrativeSegmentTitle": a short title of the passage
- "severityRating": one of "CRITICAL", "HIGH", "MEDIUM", "LOW"
- "harm_category": the name of one category of the guideline above, written exactly
- "primary_speaker_of_quote": the speaker label of the transcript lines quoted
- "confidence_in_classification": a number from 0 to 1
- "brief_reasoning_for_classification": one sentence saying why the passage fits
- "clipContextDescription": one or two sentences on what is said and what surrounds it
- "segmentDurationInSeconds": end - start
- "fullerContextTimestamps": {"start": <seconds>, "end": <seconds>}: the start time of the
  passage's first transcript line and the end time of its last line
- "suggestedClip": up to three {"timestamp": <seconds>, "quote": "<exact words>"}
Times are seconds from the start of the video, copied from the [start-end] marks of the
transcript lines. Write only the JSON object: no code fences, no commentary.
"""


def system_prompt(guideline: Guideline) -> str:
    """Return the system prompt: the guideline file as written, then the output format."""
    text = (
        guideline.text or f'name = "{guideline.name}"\ndescription = """{guideline.description}"""'
    )
    return f"# Analysis guideline (TOML)\n{text.strip()}\n{FORMAT_INSTRUCTIONS}"


def user_prompt(part: TranscriptPart, parts: int, options: AnalysisOptions) -> str:
    """Return the request for one transcript part."""
    where = (
        f"This is part {part.index + 1} of {parts} of the transcript, from {clock(part.start)} "
        f"to {clock(part.end)}; passages may continue into the neighbouring parts, so give "
        "only those that lie within this part.\n"
        if parts > 1
        else ""
    )
    return (
        f"{where}Find at most {options.max_segments} passages of {options.min_seconds:g} to "
        f"{options.max_seconds:g} seconds that fit the guideline, best first.\n\n"
        f"Transcript (lines are [start-end] in seconds, then the speaker):\n{part.text}\n"
    )


class LLMAnalysisEngine(ChatEngine, AnalysisEngine):
    """Ask an OpenAI-compatible chat model to find the guideline's passages."""

    name: ClassVar[str] = "llm"
    description: ClassVar[str] = (
        "A language model (any OpenAI-compatible server: OpenAI, Gemini, Ollama, llama.cpp, "
        "vLLM) reads the guideline and the transcript; set LLM_BASE_URL/LLM_API_KEY/LLM_MODEL."
    )

    def analyse(
        self,
        transcript: dict,
        guideline: Guideline,
        options: AnalysisOptions,
        call: EngineCall,
    ) -> list[dict]:
        """Return the model's segments of `transcript`, repaired, merged and renumbered."""
        log = call.logger
        sentences = transcript_sentences(transcript)
        index = SentenceIndex(sentences)
        max_chars = int(env_number("LLM_CHUNK_CHARS", 24000, 500, 2_000_000))
        parts = split_transcript(sentences, max_chars, overlap_seconds=options.max_seconds)
        client = ChatClient(call=call, engine=self.name)
        call.report(1.0, f"{len(parts)} transcript part(s) to send", sub_stage="segment")
        log.info(
            "Sending %d sentences in %d part(s) to %s",
            len(sentences),
            len(parts),
            client.endpoint.describe(),
        )
        system = system_prompt(guideline)
        found: list[dict] = []
        for part in parts:
            what = f"analysis part {part.index + 1}/{len(parts)}"

            def check(data: object, part: TranscriptPart = part) -> tuple[list[dict], list[str]]:
                return segments_of_reply(data, guideline, index, (part.start, part.end))

            try:
                (kept, dropped), reply = client.ask_json(
                    system, user_prompt(part, len(parts), options), check, what=what
                )
            except ApiError as exc:
                raise _failure(exc, SETTINGS) from exc
            except NoUsableReply as exc:
                raise _failure(
                    f"{client.endpoint.describe()} gave {exc}",
                    "LLM_MODEL (choose a model that follows JSON instructions)",
                    ToolError,
                ) from exc
            for problem in dropped:
                log.warning("%s: dropped a segment: %s", what, problem)
            log.info(
                "%s (%s-%s): %d segment(s), %d tokens",
                what,
                clock(part.start),
                clock(part.end),
                len(kept),
                reply.usage["total_tokens"],
            )
            edges = (part.start, part.end)
            found += [
                mark_cut(s, edges, part.index == 0, part.index == len(parts) - 1) for s in kept
            ]
            call.report(
                (part.index + 1) / len(parts), f"{what}: {len(kept)} segments", sub_stage="score"
            )
        segments = merge_segments(found, options.max_segments)
        if len(found) > len(segments):
            log.info("Merged %d segments into %d", len(found), len(segments))
        call.report(1.0, f"kept {len(segments)} segments", sub_stage="select")
        return segments


def _failure(problem: object, settings: str, cls: type | None = None) -> Exception:
    """Return the stage error naming the engine, the setting and the fallback engine."""

    return engine_failure("analysis", "llm", problem, settings, cls)
