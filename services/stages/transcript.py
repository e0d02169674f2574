"""Stage 2: turn the episode's speech into timed sentences (captions or offline recognition)."""

from __future__ import annotations

from typing import ClassVar, cast

from services.atomic import write_json_atomic
from services.engines.registry import get_engine
from services.engines.transcript.base import (
    TranscriptEngine,
    TranscriptSegment,
    TranscriptSource,
    regroup_segments,
)
from services.engines.transcript.captions import pick_caption_file
from services.engines.transcript.whisper import FasterWhisperEngine, WhisperEngine
from services.media.ffmpeg import audio_seconds
from services.run.errors import EngineUnavailableError, InputMissingError, InvalidInputError
from services.run.words import plural
from services.stages.base import Stage, StageContext
from services.stages.speakers import label_speakers


def tidy_segments(segments: list[TranscriptSegment], duration: float) -> list[dict]:
    """Return segments clipped to the audio, sorted, non-overlapping, numbered, 3-decimal times."""
    limit = duration if duration > 0 else float("inf")
    kept = []
    for segment in segments:
        text = " ".join(str(segment.get("text", "")).split())
        start = max(0.0, float(segment["start"]))
        end = min(limit, max(start, float(segment["end"])))
        if text and start < limit:
            kept.append({**segment, "text": text, "start": start, "end": end})
    kept.sort(key=lambda s: (s["start"], s["end"]))
    for previous, segment in zip(kept, kept[1:], strict=False):
        if segment["start"] < previous["end"]:
            if segment["start"] > previous["start"]:
                previous["end"] = segment["start"]
            else:
                segment["start"] = previous["end"]
                segment["end"] = max(segment["end"], segment["start"])
    result = []
    for number, segment in enumerate(kept, start=1):
        start, end = round(segment["start"], 3), round(segment["end"], 3)
        item = {
            "id": number,
            "start": start,
            "end": end,
            "text": segment["text"],
            "speaker": segment.get("speaker") or "Speaker 1",
        }
        words = [
            {
                "word": w["word"],
                "start": round(min(max(w["start"], start), end), 3),
                "end": round(min(max(w["end"], w["start"], start), end), 3),
            }
            for w in segment.get("words") or []
        ]
        if words:
            item["words"] = sorted(words, key=lambda w: w["start"])
        result.append(item)
    return result


class TranscriptStage(Stage):
    """Stage 2: write Processing/transcript.json from captions or speech recognition."""

    number: ClassVar[int] = 2
    key: ClassVar[str] = "transcript"
    name: ClassVar[str] = "Transcript Generation"
    description: ClassVar[str] = (
        "Turn the speech into timed sentences with speakers, from the captions when there "
        "are any, else by offline speech recognition."
    )
    sub_stages: ClassVar[tuple[str, ...]] = ("prepare", "recognise", "speakers", "assemble")
    weights: ClassVar[tuple[float, ...]] = (0.04, 0.86, 0.05, 0.05)
    inputs: ClassVar[tuple[str, ...]] = ("original_audio",)
    outputs: ClassVar[tuple[str, ...]] = ("transcript",)

    def run(self, ctx: StageContext) -> dict:
        """Transcribe the episode's audio and write the transcript atomically."""
        files = ctx.files
        if not files.original_audio.exists():
            raise InputMissingError(
                "Stage 2 needs the extracted audio (Input/original_audio.wav), which is missing.",
                hint="Run stage 1 (Extraction) first.",
            )
        duration = audio_seconds(files.original_audio)
        ctx.progress("prepare", 0.5, f"audio is {duration:.1f} s long")
        engine, reason = choose_engine(ctx)
        ctx.logger.info("Transcript engine: %s (%s)", engine.name, reason)
        ctx.progress("prepare", 1.0, f"transcribing with {engine.name}")

        call = ctx.engine_call("recognise")
        source = TranscriptSource(
            ctx.files, ctx.options.caption_language, ctx.options.word_alignment
        )
        result = engine.transcribe(source, call)
        if not result.segments and engine.name == "captions" and reason.startswith("auto"):
            ctx.logger.warning("The captions hold no spoken text; trying speech recognition")
            engine, _ = speech_engine(ctx)
            result = engine.transcribe(source, call)
        ctx.progress("recognise", 1.0, "recognition done")
        ctx.check_cancelled()

        if engine.name != "captions":  # the captions' sentences are the captioner's
            result.segments = regroup_segments(result.segments)
        segments = tidy_segments(result.segments, duration)
        if not segments:
            raise InvalidInputError(
                f"No speech found in the audio ({duration:.1f} s, engine {engine.name}).",
                hint="Check that the video has audible speech, upload subtitles, "
                "or try another transcript engine.",
            )
        labelling = label_speakers(ctx, segments)
        ctx.progress("speakers", 1.0, "speaker labels done")
        ctx.progress("assemble", 0.5, plural(len(segments), "segment"))
        speakers = list(dict.fromkeys(s["speaker"] for s in segments))
        transcript = {
            "language": result.language,
            "engine": engine.name,
            "duration": round(duration, 3),
            "speakers": speakers,
            "diarization": labelling,
            "segments": segments,
        }
        write_json_atomic(files.transcript, transcript)
        words = sum(len(s["text"].split()) for s in segments)
        ctx.logger.info(
            "Wrote %d segments (%d words, %d speaker(s): %s) covering %.1f of %.1f s",
            len(segments),
            words,
            len(speakers),
            ", ".join(speakers),
            segments[-1]["end"] - segments[0]["start"],
            duration,
        )
        ctx.progress("assemble", 1.0, f"{plural(len(segments), 'segment')} written")
        return {"transcript": files.relative(files.transcript)}


def transcript_engine(name: str) -> TranscriptEngine:
    """Return the ready transcript engine `name`; raise EngineUnavailableError if it cannot run."""
    return cast(TranscriptEngine, get_engine("transcript", name))


def choose_engine(ctx: StageContext) -> tuple[TranscriptEngine, str]:
    """Return the transcript engine for this run and why it was chosen."""
    choice = (ctx.options.transcript_engine or "auto").lower()
    if choice != "auto":
        return transcript_engine(choice), "chosen in the run options"
    captions = pick_caption_file(ctx.files, ctx.options.caption_language)
    if captions is not None:
        return transcript_engine("captions"), f"auto: found {captions.name}"
    return speech_engine(ctx)


def speech_engine(ctx: StageContext) -> tuple[TranscriptEngine, str]:
    """Return the best offline recogniser: WHISPER_MODEL's, the bundled Whisper, pocketsphinx."""
    if FasterWhisperEngine.availability()[0]:  # your own model: larger than the bundled one
        return transcript_engine("faster-whisper"), "auto: no captions; WHISPER_MODEL is here"
    available, reason = WhisperEngine.availability()
    if available:  # the bundled tiny.en: far better than pocketsphinx
        return transcript_engine("whisper"), "auto: no captions; the bundled Whisper model"
    ctx.logger.warning("The bundled Whisper model cannot run (%s); using pocketsphinx", reason)
    try:
        engine = transcript_engine("pocketsphinx")
    except EngineUnavailableError as exc:
        raise EngineUnavailableError(
            f"The episode has no captions and offline recognition is unavailable: {exc}",
            hint="Upload subtitles (.vtt or .srt) with the video, or install pocketsphinx.",
        ) from exc
    return engine, "auto: no captions, so offline speech recognition"
