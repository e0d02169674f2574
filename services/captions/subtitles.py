"""Subtitles and chapters of the final video: SRT cues, ffmetadata chapters.

Cues come from the narration (its text timed over its section) and from the clips' speech:
the transcript's words inside each clip's source span, moved onto the final's timeline,
with the speaker's name at each change of speaker when the transcript knows it.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

MAX_CUE_CHARS = 84
MAX_LINE_CHARS = 42
MAX_CUE_SECONDS = 6.0
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# A cue stays up this much longer after its last word, up to the next cue.
LINGER_SECONDS = 0.8
# A silence this long between words starts a new cue.
CUE_GAP_SECONDS = 1.0
GENERIC_SPEAKER = re.compile(
    r"^(?:(?:unknown\s*)?speaker|spk|unknown|narrator|s)?[\s_#-]*\d*$", re.IGNORECASE
)


@dataclass(frozen=True)
class TimelineEntry:
    """One script section as it plays in the final video."""

    section_id: str
    section_type: str
    title: str
    start: float
    end: float
    text: str = ""  # narration text; empty for video clips


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from `start` to `end` seconds."""

    start: float
    end: float
    text: str


def _balanced_parts(sentence: str, max_chars: int) -> list[str]:
    """Cut a long sentence into the fewest parts of at most `max_chars`, of similar length."""
    count = math.ceil(len(sentence) / max_chars)
    while True:
        width = min(max_chars, math.ceil(len(sentence) / count) + 6)
        parts = textwrap.wrap(sentence, width, break_long_words=True)
        if len(parts) <= count or width >= max_chars:
            return parts
        count += 1


def split_cue_texts(text: str, max_chars: int = MAX_CUE_CHARS) -> list[str]:
    """Split narration into subtitle-sized pieces, breaking at sentence ends where possible."""
    pieces: list[str] = []
    current = ""
    for sentence in SENTENCE_END.split(" ".join(text.split())):
        if not sentence:
            continue
        for part in _balanced_parts(sentence, max_chars):
            if current and len(current) + 1 + len(part) <= max_chars:
                current = f"{current} {part}"
            else:
                if current:
                    pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def two_lines(text: str, max_line: int = MAX_LINE_CHARS) -> str:
    """Break a cue into two balanced lines when it is longer than one line."""
    if len(text) <= max_line:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - middle))
    return f"{text[:cut]}\n{text[cut + 1 :]}"


def narration_cues(
    entries: list[TimelineEntry], pad: float = 0.0, max_seconds: float = MAX_CUE_SECONDS
) -> list[Cue]:
    """Time each narration's pieces over its section (minus `pad` of silence at each end)."""
    cues: list[Cue] = []
    for entry in entries:
        pieces = split_cue_texts(entry.text)
        if not pieces:
            continue
        start, end = entry.start + pad, entry.end - pad
        if end - start < 0.5:
            start, end = entry.start, entry.end
        total_chars = sum(len(p) for p in pieces)
        at = start
        for piece in pieces:
            share = (end - start) * len(piece) / total_chars
            cues.append(Cue(round(at, 3), round(at + min(share, max_seconds), 3), piece))
            at += share
    return cues


def speaker_name(label: object) -> str | None:
    """Return a speaker label that names someone; None for generic ones ("Speaker 1")."""
    text = " ".join(str(label or "").split())
    if not text or GENERIC_SPEAKER.match(text):
        return None
    return text


@dataclass(frozen=True)
class Word:
    """One spoken word on the source's clock, and who said it."""

    text: str
    start: float
    end: float
    speaker: str | None


def transcript_words(segments: list[dict], start: float, end: float) -> list[Word]:
    """Return the words spoken between `start` and `end` (source seconds), in time order.

    A transcript sentence without word timings has its words spread evenly over its time.
    """
    words: list[Word] = []
    for segment in segments:
        seg_start, seg_end = float(segment.get("start", 0)), float(segment.get("end", 0))
        if seg_end <= start or seg_start >= end:
            continue
        speaker = speaker_name(segment.get("speaker"))
        timed = segment.get("words") or []
        if not timed:
            texts = str(segment.get("text") or "").split()
            step = (seg_end - seg_start) / max(1, len(texts))
            timed = [
                {"word": t, "start": seg_start + i * step, "end": seg_start + (i + 1) * step}
                for i, t in enumerate(texts)
            ]
        for w in timed:
            text = str(w.get("word") or "").strip()
            w_start, w_end = float(w["start"]), float(w["end"])
            if text and start <= (w_start + w_end) / 2 < end:
                words.append(Word(text, w_start, max(w_start, w_end), speaker))
    return sorted(words, key=lambda w: w.start)


