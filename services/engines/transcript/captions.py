"""CaptionsEngine: a transcript from the episode's own captions (YouTube or uploaded)."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import ClassVar

from services.captions.reader import dedupe_cues, load_captions, merge_sentences
from services.engines.transcript.base import (
    TranscriptEngine,
    TranscriptResult,
    TranscriptSegment,
    TranscriptSource,
    group_words,
)
from services.episodes.files import EpisodeFiles
from services.run.call import EngineCall
from services.run.errors import InputMissingError

READ_SHARE = 0.1  # of the engine's progress: reading the captions; the rest is alignment


def caption_language(path: Path) -> str:
    """Return the language code of a `captions.<lang>.vtt` file."""
    return path.name.removeprefix("captions.").removesuffix(".vtt") or "en"


def pick_caption_file(files: EpisodeFiles, language: str) -> Path | None:
    """Return the captions in `language` (exact, then a variant like en-US), else the first."""
    found = files.caption_files()
    if not found:
        return None
    wanted = (language or "en").lower()
    by_language = {caption_language(p).lower(): p for p in found}
    if wanted in by_language:
        return by_language[wanted]
    variants = [p for code, p in by_language.items() if code.startswith(wanted + "-")]
    return variants[0] if variants else found[0]


def split_at_silences(segment: TranscriptSegment) -> list[TranscriptSegment]:
    """Split a sentence whose aligned words show a long silence inside it (a cue ran on).

    Only a segment with one timed word per caption word is split; each part keeps the words'
    times, the first part its start and the last part its end.
    """
    words = segment.get("words") or []
    if len(words) != len(segment["text"].split()) or len(words) < 2:
        return [segment]
    parts = group_words(words, segment["speaker"], punctuated=True)
    if len(parts) < 2:
        return [segment]
    tokens = segment["text"].split()  # the captions' own spelling, not the aligner's
    for part in parts:
        count = len(part.get("words") or [])
        part["text"], tokens = " ".join(tokens[:count]), tokens[count:]
    parts[0]["start"] = min(parts[0]["start"], segment["start"])
    parts[-1]["end"] = max(parts[-1]["end"], segment["end"])
    return parts


class CaptionsEngine(TranscriptEngine):
    """Read the episode's captions, undo rolling duplication and merge them into sentences."""

    name: ClassVar[str] = "captions"
    description: ClassVar[str] = (
        "Use the video's captions or uploaded subtitles: instant, with the captions' own timing."
    )

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Return sentences made from the chosen caption file."""
        path = pick_caption_file(source.files, source.language)
        if path is None:
            raise InputMissingError(
                "The episode has no captions.",
                hint="Choose the pocketsphinx engine or upload subtitles (.vtt or .srt).",
            )
        language = caption_language(path)
        if language.lower() != (source.language or "").lower():
            call.logger.info("No %s captions; using %s instead", source.language, path.name)
        cues = load_captions(path)
        call.report(READ_SHARE / 2, f"read {len(cues)} cues from {path.name}")
        call.checkpoint()
        tokens, stats = dedupe_cues(cues)
        call.report(READ_SHARE, f"kept {len(tokens)} words")
        call.checkpoint()
        sentences, speakers = merge_sentences(tokens)
        call.logger.info(
            "Read %d cues from %s (%s captions); removed %d duplicate cues and %d repeated words",
            stats.cues,
            path.name,
            "rolling auto" if stats.rolling else "plain",
            stats.duplicate_cues,
            stats.repeated_words,
        )
        call.logger.info(
            "Merged %d words into %d sentences; speakers: %s",
            len(tokens),
            len(sentences),
            ", ".join(speakers) if sentences else "none",
        )
        segments: list[TranscriptSegment] = []
        for sentence in sentences:
            segment = TranscriptSegment(
                start=sentence.start, end=sentence.end, text=sentence.text, speaker=sentence.speaker
            )
            if sentence.words:
                segment["words"] = sentence.words  # type: ignore[typeddict-item]
            segments.append(segment)
        if source.word_alignment != "off":
            self._align(source, call, segments)
            before = len(segments)
            segments = [part for segment in segments for part in split_at_silences(segment)]
            if len(segments) > before:
                call.logger.info(
                    "Split %d sentences where the aligned words show a long silence inside a cue",
                    len(segments) - before,
                )
        call.report(1.0, f"{len(segments)} sentences from captions")
        return TranscriptResult(segments=segments, language=language.split("-")[0])

    def _align(
        self,
        source: TranscriptSource,
        call: EngineCall,
        segments: list[TranscriptSegment],
    ) -> None:
        """Add word timings by forced alignment where the captions have none (best effort)."""
        missing = sum(1 for s in segments if not s.get("words"))
        audio = source.audio
        if not missing or not audio.exists():
            return
        from services.engines.transcript.alignment import align_segments
        from services.engines.transcript.sphinx import PocketsphinxEngine

        available, reason = PocketsphinxEngine.availability()
        if not available:
            call.logger.info("Captions have no word timings; alignment unavailable: %s", reason)
            return
        try:
            stats = align_segments(
                audio,
                segments,
                lambda f: call.report(READ_SHARE + (1 - READ_SHARE) * f, "aligning words"),
                call.checkpoint,
                workers=call.parallel_jobs,
            )
        except (OSError, EOFError, ValueError, RuntimeError, wave.Error) as exc:
            call.logger.warning(
                "Word alignment failed (%s); the captions keep their cue timing", exc
            )
            return
        call.logger.info(
            "Aligned the words of %d of %d sentences in %.1f s%s%s",
            stats.aligned,
            stats.sentences,
            stats.seconds,
            f"; {stats.failed} did not align" if stats.failed else "",
            f"; {stats.skipped} left without word timings (ALIGN_MAX_SECONDS reached)"
            if stats.skipped
            else "",
        )
