"""Stage 5: narration audio for every script section, spoken by TTS or imported, normalised."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import cast

from services.atomic import scratch_folder
from services.engines.registry import get_engine
from services.engines.tts.base import TTSEngine
from services.engines.tts.cache import SpeechCache, cache_key
from services.episodes.files import EpisodeFiles, is_safe_id
from services.episodes.script import load_script, narration_sections
from services.media.ffmpeg import probe, stream_of
from services.media.jobs import Job, run_jobs
from services.media.narration_audio import normalise_narration
from services.run.errors import EngineUnavailableError, InputMissingError, InvalidInputError
from services.run.options import RunOptions
from services.run.words import plural
from services.stages.base import Stage, StageContext
from services.stages.narration_manifest import NarrationManifest


class AudioStage(Stage):
    """Speak (or import) the narration and bring every file to one format and loudness."""

    number = 5
    key = "audio"
    name = "Audio Generation"
    description = "Speak the narration with text-to-speech, or check your recordings, and level it"
    sub_stages = ("prepare", "synthesise", "normalise")
    weights = (0.05, 0.7, 0.25)
    inputs = ("script",)
    outputs = ("narration",)

    def run(self, ctx: StageContext) -> dict:
        """Produce `Output/Audio/<section_id>.wav` for every narration section."""
        sections = self._sections(ctx)
        ctx.files.audio_dir.mkdir(parents=True, exist_ok=True)
        manifest = NarrationManifest(ctx.files.audio_dir)
        # Raw takes never outlive the stage, even when it fails.
        with scratch_folder(ctx.files.work_dir / "audio") as work:
            if ctx.options.audio_method == "manual":
                sources = self._check_recordings(ctx, sections)
                ctx.progress("prepare", 1.0, f"{len(sections)} recordings found")
                ctx.progress("synthesise", 1.0, "recorded narration: nothing to synthesise")
                manifest.forget()  # the WAVs are recordings now, not the speech it recorded
                seconds = self._normalise(ctx, sections, sources, work)
            else:
                seconds = self._speak_changed(ctx, sections, manifest, work)
        total = sum(seconds.values())
        ctx.logger.info("Narration ready: %d sections, %.1f s in total", len(sections), total)
        return {
            "audio": [
                ctx.files.relative(ctx.files.section_audio(s["section_id"])) for s in sections
            ],
            "narration_seconds": round(total, 3),
        }

    @classmethod
    def outputs_untouched(cls, files: EpisodeFiles, options: RunOptions) -> bool:
        """Tell whether every spoken WAV is still the one stage 5 wrote (none was replaced)."""
        if options.audio_method == "manual":
            return True  # the recordings are inputs of the fingerprint
        manifest = NarrationManifest(files.audio_dir)
        try:
            sections = narration_sections(load_script(files.script))
        except (OSError, ValueError, AttributeError):
            return False
        ids = [str(s.get("section_id")) for s in sections]
        return all(is_safe_id(i) and manifest.untouched(i, files.section_audio(i)) for i in ids)

    def _speak_changed(
        self, ctx: StageContext, sections: list[dict], manifest: NarrationManifest, work: Path
    ) -> dict[str, float]:
        """Speak and level the sections whose text, engine, voice or rate changed.

        The other sections keep their WAV untouched (the manifest says it was made from the
        same speech); return the seconds of every section.
        """
        engine, voice = tts_engine(ctx)
        keys = {s["section_id"]: cache_key(engine, spoken_text(s), voice) for s in sections}
        reused: dict[str, float] = {}
        for section in sections:
            section_id = section["section_id"]
            wav = ctx.files.section_audio(section_id)
            found = manifest.seconds_if_current(section_id, keys[section_id], wav)
            if found is not None:
                reused[section_id] = found
        todo = [s for s in sections if s["section_id"] not in reused]
        if reused:
            ctx.logger.info(
                "Narration unchanged for %s: %s kept",
                plural(len(reused), "section"),
                ", ".join(reused),
            )
        ctx.progress(
            "prepare", 1.0, f"{plural(len(todo), 'section')} to speak, {len(reused)} unchanged"
        )
        try:
            sources = self._synthesise(ctx, engine, voice, todo, work) if todo else {}
        finally:
            engine.release()
        if not todo:
            ctx.progress("synthesise", 1.0, "every section is unchanged")
        seconds = self._normalise(ctx, todo, sources, work)
        for section_id, value in seconds.items():
            manifest.record(
                section_id, keys[section_id], ctx.files.section_audio(section_id), value
            )
        seconds.update(reused)
        return {s["section_id"]: seconds[s["section_id"]] for s in sections}

    def _sections(self, ctx: StageContext) -> list[dict]:
        """Load the script and return its narration sections, checking their ids."""
        if not ctx.files.script.exists():
            raise InputMissingError(
                "There is no script.", hint="Run stage 4 (Narrative Generation) first."
            )
        try:
            sections = narration_sections(load_script(ctx.files.script))
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"The script cannot be read: {exc}.", hint="Rerun stage 4 or fix the file."
            ) from exc
        if not sections:
            raise InvalidInputError("The script has no narration sections.", hint="Rerun stage 4.")
        bad = [str(s.get("section_id")) for s in sections if not is_safe_id(s.get("section_id"))]
        if bad:
            raise InvalidInputError(
                f"Invalid section ids in the script: {', '.join(bad)}.",
                hint="Use letters, digits, _ and - only (e.g. pre_clip_01).",
            )
        return sections

    def _check_recordings(self, ctx: StageContext, sections: list[dict]) -> dict[str, Path]:
        """Check each section has a readable recording; name every one that has not."""
        missing: list[str] = []
        unreadable: list[str] = []
        sources: dict[str, Path] = {}
        for section in sections:
            section_id = section["section_id"]
            path = ctx.files.section_audio(section_id)
            if not path.exists():
                missing.append(section_id)
                continue
            try:
                info = probe(path)
                ok = stream_of(info, "audio") is not None
                seconds = float(info.get("format", {}).get("duration") or 0)
            except (InvalidInputError, ValueError):
                ok, seconds = False, 0.0
            if not ok or seconds <= 0:
                unreadable.append(section_id)
                continue
            sources[section_id] = path
            ctx.logger.info("Recording for %s: %.2f s", section_id, seconds)
        if missing or unreadable:
            parts = []
            if missing:
                parts.append(f"no narration for {', '.join(missing)}")
            if unreadable:
                parts.append(f"unreadable narration for {', '.join(unreadable)}")
            message = "; ".join(parts)
            raise InputMissingError(
                message[0].upper() + message[1:] + ":",
                hint="record or upload them on the audio page, or choose text-to-speech.",
            )
        return sources

    def _synthesise(
        self,
        ctx: StageContext,
        engine: TTSEngine,
        voice: str | None,
        sections: list[dict],
        work: Path,
    ) -> dict[str, Path]:
        """Speak every section in parallel; progress is weighted by text length."""
        sources = {s["section_id"]: work / f"tts-{s['section_id']}.wav" for s in sections}
        cache = SpeechCache(ctx.data_dir, engine, voice)
        call = ctx.engine_call("synthesise")

        def speak(section: dict):
            text = spoken_text(section)

            def body(progress, abort: threading.Event) -> None:
                out = sources[section["section_id"]]
                if not text:
                    ctx.logger.warning(
                        "Section %s has no text; it gets a short silence",
                        section["section_id"],
                    )
                    _write_silence(out)
                    return
                # The engine's own measured progress (e.g. sentences) moves this section's share.
                own = replace(
                    call,
                    on_progress=lambda _sub, fraction, _message: progress(fraction),
                    cancel=abort,
                    parallel_jobs=1,
                )
                if cache.speak(text, out, own):
                    ctx.logger.info("%s: speech reused from the cache", section["section_id"])

            return Job(key=section["section_id"], weight=max(1, len(text)), body=body)

        ctx.logger.info(
            "Speaking %d sections with %s (voice %s, rate %g, %d at a time)",
            len(sections),
            engine.name,
            voice or engine.default_voice or "default",
            engine.rate,
            ctx.cpu_count,
        )
        run_jobs(
            [speak(s) for s in sections],
            workers=ctx.cpu_count,
            report=ctx.sub_progress("synthesise", "speaking the narration"),
            cancel=ctx.cancel_event,
        )
        ctx.logger.info(
            "Speech cache: %d section(s) reused, %d synthesised", cache.hits, cache.misses
        )
        return sources

    def _normalise(
        self, ctx: StageContext, sections: list[dict], sources: dict[str, Path], work: Path
    ) -> dict[str, float]:
        """Bring every file to 48 kHz mono, -18 dBFS, padded; return seconds per section."""
        seconds: dict[str, float] = {}
        lock = threading.Lock()

        def level(section_id: str) -> Job:
            def body(_progress, abort: threading.Event) -> None:
                result = normalise_narration(
                    sources[section_id], ctx.files.section_audio(section_id), work, cancel=abort
                )
                with lock:
                    seconds[section_id] = result.seconds
                ctx.logger.info(
                    "%s: %.2f s (gain %+.1f dB)", section_id, result.seconds, result.gain_db
                )

            return Job(key=section_id, weight=1.0, body=body)

        run_jobs(
            [level(s["section_id"]) for s in sections],
            workers=ctx.cpu_count,
            report=ctx.sub_progress("normalise", "levelling the narration"),
            cancel=ctx.cancel_event,
        )
        return {s["section_id"]: seconds[s["section_id"]] for s in sections}


def tts_engine(ctx: StageContext) -> tuple[TTSEngine, str | None]:
    """Return the run's TTS engine, set up for it, and its voice; piper falls back to espeak."""
    name, voice = ctx.options.tts_engine, ctx.options.tts_voice or None
    try:
        engine = cast(TTSEngine, get_engine("tts", name))
    except EngineUnavailableError as exc:
        if name != "piper":
            raise
        ctx.logger.warning("%s Speaking with espeak-ng and its default voice instead.", exc)
        engine, voice = cast(TTSEngine, get_engine("tts", "espeak")), None
    engine.configure(ctx.data_dir, ctx.options.tts_rate)
    if engine.rate != 1.0 and not engine.supports_rate:
        ctx.logger.warning("The %s engine has no speaking rate: tts_rate is ignored", engine.name)
    return engine, voice


def spoken_text(section: dict) -> str:
    """Return the text a narration section speaks, with its whitespace tidied."""
    return " ".join(str(section.get("script_content") or "").split())


def _write_silence(path: Path, seconds: float = 0.5) -> None:
    """Write a short silent WAV (for a section without text)."""
    from pydub import AudioSegment  # heavy: loaded when audio is made, not at server start

    AudioSegment.silent(duration=int(seconds * 1000), frame_rate=48000).export(
        str(path), format="wav"
    )
