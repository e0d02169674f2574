"""What an analysis engine is: transcript + guideline in, analysed segments out."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar

from services.engines.base import Engine
from services.library.guidelines import Guideline
from services.run.call import EngineCall

# An engine reports measured progress with call.report(fraction, message, sub_stage=...), on
# the analysis stage's sub-stages "segment", "score" and "select"; the call raises
# StageInterrupted when the user stops the run, so engines report between units of work.

ENGINE_SUB_STAGES = ("segment", "score", "select")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=\S)")


@dataclass(frozen=True)
class Sentence:
    """One sentence of the transcript with its time span and speaker."""

    index: int
    start: float
    end: float
    text: str
    speaker: str | None = None

    @property
    def duration(self) -> float:
        """Return the sentence's length in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class AnalysisOptions:
    """The knobs of one analysis: how many segments, how long."""

    max_segments: int = 20
    min_seconds: float = 20.0
    max_seconds: float = 120.0


def _time(value: object) -> float | None:
    """Return a finite, non-negative time in seconds, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def _split_timed(text: str, start: float, end: float) -> list[tuple[float, float, str]]:
    """Split a timed text at sentence ends, sharing its time by character count."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    if len(parts) <= 1:
        return [(start, end, text.strip())]
    total = sum(len(p) for p in parts)
    pieces, cursor = [], start
    for n, part in enumerate(parts):
        stop = end if n == len(parts) - 1 else cursor + (end - start) * len(part) / total
        pieces.append((round(cursor, 3), round(stop, 3), part))
        cursor = stop
    return pieces


def transcript_sentences(transcript: dict | list) -> list[Sentence]:
    """Return the transcript's sentences in time order (segments split at sentence ends)."""
    rows = transcript.get("segments", []) if isinstance(transcript, dict) else transcript
    timed = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        text = row.get("text")
        start, end = _time(row.get("start")), _time(row.get("end"))
        if not isinstance(text, str) or not text.strip() or start is None or end is None:
            continue
        end = max(end, start + 0.01)
        speaker = row.get("speaker")
        speaker = speaker.strip() if isinstance(speaker, str) and speaker.strip() else None
        for piece in _split_timed(" ".join(text.split()), start, end):
            timed.append((*piece, speaker))
    timed.sort(key=lambda t: (t[0], t[1]))
    return [Sentence(n, s, e, text, speaker) for n, (s, e, text, speaker) in enumerate(timed)]


class AnalysisEngine(Engine):
    """Base of analysis engines; `analyse` returns segments valid per services.episodes.segments."""

    kind: ClassVar[str] = "analysis"

    def analyse(
        self,
        transcript: dict,
        guideline: Guideline,
        options: AnalysisOptions,
        call: EngineCall,
    ) -> list[dict]:
        """Return the segments of `transcript` that match `guideline`, in time order."""
        raise NotImplementedError
