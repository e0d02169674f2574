"""Stage 4, Narrative Generation: write the narration around the chosen segments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.atomic import read_json, write_json_atomic
from services.engines.narrative.base import NarrativeEngine, check_script, spoken_seconds
from services.engines.narrative.template import TemplateCheckError
from services.engines.registry import get_engine
from services.episodes.segments import SegmentsError, chronological, load_segments
from services.episodes.selection import record_auto_selection, user_selection_is_current
from services.library.prompts import PromptNotFound, find_prompt, list_prompts
from services.run.errors import InputMissingError, InvalidInputError
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
        ctx.progress("load", 0.5, f"{len(segments)} segments from the {source}")
        prompt = self._prompt(ctx)
        engine = get_engine("narrative", ctx.options.narrative_engine)
        if not isinstance(engine, NarrativeEngine):
            raise InvalidInputError(f"{engine.name!r} is not a narrative engine.")
        episode = self._episode(ctx)
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
        ctx.progress("write", 1.0, "narration written")
        script["script_metadata"] = {
            **(script.get("script_metadata") or {}),
            **self._metadata(ctx, script, engine.name, source),
        }
        write_json_atomic(ctx.files.script, script)
        meta = script["script_metadata"]
        ctx.logger.info(
            "Script: %d clips (%.0f s of video), %d narration sections (about %.0f s); theme: %s",
            meta["clip_count"],
            meta["total_clip_seconds"],
            len(script["podcast_sections"]) - meta["clip_count"],
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
        ctx.logger.info("Narrating %d segments from the %s", len(segments), source)
        if source == "analysis":
            # The automatic choice is a selection too: the picker starts from it.
            record_auto_selection(ctx.files, segments)
        return chronological(segments), source

    def _prompt(self, ctx: StageContext) -> Path:
        """Return the file of the chosen narrative template."""
        name = ctx.options.narrative_prompt
        try:
            return find_prompt(ctx.data_dir, "narrative", name)
        except PromptNotFound as exc:
            known = ", ".join(p["name"] for p in list_prompts(ctx.data_dir, "narrative"))
            raise InvalidInputError(
                f"There is no narrative template named {name!r}.", hint=f"Choose one of: {known}."
            ) from exc

    def _episode(self, ctx: StageContext) -> dict:
        """Return the episode facts a narration may mention (id and title)."""
        title = None
        if ctx.files.metadata.exists():
            try:
                metadata = read_json(ctx.files.metadata)
                title = metadata.get("title") if isinstance(metadata, dict) else None
            except (OSError, ValueError):
                ctx.logger.warning("Input/metadata.json is unreadable; narrating without a title")
        return {"episode_id": ctx.episode_id, "title": title if isinstance(title, str) else None}

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
