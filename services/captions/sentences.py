"""Sentence borders in a stream of timed words, shared by captions and speech recognisers.

`sentence_spans` decides where sentences end; the caller keeps its own word type (caption
tokens, recogniser words), anything with `text`, `start` and `end`.

- Punctuated text ends a sentence at sentence punctuation ("Dr.", "No. 5", "p.m." and
  initials excepted), and also at a silence of LONG_PAUSE or more: a speaker who stops for
  two seconds has finished, whatever the captioner typed.
- Unpunctuated text (auto captions, pocketsphinx) ends a sentence at a pause of PAUSE or more.
- A piece still longer than the limits (MAX_SECONDS / MAX_WORDS) is cut at its best border:
  the longest pause, then clause punctuation, then a cue border, then nearest the middle.
- Nothing else ends a sentence: not a cue border, nor the border of a recogniser's audio
  chunk, since words are grouped over the whole stream at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

PAUSE = 0.6  # seconds of silence that end an unpunctuated sentence (tuned on evaluation/)
LONG_PAUSE = 1.5  # seconds of silence that end a sentence even without a full stop
MAX_SECONDS = {True: 30.0, False: 12.0}  # by punctuated: longer pieces are cut
MAX_WORDS = {True: 80, False: 30}
MIN_SIDE = 0.25  # a cut of an over-long piece keeps at least this share of words each side
WORD_SECONDS = (0.2, 0.06)  # a spoken word lasts at most 0.2 s + 0.06 s a character

TERMINAL = re.compile(r"[.?!\u2026]+[\"'\u201d\u2019)\]]*$")
CLAUSE = re.compile(r"[,;:\u2013\u2014-][\"'\u201d\u2019)\]]*$")
# Never a sentence end: titles and "No. 5" style words.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs mt fig gen gov sen rep rev capt col lt sgt approx".split()
)
# A sentence end only when the next word starts with a capital: "at 5 p.m. Then".
AMBIGUOUS = frozenset(
    "etc a.m p.m u.s u.k inc ltd co e.g i.e "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


class TimedText(Protocol):
    """A word with its time span; `cue` (optional) names the caption cue it came from."""

    text: str
    start: float
    end: float


def longest_word(text: str) -> float:
    """Return the longest a spoken word of this text plausibly lasts, in seconds."""
    base, per_char = WORD_SECONDS
    return base + per_char * len(text)


def is_sentence_end(word: str, following: str | None) -> bool:
    """Tell whether `word` ends a sentence, given the next word (None at the end)."""
    if not TERMINAL.search(word):
        return False
    bare = word.rstrip("\"'\u201d\u2019)]")
    if following is None:
        return True
    capital_next = following[:1].isupper() or following[:1] in "\"'\u201c"
    if bare.endswith(("?", "!")):
        return bare == word or not following[:1].islower()  # '"Really?" she asked.'
    if bare.endswith(("...", "\u2026")):
        return capital_next and following != "I"
    stem = bare.rstrip(".").lstrip("\"'(\u201c")
    if re.fullmatch(r"[A-Z]", stem):
        return False  # an initial: "John F. Kennedy"
    stem = stem.lower()
    if stem == "no":
        return not following[:1].isdigit()  # "No. 5"
    if stem in ABBREVIATIONS:
        return False
    if stem in AMBIGUOUS or re.fullmatch(r"(?:[a-z]\.)+[a-z]", stem):
        return capital_next
    return True


def is_punctuated(texts: Sequence[str]) -> bool:
    """Tell whether words carry punctuation (auto captions and some recognisers have none)."""
    marks = sum(1 for text in texts if TERMINAL.search(text) or CLAUSE.search(text))
    return marks > 0 and len(texts) / marks <= 40


def _gap(words: Sequence[TimedText], index: int) -> float:
    """Return the silence before word `index` (0 for the first)."""
    if index <= 0:
        return 0.0
    return max(0.0, words[index].start - words[index - 1].end)


def _border_score(words: Sequence[TimedText], index: int, middle: float) -> tuple:
    """Rank a cut before word `index`: longest pause, clause mark, cue border, near the middle."""
    before = words[index - 1]
    cue_border = getattr(before, "cue", None) != getattr(words[index], "cue", None)
    return (
        round(_gap(words, index), 1),
        bool(CLAUSE.search(before.text)),
        cue_border,
        -abs(index - middle),
    )


def _split_long(
    words: Sequence[TimedText], start: int, stop: int, punctuated: bool
) -> list[tuple[int, int]]:
    """Cut the span start..stop at its best borders until every piece is within the limits."""
    count = stop - start
    seconds = words[stop - 1].end - words[start].start
    if count < 2 or (count <= MAX_WORDS[punctuated] and seconds <= MAX_SECONDS[punctuated]):
        return [(start, stop)]
    side = max(1, int(count * MIN_SIDE))
    candidates = range(start + side, stop - side + 1)
    middle = (start + stop) / 2
    cut = max(candidates, key=lambda i: _border_score(words, i, middle))
    return _split_long(words, start, cut, punctuated) + _split_long(words, cut, stop, punctuated)


def sentence_spans(
    words: Sequence[TimedText], punctuated: bool | None = None
) -> list[tuple[int, int]]:
    """Return the [start, stop) word index spans of the sentences in `words` (in time order)."""
    if not words:
        return []
    if punctuated is None:
        punctuated = is_punctuated([w.text for w in words])
    pause = LONG_PAUSE if punctuated else PAUSE
    spans: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(words) + 1):
        last = index == len(words)
        if (
            last
            or _gap(words, index) >= pause
            or (punctuated and is_sentence_end(words[index - 1].text, words[index].text))
        ):
            spans.extend(_split_long(words, start, index, punctuated))
            start = index
    return spans