def _starts_cue(cue: list[Word], word: Word, max_chars: int, max_seconds: float) -> bool:
    """Tell whether `word` must open a new cue rather than join `cue`."""
    if not cue:
        return False
    last = cue[-1]
    return (
        word.speaker != last.speaker
        or word.start - last.end > CUE_GAP_SECONDS
        or last.text[-1] in ".!?…"
        or len(" ".join(w.text for w in cue)) + 1 + len(word.text) > max_chars
        or word.end - cue[0].start > max_seconds
    )


def speech_cues(
    words: list[Word],
    source_start: float,
    final_start: float,
    final_end: float,
    max_chars: int = MAX_CUE_CHARS - 12,
    max_seconds: float = MAX_CUE_SECONDS,
) -> list[Cue]:
    """Return cues of a clip's words, moved from the source clock to the final's.

    The source's `source_start` plays at `final_start`; nothing shows after `final_end`.
    Each change of speaker (to a named one) opens its cue with the name.
    """
    groups: list[list[Word]] = []
    for word in words:
        if not groups or _starts_cue(groups[-1], word, max_chars, max_seconds):
            groups.append([])
        groups[-1].append(word)
    cues: list[Cue] = []
    previous: str | None = None
    for n, group in enumerate(groups):
        text = " ".join(w.text for w in group)
        speaker = group[0].speaker
        if speaker and speaker != previous:
            text = f"{speaker}: {text}"
        previous = speaker
        start = final_start + group[0].start - source_start
        end = final_start + group[-1].end - source_start + LINGER_SECONDS
        if n + 1 < len(groups):
            end = min(end, final_start + groups[n + 1][0].start - source_start)
        start, end = max(final_start, start), min(final_end, end)
        if end - start >= 0.2:
            cues.append(Cue(round(start, 3), round(end, 3), text))
    return cues


def srt_timestamp(seconds: float) -> str:
    """Format seconds as an SRT time (HH:MM:SS,mmm)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def format_srt(cues: list[Cue]) -> str:
    """Return an SRT document of `cues`."""
    blocks = [
        f"{n}\n{srt_timestamp(c.start)} --> {srt_timestamp(c.end)}\n{two_lines(c.text)}\n"
        for n, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def parse_srt(text: str) -> list[Cue]:
    """Read an SRT document back into cues."""

    def seconds(stamp: str) -> float:
        hms, _, millis = stamp.strip().partition(",")
        h, m, s = (int(x) for x in hms.split(":"))
        return ((h * 3600 + m * 60 + s) * 1000 + int(millis)) / 1000

    cues = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        if len(lines) >= 3 and "-->" in lines[1]:
            start, _, end = lines[1].partition("-->")
            cues.append(Cue(seconds(start), seconds(end), "\n".join(lines[2:])))
    return cues


def filter_path(path: object) -> str:
    """Escape a file path as a filter option value inside a filter graph (two levels)."""
    value = re.sub(r"([\\':])", r"\\\1", str(path))
    return re.sub(r"([\\'\[\],;])", r"\\\1", value)


def _escape_ffmetadata(value: str) -> str:
    """Escape a value for an ffmetadata file (=, ;, #, backslash and newlines)."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def ffmetadata(entries: list[TimelineEntry], title: str = "") -> str:
    """Return an ffmetadata document with the video title and one chapter per entry."""
    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={_escape_ffmetadata(title)}")
    for entry in entries:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(entry.start * 1000)}",
            f"END={round(entry.end * 1000)}",
            f"title={_escape_ffmetadata(entry.title)}",
        ]
    return "\n".join(lines) + "\n"
