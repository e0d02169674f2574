"""Long transcripts in overlapping parts, each line carrying its own absolute timestamps.

Every line reads `[start-end] Speaker: text` in seconds from the start of the video, so a
model's timestamps are absolute in every part and need no offsetting. Consecutive parts
overlap by at least the longest segment allowed (when the part size permits), so a passage
that crosses one part's edge lies whole inside the next; duplicates are removed afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.engines.analysis.base import Sentence


@dataclass(frozen=True)
class TranscriptPart:
    """A run of sentences [first, stop) sent in one request."""

    index: int
    first: int
    stop: int
    start: float
    end: float
    text: str


def clock(seconds: float) -> str:
    """Format seconds as m:ss (h:mm:ss past an hour)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def sentence_line(sentence: Sentence) -> str:
    """Return one transcript line: `[12.3-17.8] Speaker 1: text`."""
    who = f"{sentence.speaker}: " if sentence.speaker else ""
    return f"[{sentence.start:.1f}-{sentence.end:.1f}] {who}{sentence.text}"


def split_transcript(
    sentences: list[Sentence], max_chars: int, overlap_seconds: float
) -> list[TranscriptPart]:
    """Cut sentences into parts of at most `max_chars` characters that overlap in time."""
    lines = [sentence_line(s) for s in sentences]
    parts: list[TranscriptPart] = []
    first = 0
    while first < len(sentences):
        stop, size = first, 0
        while stop < len(sentences) and (stop == first or size + len(lines[stop]) + 1 <= max_chars):
            size += len(lines[stop]) + 1
            stop += 1
        parts.append(
            TranscriptPart(
                index=len(parts),
                first=first,
                stop=stop,
                start=sentences[first].start,
                end=sentences[stop - 1].end,
                text="\n".join(lines[first:stop]),
            )
        )
        if stop >= len(sentences):
            break
        # Step back so the next part repeats this one's tail (at most half of it).
        span = sentences[stop - 1].end - sentences[first].start
        overlap = min(overlap_seconds, span / 2)
        cut = stop
        while cut - 1 > first and sentences[stop - 1].end - sentences[cut - 1].start <= overlap:
            cut -= 1
        first = cut
    return parts
