"""Captions to transcript: parse WebVTT/SRT, undo rolling duplication, merge into sentences.

The steps are separate so each can be tested: `parse_captions` reads cues (tags, entities,
inline word timings and speaker marks become `Token`s), `dedupe_cues` turns the cues into one
stream in which every spoken word appears once, and `merge_sentences` groups that stream into
sentences with timings and speakers. `captions_to_sentences` runs all three.

Speaker rules (what the captions can tell, no more):
- `<v Name>`, or `NAME:` (1-3 capitalised words and a colon at a line start) names the speaker.
- `>>` or `- ` at a line start marks a new turn without a name. Bare turns alternate between
  `Speaker 1` and `Speaker 2` (a conversation of two is the common case and the captions
  do not say who is who); a bare turn right after a named one reuses the last bare label.
- Text before any mark is `Speaker 1`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from services.captions.sentences import is_punctuated, longest_word, sentence_spans

TIMESTAMP = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
TIMING_LINE = re.compile(rf"^\s*{TIMESTAMP}\s*-->\s*{TIMESTAMP}")
INLINE_TIME = re.compile(rf"^<{TIMESTAMP}>$")
TAG_OR_TEXT = re.compile(r"<[^>]*>|[^<]+")
VOICE_TAG = re.compile(r"^<v(?:\.[^\s>]*)?\s+([^>]+)>$")
NAME_WORD = re.compile(r"^[A-Z][\w'.-]*$")
DASHES = ("-", "\u2013", "\u2014")
SOUND_NOTE = re.compile(r"\[[^\]<>]*\]|\u266a[^\u266a]*\u266a|\u266a")
ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")
WORD_KEY = re.compile(r"[^\w']+")


@dataclass
class Token:
    """One word of a cue: its text, time span, whether the time is real, and any speaker mark."""

    text: str
    start: float
    end: float
    timed: bool = False
    mark: str | None = None  # None: no mark; "": new turn without a name; else the name
    cue: int = 0

    @property
    def key(self) -> str:
        """Return the word normalised for comparisons (lowercase, no punctuation)."""
        return WORD_KEY.sub("", self.text.lower())


@dataclass
class Cue:
    """A caption cue: its time span and its non-empty lines of tokens."""

    start: float
    end: float
    lines: list[list[Token]] = field(default_factory=list)
    index: int = 0

    @property
    def tokens(self) -> list[Token]:
        """Return every token of every line, in order."""
        return [t for line in self.lines for t in line]

    @property
    def text(self) -> str:
        """Return the cue's plain text (lines joined by newlines)."""
        return "\n".join(" ".join(t.text for t in line) for line in self.lines)


@dataclass
class Sentence:
    """A merged sentence: its span, text, speaker and (when the captions had them) word timings."""

    start: float
    end: float
    text: str
    speaker: str
    words: list[dict] | None = None


@dataclass
class DedupeStats:
    """What `dedupe_cues` found: cue counts and how much repetition it removed."""

    cues: int = 0
    rolling: bool = False
    duplicate_cues: int = 0
    repeated_words: int = 0


def parse_time(match: re.Match, offset: int = 0) -> float:
    """Turn the groups of a TIMESTAMP match (starting at group `offset`+1) into seconds."""
    hours, minutes, seconds, fraction = match.groups()[offset : offset + 4]
    return (
        int(hours or 0) * 3600
        + int(minutes) * 60
        + int(seconds)
        + int(fraction.ljust(3, "0")) / 1000
    )


def _cue_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Return (timing line, payload lines) of every cue; a cue's payload ends at an empty line."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    timings = [i for i, line in enumerate(lines) if TIMING_LINE.match(line)]
    blocks = []
    for number, at in enumerate(timings):
        stop = timings[number + 1] if number + 1 < len(timings) else len(lines)
        payload = lines[at + 1 : stop]
        if "" in payload:
            payload = payload[: payload.index("")]
        elif (
            stop < len(lines)
            and payload
            and (payload[-1].strip().isdigit() or (len(payload) > 1 and not payload[-2].strip()))
        ):
            payload = payload[:-1]  # the next cue's identifier, with no empty line before it
        blocks.append((lines[at], payload))
    return blocks


def _parse_cues(text: str) -> list[Cue]:
    """Read cues from VTT or SRT text (headers, identifiers and NOTE/STYLE blocks are skipped)."""
    cues: list[Cue] = []
    for timing, payload in _cue_blocks(text):
        match = TIMING_LINE.match(timing)
        start, end = parse_time(match), parse_time(match, 4)
        cue = _parse_payload(payload, start, max(start, end))
        cue.index = len(cues)
        for token in cue.tokens:
            token.cue = cue.index
        cues.append(cue)
    return cues


def parse_vtt(text: str) -> list[Cue]:
    """Parse WebVTT text into cues."""
    return _parse_cues(text)


def parse_srt(text: str) -> list[Cue]:
    """Parse SubRip (SRT) text into cues."""
    return _parse_cues(text)


