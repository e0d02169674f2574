"""Stage 4, Narrative Generation: write the narration around the chosen segments.

Before the engine writes, the stage learns each passage from the transcript (speakers, key
phrases, key sentence) and gives every clip a title from its key phrases, unique in the
script. The template "default" gives way to the guideline's own template when there is one
(`harmful_content.j2` after the "Harmful content" guideline). The narration is held to its
budget: at most about a quarter of the final (what the target length leaves after the clips,
and at most a third of the clips' length).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from services.atomic import read_json, write_json_atomic
from services.engines.narrative.base import (
    NarrativeEngine,
    check_script,
    fit_narration,
    narration_seconds,
    spoken_seconds,
)
from services.engines.narrative.passages import episode_speakers, passage_facts, readable_title
from services.engines.narrative.template import TemplateCheckError
from services.engines.registry import get_engine
from services.episodes.budget import narration_budget, narration_floor, resolve_target
from services.episodes.metadata import read_metadata, shown_title
from services.episodes.segments import SegmentsError, chronological, load_segments, segment_bounds
from services.episodes.selection import record_auto_selection, user_selection_is_current
from services.library.prompts import PromptNotFound, find_prompt, list_prompts
from services.run.errors import InputMissingError, InvalidInputError
from services.run.words import plural
from services.stages.base import Stage, StageContext


class NarrativeStage(Stage):
    """Turn the analysed (or hand-picked) segments into a narrated script."""

    number = 4
    key = "narrative"
    name = "Narrative Generation"
    description = "Writes the narration that introduces and follows each clip."
    sub_stages = ("load", "write", "save")
    weights = (1.0, 4.0, 1.0)
    inputs = ("segments",)
    outputs = ("script",)

    def run(self, ctx: StageContext) -> dict:
        """Write Output/Scripts/unified_podcast_script.json."""
        segments, source = self._segments(ctx)
        ctx.progress("load", 0.5, f"{plural(len(segments), 'segment')} from the {source}")
        guideline = self._guideline_name(ctx)
        prompt = self._prompt(ctx, guideline)
        engine = get_engine("narrative", ctx.options.narrative_engine)
        if not isinstance(engine, NarrativeEngine):
            raise InvalidInputError(f"{engine.name!r} is not a narrative engine.")
        episode = self._episode(ctx, segments, guideline)
        segments = [self._as_narrated(s, episode["passages"][s["segment_id"]]) for s in segments]
        ctx.progress("load", 1.0, f"template {prompt.name} ready")

        try:
            script = engine.write(segments, prompt, episode, ctx.engine_call("write"))
        except TemplateCheckError as exc:
            raise InvalidInputError(
                f"The narrative template {ctx.options.narrative_prompt!r} failed: {exc}",
                hint="Fix it on the prompts page or choose another template.",
            ) from exc
        problems = check_script(script, segments)
        if problems:
            raise InvalidInputError(
                f"The {engine.name} engine wrote an unusable script: {'; '.join(problems[:3])}."
            )
        for section in script["podcast_sections"]:  # an LLM may leave the estimate out
            if section["section_type"] != "video_clip" and "estimated_duration" not in section:
                section["estimated_duration"] = spoken_seconds(section["script_content"])
        budget = episode["narration_seconds"]
        written = narration_seconds(script["podcast_sections"])
        if written > budget:
            script["podcast_sections"] = fit_narration(script["podcast_sections"], budget)
            ctx.logger.info(
                "Narration cut from about %.0f s to %.0f s to fit its budget of %.0f s",
                written,
                narration_seconds(script["podcast_sections"]),
                budget,
            )
        ctx.progress("write", 1.0, "narration written")
        script["script_metadata"] = {
            **(script.get("script_metadata") or {}),
            **self._metadata(ctx, script, engine.name, source),
            "template": prompt.stem,
            "narration_budget_seconds": budget,
        }
        write_json_atomic(ctx.files.script, script)
        meta = script["script_metadata"]
        ctx.logger.info(
            "Script: %s (%.0f s of video), %s (about %.0f s); theme: %s",
            plural(meta["clip_count"], "clip"),
            meta["total_clip_seconds"],
            plural(len(script["podcast_sections"]) - meta["clip_count"], "narration section"),
            meta["estimated_narration_seconds"],
            script["narrative_theme"],
        )
        ctx.progress("save", 1.0, "script saved")
        return {"script": ctx.files.relative(ctx.files.script)}

    def _segments(self, ctx: StageContext) -> tuple[list[dict], str]:
        """Return the segments to narrate, in time order, and where they came from."""
        if ctx.options.segment_mode == "manual":
            path, source = ctx.files.selected_segments, "selection"
            ctx.wait_until(
                lambda: user_selection_is_current(ctx.files),
                f"pick the segments at /segments/episode/{ctx.episode_id} and save the selection",
            )
        else:
            path, source = ctx.files.analysis, "analysis"
            if not path.exists():
                raise InputMissingError(
                    "There are no analysed segments yet.",
                    hint="Run stage 3 (Content Analysis) first.",
                )
        try:
            segments = load_segments(path)
        except SegmentsError as exc:
            raise InvalidInputError(
                f"The {source} file cannot be used: {exc}.",
                hint="Run stage 3 again." if source == "analysis" else "Pick the segments again.",
            ) from exc
        if not segments:
            raise InvalidInputError(
                f"The {source} holds no segments.",
                hint="Pick at least one segment in the segment picker."
                if source == "selection"
                else "Run stage 3 with another guideline.",
            )
        ctx.logger.info("Narrating %s from the %s", plural(len(segments), "segment"), source)
        if source == "analysis":
            # The automatic choice (best passages within the clip budget) is a selection too:
            # the picker starts from it.
            segments = record_auto_selection(ctx.files, segments)
            ctx.logger.info("The automatic selection keeps %s", plural(len(segments), "segment"))
        return chronological(segments), source

    def _as_narrated(self, segment: dict, passage: dict) -> dict:
        """Return a segment with its key-phrase title and its named speaker, if any."""
        named = passage["speakers"]
        speaker = named[0] if len(named) == 1 else segment["primary_speaker_of_quote"]
        return {
            **segment,
            "narrativeSegmentTitle": passage["title"],
            "primary_speaker_of_quote": speaker,
        }

    def _guideline_name(self, ctx: StageContext) -> str:
        """Return the name of the guideline the segments were analysed with ("" if unknown)."""
        try:
            document = read_json(ctx.files.analysis)
        except (OSError, ValueError):
            return ""
        name = document.get("guideline_name") if isinstance(document, dict) else None
        return name if isinstance(name, str) else ""

    def _prompt(self, ctx: StageContext, guideline: str) -> Path:
        """Return the file of the chosen narrative template (the guideline's own for default)."""
        name = ctx.options.narrative_prompt
        kind = re.sub(r"[^a-z0-9]+", "_", guideline.lower()).strip("_")
        if name == "default" and kind and kind != "default":
            try:
                path = find_prompt(ctx.data_dir, "narrative", kind)
            except PromptNotFound:
                pass
            else:
                ctx.logger.info("Narrating with %s, the template of the guideline", path.name)
                return path
        try:
            return find_prompt(ctx.data_dir, "narrative", name)
        except PromptNotFound as exc:
            known = ", ".join(p["name"] for p in list_prompts(ctx.data_dir, "narrative"))
            raise InvalidInputError(
                f"There is no narrative template named {name!r}.", hint=f"Choose one of: {known}."
            ) from exc

    def _episode(self, ctx: StageContext, segments: list[dict], guideline: str) -> dict:
        """Return what the narration may say of the episode and each passage."""
        metadata = read_metadata(ctx.files)
        if not metadata and ctx.files.metadata.exists():
            ctx.logger.warning("Input/metadata.json is unreadable; narrating without a title")
        transcript = self._transcript(ctx)
        title = readable_title(shown_title(metadata)) or readable_title(metadata.get("webpage_url"))
        speakers, count = episode_speakers(transcript)
        source_seconds = float(metadata.get("duration") or 0) or max(
            [float(line.get("end", 0)) for line in transcript] or [0.0]
        )
        budget = self._budget(ctx, segments, source_seconds)
        ctx.logger.info(
            "Narrating %s (%s); narration budget %.0f s",
            repr(title) if title else "a source without a usable title",
            ", ".join(speakers) or f"{count} unnamed speaker(s)",
            budget,
        )
        return {
            "episode_id": ctx.episode_id,
            "title": title,
            "speakers": speakers[:4],
            "speaker_count": count,
            "guideline": guideline,
            "passages": passage_facts(segments, transcript),
            "narration_seconds": budget,
        }

    def _transcript(self, ctx: StageContext) -> list[dict]:
        """Return the transcript's sentences, or [] when there is no readable transcript."""
        try:
            data = read_json(ctx.files.transcript)
        except (OSError, ValueError):
            return []
        lines = data.get("segments") if isinstance(data, dict) else None
        return [line for line in lines or [] if isinstance(line, dict)]

    def _budget(self, ctx: StageContext, segments: list[dict], source_seconds: float) -> float:
        """Return the narration's length budget in seconds (see the module docstring)."""
        clips = sum(end - start for start, end in map(segment_bounds, segments))
        budget = clips / 3
        target = resolve_target(ctx.options.target_seconds, source_seconds)
        if target > 0:
            budget = min(budget, narration_budget(target, clips))
        return round(max(budget, narration_floor(len(segments))), 1)

    def _metadata(self, ctx: StageContext, script: dict, engine: str, source: str) -> dict:
        """Return script_metadata: where the script came from and how long it runs."""
        sections = script["podcast_sections"]
        clips = [s for s in sections if s.get("section_type") == "video_clip"]
        narration = [s for s in sections if s.get("section_type") != "video_clip"]
        return {
            "episode_id": ctx.episode_id,
            "engine": engine,
            "template": ctx.options.narrative_prompt,
            "segment_source": source,
            "clip_count": len(clips),
            "total_clip_seconds": round(sum(s["end_time"] - s["start_time"] for s in clips), 3),
            "estimated_narration_seconds": round(
                sum(float(s.get("estimated_duration") or 0) for s in narration), 1
            ),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
