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
    source_seconds: float | None = None  # the source's length: no segment ends after it
    clip_budget_seconds: float | None = None  # the reel's clips: no core is longer


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


def _word_times(row: dict, start: float, end: float) -> list[tuple[float, float]]:
    """Return the (start, end) of each timed word of a row inside [start, end], else []."""
    words = row.get("words")
    times = []
    for word in words if isinstance(words, list) else []:
        if not isinstance(word, dict):
            return []
        first, last = _time(word.get("start")), _time(word.get("end"))
        if first is None or last is None:
            return []
        first = min(max(first, start), end)
        times.append((first, min(max(last, first), end)))
    return times


def _split_words(
    text: str, times: list[tuple[float, float]], start: float, end: float
) -> list[tuple[float, float, str]]:
    """Split a row at sentence ends; with one time per word, each piece spans its words."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]
    counts = [len(p.split()) for p in parts]
    if not times or sum(counts) != len(times):
        return _split_timed(text, start, end)
    pieces, cursor = [], 0
    for part, count in zip(parts, counts, strict=True):
        words = times[cursor : cursor + count]
        cursor += count
        pieces.append((words[0][0], max(words[-1][1], words[0][0] + 0.01), part))
    return pieces


def transcript_sentences(transcript: dict | list) -> list[Sentence]:
    """Return the transcript's sentences in time order (segments split at sentence ends).

    When a row has one timed word per word of its text, each sentence spans exactly its
    words (first word's start to last word's end); otherwise the row's time is shared out
    by character count.
    """
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
        text = " ".join(text.split())
        for piece in _split_words(text, _word_times(row, start, end), start, end):
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