def parse_captions(text: str) -> list[Cue]:
    """Parse WebVTT or SRT, telling them apart by the WEBVTT header."""
    if text.lstrip("\ufeff \n").startswith("WEBVTT"):
        return parse_vtt(text)
    return parse_srt(text)


def load_captions(path: Path) -> list[Cue]:
    """Read and parse a caption file (UTF-8, undecodable bytes replaced)."""
    return parse_captions(Path(path).read_text(encoding="utf-8", errors="replace"))


def _line_tokens(line: str, time: float) -> tuple[list[Token], float, bool]:
    """Tokenise one payload line; return tokens, the running inline time, and if it had any."""
    tokens: list[Token] = []
    building: Token | None = None  # a word may continue across a tag: "hel<i>lo</i>"
    mark: str | None = None
    had_time = False
    for piece in TAG_OR_TEXT.findall(SOUND_NOTE.sub(" ", ASS_OVERRIDE.sub("", line))):
        if piece.startswith("<"):
            if (timed := INLINE_TIME.match(piece)) is not None:
                time, had_time, building = parse_time(timed), True, None
            elif (voice := VOICE_TAG.match(piece)) is not None:
                mark, building = html.unescape(voice.group(1)).strip(), None
            continue
        for part in re.split(r"(\s+)", html.unescape(piece)):
            if not part:
                continue
            if part.isspace():
                building = None
            elif building is not None:
                building.text += part
            else:
                building = Token(part, time, time, mark=mark)
                tokens.append(building)
                mark = None
    return _turn_marks(tokens), time, had_time


def _turn_marks(tokens: list[Token]) -> list[Token]:
    """Turn `>>` words into an unnamed-turn mark on the word after them."""
    result: list[Token] = []
    pending: str | None = None
    for token in tokens:
        if token.text.startswith(">>"):
            pending = token.mark if token.mark else ""
            token.text = token.text[2:]
            if not token.text:
                continue
        if pending is not None:
            token.mark = token.mark if token.mark else pending
            pending = None
        result.append(token)
    return result


def _speaker_marks(tokens: list[Token]) -> tuple[list[Token], str | None]:
    """Apply a line start's `- ` and `NAME:`; return the tokens and a mark for the next line."""
    if tokens and tokens[0].text in DASHES:
        dash, tokens = tokens[0], tokens[1:]
        if not tokens:
            return tokens, dash.mark or ""
        tokens[0].mark = tokens[0].mark or dash.mark or ""
    for index, token in enumerate(tokens[:3]):
        if not NAME_WORD.match(token.text.rstrip(":")) or token.text == ":":
            break
        if token.text.endswith(":"):
            name = " ".join(t.text for t in tokens[: index + 1]).rstrip(":").strip()
            name = name.title() if name.isupper() else name
            rest = tokens[index + 1 :]
            if not rest:
                return rest, name
            rest[0].mark = name
            return rest, None
    return tokens, None


def _parse_payload(lines: list[str], start: float, end: float) -> Cue:
    """Build a cue from its payload lines: tokens, inline times, speaker marks."""
    cue = Cue(start, end)
    time, pending = start, None
    timed_lines: list[bool] = []
    for raw in lines:
        tokens, time, had_time = _line_tokens(raw, time)
        tokens, left = _speaker_marks([t for t in tokens if t.text])
        if tokens and pending is not None:
            tokens[0].mark = tokens[0].mark or pending
        pending = left if left is not None else (pending if not tokens else None)
        if tokens:
            cue.lines.append(tokens)
            timed_lines.append(had_time)
    _time_lines(cue, timed_lines)
    return cue


def _spread(tokens: list[Token], start: float, end: float) -> None:
    """Share the span start..end among tokens in proportion to their lengths."""
    weights = [len(t.text) + 1 for t in tokens]
    total, done = sum(weights), 0
    for token, weight in zip(tokens, weights, strict=True):
        token.start = start + (end - start) * done / total
        done += weight
        token.end = start + (end - start) * done / total


def _time_lines(cue: Cue, timed_lines: list[bool]) -> None:
    """Give tokens times: inline tags when the cue has them (untagged runs spread), else spread."""
    if not any(timed_lines):
        _spread(cue.tokens, cue.start, cue.end)
        return
    first = timed_lines.index(True)
    for line in cue.lines[:first]:  # lines shown again above the newly timed words
        for token in line:
            token.start = token.end = cue.start
    groups: list[list[Token]] = []
    for token in (t for line in cue.lines[first:] for t in line):
        if groups and groups[-1][0].start == token.start:
            groups[-1].append(token)
        else:
            groups.append([token])
    for index, group in enumerate(groups):
        group_start = min(max(group[0].start, cue.start), cue.end)
        group_end = groups[index + 1][0].start if index + 1 < len(groups) else cue.end
        _spread(group, group_start, max(group_start, min(group_end, cue.end)))
        for token in group:
            token.timed = True
        # A word's time runs to the next word's: end it when it is plausibly said, so a
        # silence before the next word shows as a pause.
        last = group[-1]
        last.end = min(last.end, last.start + longest_word(last.text))


