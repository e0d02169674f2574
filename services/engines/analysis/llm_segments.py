"""Turn a model's segments into valid Clipcast segments: repair what is safe, report the rest.

Safe repairs: ids are renumbered, severities upper-cased, confidences given as percentages
scaled, times written as "m:ss" read, bounds snapped to the transcript's sentence starts and
ends, the duration recomputed, quote timestamps moved into the passage, a missing speaker
or context description filled from the transcript. A segment without a title, reasoning, a
known category or usable bounds is not guessed at: it is reported back to the model.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter

from services.engines.analysis.base import Sentence
from services.engines.analysis.llm_chunks import clock
from services.engines.clients.replies import ReplyError
from services.episodes.segments import SEVERITIES, segment_id, validate_segment
from services.library.guidelines import Guideline

SEVERITY_POINTS = {"CRITICAL": 4.0, "HIGH": 3.0, "MEDIUM": 2.0, "LOW": 1.0}
EDGE_SLACK = 2.0  # seconds a segment may reach past the transcript part it came from
_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def read_seconds(value: object) -> float | None:
    """Return seconds from a number, "12.5", "1:02" or "1:02:03"; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str):
        text = value.strip().rstrip("s")
        match = _CLOCK.match(text)
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        try:
            return read_seconds(float(text))
        except ValueError:
            return None
    return None


class SentenceIndex:
    """Sentence starts and ends for snapping a model's times to sentence boundaries."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self.sentences = sentences
        self.starts = [s.start for s in sentences]
        self.ends = [s.end for s in sentences]

    def snap(self, start: float, end: float) -> tuple[int, int] | None:
        """Return the sentence range [first, stop) best covering start..end."""
        if not self.sentences:
            return None
        # The first sentence that ends after `start`, the last that starts before `end`.
        first = min(bisect.bisect_right(self.ends, start + 0.05), len(self.sentences) - 1)
        last = max(bisect.bisect_left(self.starts, end - 0.05) - 1, 0)
        if last < first:  # a span inside a pause: the sentence after it
            last = first
        return first, last + 1

    def speaker(self, first: int, stop: int) -> str | None:
        """Return the speaker with the most time in the range."""
        seconds: Counter[str] = Counter()
        for sentence in self.sentences[first:stop]:
            if sentence.speaker:
                seconds[sentence.speaker] += sentence.duration
        return seconds.most_common(1)[0][0] if seconds else None

    def sentence_at(self, time: float) -> Sentence | None:
        """Return the sentence spoken at `time` (or the next one)."""
        n = bisect.bisect_right(self.ends, time)
        return self.sentences[n] if n < len(self.sentences) else None


def _category(value: object, guideline: Guideline) -> str | None:
    """Return the guideline category named by `value` (case and spacing forgiven)."""
    if not isinstance(value, str):
        return None
    wanted = " ".join(value.lower().split())
    names = {c.name.lower(): c.name for c in guideline.categories}
    if wanted in names:
        return names[wanted]
    close = [name for key, name in names.items() if wanted in key or key in wanted]
    return close[0] if len(close) == 1 else None


def _text(value: object) -> str:
    """Return a value as stripped text ("" for non-text)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _confidence(value: object) -> float:
    """Return a confidence in 0..1 (percentages scaled; 0.5 when missing)."""
    number = read_seconds(value.strip().rstrip("%")) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        return 0.5
    if 1.0 < number <= 100.0:
        number /= 100.0
    return round(min(1.0, max(0.0, float(number))), 2)


def _quotes(value: object, start: float, end: float, index: SentenceIndex) -> list[dict]:
    """Return up to three {timestamp, quote} inside start..end."""
    quotes = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str):
            item = {"quote": item}
        if not isinstance(item, dict) or not _text(item.get("quote")):
            continue
        stamp = read_seconds(item.get("timestamp"))
        if stamp is None:
            stamp = _find_quote(_text(item["quote"]), start, end, index)
        quotes.append({"timestamp": round(min(max(stamp, start), end), 3), "quote": item["quote"]})
    return quotes[:3]


def _find_quote(quote: str, start: float, end: float, index: SentenceIndex) -> float:
    """Return the start of the sentence holding most of the quote's words (else `start`)."""
    words = set(re.findall(r"\w+", quote.lower()))
    best, best_time = 0, start
    for sentence in index.sentences:
        if sentence.end < start or sentence.start > end:
            continue
        shared = len(words & set(re.findall(r"\w+", sentence.text.lower())))
        if shared > best:
            best, best_time = shared, sentence.start
    return best_time


def _bounds(raw: dict) -> tuple[float | None, float | None]:
    """Return the (start, end) a model gave, from fullerContextTimestamps or start/end."""
    bounds = raw.get("fullerContextTimestamps")
    if not isinstance(bounds, dict):
        bounds = raw
    return read_seconds(bounds.get("start")), read_seconds(bounds.get("end"))


