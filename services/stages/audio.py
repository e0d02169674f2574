"""Stage 5: narration audio for every script section, spoken by TTS or imported, normalised."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from pydub import AudioSegment

from services.engines.registry import get_engine
from services.engines.tts.base import TTSEngine
from services.engines.tts.cache import SpeechCache
from services.episodes.files import is_safe_id
from services.episodes.script import load_script, narration_sections
from services.media.ffmpeg import probe, stream_of
from services.media.jobs import Job, run_jobs
from services.media.narration_audio import normalise_narration
from services.run.errors import InputMissingError, InvalidInputError
from services.stages.base import Stage, StageContext


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
        work = ctx.files.work_dir / "audio"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        ctx.files.audio_dir.mkdir(parents=True, exist_ok=True)
        if ctx.options.audio_method == "manual":
            sources = self._check_recordings(ctx, sections)
            ctx.progress("prepare", 1.0, f"{len(sections)} recordings found")
            ctx.progress("synthesise", 1.0, "recorded narration: nothing to synthesise")
        else:
            engine = get_engine("tts", ctx.options.tts_engine)
            ctx.progress("prepare", 1.0, f"{len(sections)} sections to speak")
            sources = self._synthesise(ctx, engine, sections, work)
        seconds = self._normalise(ctx, sections, sources, work)
        shutil.rmtree(work, ignore_errors=True)
        total = sum(seconds.values())
        ctx.logger.info("Narration ready: %d sections, %.1f s in total", len(sections), total)
        return {
            "audio": [
                ctx.files.relative(ctx.files.section_audio(s["section_id"])) for s in sections
            ],
            "narration_seconds": round(total, 3),
        }

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
        self, ctx: StageContext, engine: TTSEngine, sections: list[dict], work: Path
    ) -> dict[str, Path]:
        """Speak every section in parallel; progress is weighted by text length."""
        voice = ctx.options.tts_voice or None
        sources = {s["section_id"]: work / f"tts-{s['section_id']}.wav" for s in sections}
        cache = SpeechCache(ctx.data_dir, engine, voice)
        call = ctx.engine_call("synthesise")

        def speak(section: dict):
            text = " ".join(str(section.get("script_content") or "").split())

            def body(_progress, _abort: threading.Event) -> None:
                out = sources[section["section_id"]]
                if not text:
                    ctx.logger.warning(
                        "Section %s has no text; it gets a short silence",
                        section["section_id"],
                    )
                    _write_silence(out)
                    return
                if cache.speak(text, out, call):
                    ctx.logger.info("%s: speech reused from the cache", section["section_id"])

            return Job(key=section["section_id"], weight=max(1, len(text)), body=body)

        ctx.logger.info(
            "Speaking %d sections with %s (voice %s, %d at a time)",
            len(sections),
            engine.name,
            voice or "default",
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


def _write_silence(path: Path, seconds: float = 0.5) -> None:
    """Write a short silent WAV (for a section without text)."""
    AudioSegment.silent(duration=int(seconds * 1000), frame_rate=48000).export(
        str(path), format="wav"
    )
