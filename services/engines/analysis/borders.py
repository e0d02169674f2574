"""Where a clip starts and ends: sentence borders with a breath of room, and its strongest part.

A clip cut exactly at the first word's start clips the onset of the word, and one cut at the
last word's end swallows its release. Each passage therefore gets up to `LEAD` seconds of
room before its first word and `TAIL` after its last, but never reaches into a neighbouring
sentence's words: the silence between two sentences is shared in proportion (LEAD : TAIL),
so that clips of neighbouring passages never overlap. The lead is the larger because
recognisers place a word's start late: on the real-speech evaluation set the bundled
whisper's word starts after a pause came a median 0.15 s (90th percentile 0.42 s) after the
speech onset, and its word ends a median 0.03 s (90th percentile 0.29 s) before the speech
ended.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.engines.analysis.base import Sentence

LEAD = 0.4  # seconds of room at most before the first word
TAIL = 0.3  # seconds of room at most after the last word


def breath_bounds(
    sentences: Sequence[Sentence], first: int, stop: int, limit: float | None = None
) -> tuple[float, float]:
    """Return (start, end) of sentences [first, stop) with room that stays out of other words.

    `limit` is the source's length, which the end never passes.
    """
    start, end = sentences[first].start, sentences[stop - 1].end
    before = max((s.end for s in sentences[:first] if s.end <= start), default=None)
    after = min((s.start for s in sentences[stop:] if s.start >= end), default=None)
    share = LEAD / (LEAD + TAIL)  # the following sentence's share of a silence
    lead = LEAD if before is None else min(LEAD, (start - before) * share)
    tail = TAIL if after is None else min(TAIL, (after - end) * (1 - share))
    stop_at = end + tail if not limit else max(min(end + tail, limit), end)
    return round(max(start - lead, 0.0), 3), round(stop_at, 3)


def strongest_window(
    sentences: Sequence[Sentence],
    weights: Sequence[float],
    first: int,
    stop: int,
    max_seconds: float,
) -> tuple[int, int]:
    """Return the run of whole sentences in [first, stop) with the most weight within max_seconds.

    Ties go to the shorter, then the earlier run; a single sentence longer than max_seconds
    is still a run (a clip never cuts a sentence).
    """
    best, best_key = (first, first + 1), (float("-inf"), 0.0, 0)
    for a in range(first, stop):
        total = 0.0
        for b in range(a, stop):
            seconds = sentences[b].end - sentences[a].start
            if b > a and seconds > max_seconds:
                break
            total += weights[b]
            key = (round(total, 6), -seconds, -a)
            if key > best_key:
                best, best_key = (a, b + 1), key
    return best
