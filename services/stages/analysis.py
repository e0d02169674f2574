"""Stage 3, Content Analysis: find the transcript's passages that match an analysis guideline."""

from __future__ import annotations

from services.atomic import read_json, write_json_atomic
from services.engines.analysis.base import (
    AnalysisEngine,
    AnalysisOptions,
    transcript_sentences,
)
from services.engines.registry import get_engine
from services.episodes.budget import clip_budget, resolve_target
from services.episodes.segments import segments_document, validate_segment
from services.episodes.selection import media_seconds, source_seconds
from services.library.guidelines import Guideline, GuidelineError, load_guideline
from services.library.prompts import PromptNotFound, find_prompt, list_prompts
from services.run.errors import InputMissingError, InvalidInputError
from services.run.words import plural
from services.stages.base import Stage, StageContext

FALLBACK_ENGINE = "heuristic"  # finds segments in any speech: by cues, else by content


def _fmt(seconds: float) -> str:
    """Format seconds as m:ss."""
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def selection_basis(segments: list[dict]) -> str:
    """Say what the segments were found by: "cues", "content", "cues and content" or "model"."""
    bases = {s.get("basis") for s in segments}
    if bases == {"content"}:
        return "content"
    if bases == {"cues"}:
        return "cues"
    return "cues and content" if bases <= {"cues", "content"} else "model"


class AnalysisStage(Stage):
    """Score the transcript's passages against a guideline and keep the best segments."""

    number = 3
    key = "analysis"
    name = "Content Analysis"
    description = "Finds the passages that match the analysis guideline and rates them."
    sub_stages = ("load", "segment", "score", "select")
    weights = (1.0, 3.0, 3.0, 1.0)
    inputs = ("transcript",)
    outputs = ("analysis", "segments")

    def run(self, ctx: StageContext) -> dict:
        """Analyse the transcript and write Processing/analysis_results.json."""
        transcript = self._transcript(ctx)
        ctx.progress("load", 0.5, "transcript read")
        guideline = self._guideline(ctx)
        engine = get_engine("analysis", ctx.options.analysis_engine)
        if not isinstance(engine, AnalysisEngine):
            raise InvalidInputError(f"{engine.name!r} is not an analysis engine.")
        ctx.logger.info(
            "Guideline %r: %d categories, %d cue phrases; engine %s",
            guideline.name,
            len(guideline.categories),
            sum(len(c.cues) for c in guideline.categories),
            engine.name,
        )
        ctx.progress("load", 1.0, f"guideline {guideline.name!r} loaded")

        source = source_seconds(ctx.files)
        target = resolve_target(ctx.options.target_seconds, source)
        ctx.logger.info(
            "Target length %s (%s), clips up to %s of the source's %s",
            _fmt(target),
            "chosen" if ctx.options.target_seconds else "default",
            _fmt(clip_budget(target)),
            _fmt(source),
        )
        options = AnalysisOptions(
            max_segments=ctx.options.max_segments,
            min_seconds=guideline.min_seconds,
            max_seconds=guideline.max_seconds,
            source_seconds=media_seconds(ctx.files),
            clip_budget_seconds=clip_budget(target),
        )
        segments = engine.analyse(transcript, guideline, options, ctx.engine_call("segment"))
        if not segments and engine.name != FALLBACK_ENGINE:
            ctx.logger.warning(
                "The %s engine found no segment; the %s engine picks the best passages instead",
                engine.name,
                FALLBACK_ENGINE,
            )
            fallback = get_engine("analysis", FALLBACK_ENGINE)
            if isinstance(fallback, AnalysisEngine):
                engine = fallback
                segments = engine.analyse(
                    transcript, guideline, options, ctx.engine_call("segment")
                )
        self._check(segments, guideline, ctx)
        basis = selection_basis(segments)
        if basis == "content":
            ctx.logger.info(
                "No passage matched a cue phrase of %r: the segments are the talk's best "
                "passages by content (selection_basis: content)",
                guideline.name,
            )
        document = segments_document(
            segments,
            episode_id=ctx.episode_id,
            guideline=ctx.options.analysis_prompt,
            guideline_name=guideline.name,
            engine=engine.name,
            selection_basis=basis,
            source_seconds=round(source, 3),
            target_seconds=round(target, 3),
            clip_budget_seconds=clip_budget(target),
        )
        write_json_atomic(ctx.files.analysis, document)
        ctx.progress("select", 1.0, f"{plural(len(segments), 'segment')} saved")
        return {"analysis": ctx.files.relative(ctx.files.analysis)}

    def _transcript(self, ctx: StageContext) -> dict:
        """Read the transcript, or raise a StageError the user can act on."""
        path = ctx.files.transcript
        if not path.exists():
            raise InputMissingError(
                "There is no transcript yet.", hint="Run stage 2 (Transcript) first."
            )
        try:
            transcript = read_json(path)
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"The transcript cannot be read ({exc}).", hint="Run stage 2 again."
            ) from exc
        sentences = transcript_sentences(transcript)
        if not sentences:
            raise InvalidInputError(
                "The transcript has no timed text to analyse.",
                hint="Check the video has speech or captions, then run stage 2 again.",
            )
        seconds = sentences[-1].end - sentences[0].start
        ctx.logger.info("Transcript: %d sentences over %s", len(sentences), _fmt(seconds))
        return transcript

    def _guideline(self, ctx: StageContext) -> Guideline:
        """Find and parse the chosen analysis guideline."""
        name = ctx.options.analysis_prompt
        try:
            path = find_prompt(ctx.data_dir, "analysis", name)
        except PromptNotFound as exc:
            known = ", ".join(p["name"] for p in list_prompts(ctx.data_dir, "analysis"))
            raise InvalidInputError(
                f"There is no analysis guideline named {name!r}.", hint=f"Choose one of: {known}."
            ) from exc
        try:
            return load_guideline(path)
        except GuidelineError as exc:
            raise InvalidInputError(
                f"The analysis guideline {name!r} is invalid: {exc}",
                hint="Fix it on the prompts page.",
            ) from exc

    def _other_choices(self, ctx: StageContext) -> str:
        """Suggest what to try instead, never what is already chosen."""
        others = [
            p["name"]
            for p in list_prompts(ctx.data_dir, "analysis")
            if p["name"] != ctx.options.analysis_prompt
        ]
        return f"Try another guideline: {', '.join(others)}." if others else "Check the transcript."

    def _check(self, segments: list[dict], guideline: Guideline, ctx: StageContext) -> None:
        """Reject an empty or malformed result with a message saying what to try."""
        if not segments:
            raise InvalidInputError(
                f"No segment was found for the guideline {guideline.name!r}.",
                hint=self._other_choices(ctx),
            )
        for segment in segments:
            problems = validate_segment(segment)
            if problems:
                raise InvalidInputError(
                    f"The {ctx.options.analysis_engine} engine returned an invalid segment: "
                    f"{'; '.join(problems)}."
                )
        for segment in sorted(segments, key=lambda s: -s.get("score", 0.0))[:5]:
            bounds = segment["fullerContextTimestamps"]
            ctx.logger.info(
                "%s %s-%s %s %s: %s",
                segment["segment_id"],
                _fmt(bounds["start"]),
                _fmt(bounds["end"]),
                segment["severityRating"],
                segment["harm_category"],
                segment["narrativeSegmentTitle"],
            )
        ctx.logger.info("Kept %s", plural(len(segments), "segment"))
