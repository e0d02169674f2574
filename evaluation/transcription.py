"""Speech recognition on real recordings: word error rate and real-time factor per engine."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evaluation.wer import WerCounts, count_errors
from services.engines.registry import engine_class
from services.engines.transcript.base import TranscriptEngine, TranscriptSource
from services.episodes.files import EpisodeFiles
from services.run.call import EngineCall


@dataclass
class EngineScore:
    """One engine's errors and decoding time over a set of recordings."""

    engine: str
    counts: WerCounts
    audio_seconds: float
    decode_seconds: float
    available: bool = True
    reason: str = ""

    @property
    def wer(self) -> float:
        """Return the corpus-level word error rate."""
        return self.counts.rate

    @property
    def rtf(self) -> float:
        """Return decoding seconds per second of audio."""
        return self.decode_seconds / self.audio_seconds if self.audio_seconds else 0.0


def transcribe_wav(engine: TranscriptEngine, wav: Path, jobs: int = 2) -> tuple[str, float]:
    """Return the text an engine hears in a 16 kHz mono WAV, and the seconds it took."""
    with tempfile.TemporaryDirectory() as tmp:
        files = EpisodeFiles.for_episode(Path(tmp), "eval")
        files.ensure_dirs()
        shutil.copy(wav, files.original_audio)
        started = time.monotonic()
        result = engine.transcribe(TranscriptSource(files), EngineCall(parallel_jobs=jobs))
        took = time.monotonic() - started
    segments = sorted(result.segments, key=lambda s: s["start"])
    return " ".join(s["text"] for s in segments), took


def score_engine(name: str, recordings: list[tuple[Path, str, float]]) -> EngineScore:
    """Transcribe (wav, reference, seconds) recordings with engine `name` and score it."""
    cls = engine_class("transcript", name)
    available, reason = cls.availability()
    total = WerCounts()
    audio = sum(seconds for _, _, seconds in recordings)
    if not available:
        return EngineScore(name, total, audio, 0.0, False, reason)
    engine = cls()
    decode = 0.0
    for wav, reference, _ in recordings:
        heard, took = transcribe_wav(engine, wav)
        total = total + count_errors(reference, heard)
        decode += took
    return EngineScore(name, total, audio, decode)