def _is_rolling(cues: list[Cue]) -> bool:
    """Tell whether captions roll (each cue starts with the last line of the one before)."""
    if any(t.timed for cue in cues for t in cue.tokens):
        return True
    texted = [cue for cue in cues if cue.lines]
    repeats = 0
    for prev, cue in zip(texted, texted[1:], strict=False):
        shown = [t.key for t in prev.lines[-1]]
        repeats += [t.key for t in cue.tokens[: len(shown)]] == shown
    return len(texted) > 2 and repeats >= 0.3 * (len(texted) - 1)


def _overlap(history: list[str], cue: Cue) -> int:
    """Return how many leading words of `cue` repeat the end of `history` (lines first)."""
    words = [t.key for t in cue.tokens]
    boundaries, count = [], 0
    for line in cue.lines:
        count += len(line)
        boundaries.append(count)
    for size in sorted(boundaries, reverse=True):
        if size <= len(history) and history[len(history) - size :] == words[:size]:
            return size
    for size in range(min(len(history), len(words)), 0, -1):
        if history[len(history) - size :] == words[:size]:
            return size
    return 0


def dedupe_cues(cues: list[Cue]) -> tuple[list[Token], DedupeStats]:
    """Return one token stream in which each spoken word appears once, and what was removed."""
    stats = DedupeStats(cues=len(cues), rolling=_is_rolling(cues))
    stream: list[Token] = []
    history: list[str] = []
    previous: list[str] | None = None
    for cue in sorted(cues, key=lambda c: (c.start, c.index)):
        tokens = cue.tokens
        words = [t.key for t in tokens]
        if not tokens:
            continue
        if stats.rolling:
            repeated = _overlap(history[-200:], cue)
        elif words == previous:
            repeated = len(words)  # the same cue again (a re-timed copy)
        else:
            repeated = 0
        fresh = tokens[repeated:]
        stats.repeated_words += repeated
        if not fresh:
            stats.duplicate_cues += 1
            if not stats.rolling and stream and cue.start - stream[-1].end < 1:
                stream[-1].end = max(stream[-1].end, cue.end)  # a re-timed copy: still spoken
            continue
        if repeated and not any(t.timed for t in fresh):
            _spread(fresh, cue.start, cue.end)  # the repeat was spoken before; these words now
        stream.extend(fresh)
        history.extend(t.key for t in fresh)
        previous = words
    return stream, stats


class SpeakerLabels:
    """Resolve speaker marks into labels following the module's documented rules."""

    def __init__(self) -> None:
        self.current = "Speaker 1"
        self.current_named = False
        self.last_bare = "Speaker 1"
        self.speakers: list[str] = []

    def apply(self, mark: str | None) -> str:
        """Return the speaker after a token with `mark`."""
        if mark:
            self.current, self.current_named = mark, True
        elif mark == "":
            if self.current_named or not self.speakers:
                label = self.last_bare
            else:
                label = "Speaker 2" if self.current == "Speaker 1" else "Speaker 1"
            self.current, self.current_named, self.last_bare = label, False, label
        if self.current not in self.speakers:
            self.speakers.append(self.current)
        return self.current


def _speaker_runs(tokens: list[Token]) -> tuple[list[tuple[str, list[Token]]], list[str]]:
    """Split the stream at speaker turns; return (speaker, tokens) runs and the speakers."""
    labels = SpeakerLabels()
    runs: list[tuple[str, list[Token]]] = []
    for token in tokens:
        speaker = labels.apply(token.mark)
        if not runs or speaker != runs[-1][0] or token.mark == "":
            runs.append((speaker, []))
        runs[-1][1].append(token)
    return runs, labels.speakers


def _sentence(tokens: list[Token], speaker: str) -> Sentence:
    """Return the sentence of some tokens (with their word timings when all are timed)."""
    words = None
    if all(t.timed for t in tokens):
        words = [{"word": t.text, "start": t.start, "end": t.end} for t in tokens]
    text = " ".join(t.text for t in tokens)
    return Sentence(tokens[0].start, tokens[-1].end, text, speaker, words)


def merge_sentences(tokens: list[Token]) -> tuple[list[Sentence], list[str]]:
    """Group a token stream into sentences; return them and the speakers in order of appearance.

    Sentences end at speaker turns and where `sentence_spans` puts their borders: at
    punctuation when the captions have it, at pauses always (see services.captions.sentences).
    """
    punctuated = is_punctuated([t.text for t in tokens])
    runs, speakers = _speaker_runs(tokens)
    sentences = [
        _sentence(run[start:stop], speaker)
        for speaker, run in runs
        for start, stop in sentence_spans(run, punctuated)
    ]
    return sentences, speakers


@dataclass
class CaptionTranscript:
    """The sentences made from a caption file and the counts worth logging."""

    sentences: list[Sentence]
    speakers: list[str]
    stats: DedupeStats


def captions_to_sentences(text: str) -> CaptionTranscript:
    """Parse caption text (VTT or SRT), undo repetition and merge the words into sentences."""
    tokens, stats = dedupe_cues(parse_captions(text))
    sentences, speakers = merge_sentences(tokens)
    return CaptionTranscript(sentences, speakers, stats)