def repair_segment(
    raw: object,
    guideline: Guideline,
    index: SentenceIndex,
    span: tuple[float, float],
) -> tuple[dict | None, str]:
    """Return (segment, "") or (None, what is wrong) for one segment of a model's reply."""
    if not isinstance(raw, dict):
        return None, "a segment is not a JSON object"
    title = _text(raw.get("narrativeSegmentTitle") or raw.get("title"))
    if not title:
        return None, "a segment has no narrativeSegmentTitle"
    category = _category(raw.get("harm_category"), guideline)
    if category is None:
        known = ", ".join(c.name for c in guideline.categories)
        return None, f"harm_category {raw.get('harm_category')!r} is not one of: {known}"
    start, end = _bounds(raw)
    if start is None or end is None or end <= start:
        return None, f"segment {title!r} needs fullerContextTimestamps with start < end (seconds)"
    if start < span[0] - EDGE_SLACK or end > span[1] + EDGE_SLACK:
        return None, (
            f"segment {title!r} ({start:g}-{end:g} s) lies outside the transcript part "
            f"({span[0]:g}-{span[1]:g} s); use the timestamps of the lines"
        )
    snapped = index.snap(start, end)
    if snapped is None:
        return None, "the transcript is empty"
    first, stop = snapped
    start, end = index.sentences[first].start, index.sentences[stop - 1].end
    reasoning = _text(raw.get("brief_reasoning_for_classification") or raw.get("reasoning"))
    if not reasoning:
        return None, f"segment {title!r} has no brief_reasoning_for_classification"
    severity = _text(raw.get("severityRating")).upper() or guideline.category(category).severity
    if severity not in SEVERITIES:
        return None, f"severityRating {raw.get('severityRating')!r} is not one of CRITICAL|HIGH|…"
    confidence = _confidence(raw.get("confidence_in_classification"))
    speaker = _text(raw.get("primary_speaker_of_quote")) or index.speaker(first, stop) or "unknown"
    context = _text(raw.get("clipContextDescription")) or (
        f"{speaker} speaks from {clock(start)} to {clock(end)} ({round(end - start)} s)"
    )
    segment = {
        "segment_id": "seg_000",
        "narrativeSegmentTitle": title,
        "severityRating": severity,
        "harm_category": category,
        "primary_speaker_of_quote": speaker,
        "confidence_in_classification": confidence,
        "brief_reasoning_for_classification": reasoning,
        "clipContextDescription": context,
        "segmentDurationInSeconds": round(end - start, 3),
        "fullerContextTimestamps": {"start": round(start, 3), "end": round(end, 3)},
        "suggestedClip": _quotes(raw.get("suggestedClip"), start, end, index),
        "score": round(SEVERITY_POINTS[severity] * (0.5 + confidence), 3),
    }
    problems = validate_segment({**segment, "segment_id": "seg_001"})
    return (segment, "") if not problems else (None, "; ".join(problems))


def segments_of_reply(
    data: object, guideline: Guideline, index: SentenceIndex, span: tuple[float, float]
) -> tuple[list[dict], list[str]]:
    """Return the repaired segments of a parsed reply and the problems of those dropped.

    Raise ReplyError when the reply has no segments list, or when every segment is unusable.
    """
    rows = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ReplyError('the JSON object has no "segments" list')
    kept, dropped = [], []
    for raw in rows:
        segment, problem = repair_segment(raw, guideline, index, span)
        if segment:
            kept.append(segment)
        else:
            dropped.append(problem)
    if rows and not kept:
        raise ReplyError("no segment was usable: " + "; ".join(dropped[:3]))
    return kept, dropped


def mark_cut(segment: dict, span: tuple[float, float], first: bool, last: bool) -> dict:
    """Mark a segment that touches the edge of its transcript part (it may be cut short there)."""
    bounds = segment["fullerContextTimestamps"]
    cut = (not first and bounds["start"] <= span[0] + EDGE_SLACK) or (
        not last and bounds["end"] >= span[1] - EDGE_SLACK
    )
    return {**segment, "_cut": cut}


def merge_segments(segments: list[dict], limit: int) -> list[dict]:
    """Drop duplicates (passages overlapping by more than half), keep the best `limit`, renumber.

    Of duplicates found in two overlapping parts, the one not cut by a part's edge wins, then
    the better scored, then the longer.
    """

    def rank(segment: dict) -> tuple:
        bounds = segment["fullerContextTimestamps"]
        length = bounds["end"] - bounds["start"]
        return (segment.get("_cut", False), -segment["score"], -length, bounds["start"])

    ranked = sorted(segments, key=rank)
    kept: list[dict] = []
    for segment in ranked:
        a = segment["fullerContextTimestamps"]
        duplicate = False
        for other in kept:
            b = other["fullerContextTimestamps"]
            shared = min(a["end"], b["end"]) - max(a["start"], b["start"])
            shorter = min(a["end"] - a["start"], b["end"] - b["start"])
            if shared > 0.5 * shorter:
                duplicate = True
                break
        if not duplicate:
            kept.append(segment)
        if len(kept) >= limit:
            break
    kept = sorted(
        ({k: v for k, v in s.items() if k != "_cut"} for s in kept),
        key=lambda s: s["fullerContextTimestamps"]["start"],
    )
    for number, segment in enumerate(kept, 1):
        segment["segment_id"] = segment_id(number)
    return kept
