"""Text helpers of the heuristic engine: normalising, light stemming, cue phrase matching."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_CONTRACTIONS = (
    (re.compile(r"\bcan['’]t\b"), "can not"),
    (re.compile(r"\bwon['’]t\b"), "will not"),
    (re.compile(r"n['’]t\b"), " not"),
    (re.compile(r"['’]re\b"), " are"),
    (re.compile(r"['’]ll\b"), " will"),
    (re.compile(r"['’]ve\b"), " have"),
    (re.compile(r"['’]m\b"), " am"),
    (re.compile(r"['’]d\b"), " would"),
    (re.compile(r"['’]s\b"), ""),
)
_WORD = re.compile(r"[a-z0-9]+")
ARTICLES = ("the", "a", "an")
LOOSE_VALUE = 0.75  # a cue matched without its article counts a little less

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let like me more most my myself no nor not now of off on once only or other
    our ours ourselves out over own really right same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves yeah yes okay oh um uh well know think going get got go say said thing
    things lot kind sort mean actually one two people way much even still back make made
    tell told look want need come take give see let put start keep use try feel great good new
    time day today year years every never always something anything everything someone
    next last first old little big small long whole real sure pretty bit
    """.split()
)


def normalise(text: str) -> str:
    """Lower-case text, expand contractions and turn punctuation into spaces."""
    text = text.lower().replace("%", " percent ")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return " ".join(_WORD.findall(text))


def stem(word: str) -> str:
    """Strip common English endings so that cure/cures/cured/curing compare equal."""
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 3:
            word = word[: len(word) - len(suffix)] + replacement
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
            word = word[:-1]
    while word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def stems(text: str) -> list[str]:
    """Return the stems of every word of `text`, stopwords included (for phrase matching)."""
    return [stem(w) for w in normalise(text).split()]


@dataclass(frozen=True)
class Cue:
    """A guideline cue phrase as written, with its stems and its worth as evidence."""

    category: str
    phrase: str
    stems: tuple[str, ...]
    rank: int = 0  # position in the guideline's list: earlier cues are the more typical
    loose: bool = False  # matched without its leading article ("the elites" as "elites")

    @property
    def value(self) -> float:
        """Return how much one occurrence counts: longer phrases are more specific."""
        value = min(3.0, 1.0 + 0.5 * (len(self.stems) - 1))
        return LOOSE_VALUE * value if self.loose else value


class CueMatcher:
    """Count every cue of a guideline in token sequences (matching by stems)."""

    def __init__(self, cues_by_category: dict[str, tuple[str, ...]]) -> None:
        self.cues: list[Cue] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for category, phrases in cues_by_category.items():
            for rank, phrase in enumerate(phrases):
                key = (category, tuple(stems(phrase)))
                if key[1] and key not in seen:
                    seen.add(key)
                    self.cues.append(Cue(category, phrase, key[1], rank))
                # "the elites" is about elites, whatever word precedes them in the talk.
                core = key[1][1:] if len(key[1]) > 1 and key[1][0] in ARTICLES else ()
                if core and (category, core) not in seen and len("".join(core)) >= 4:
                    seen.add((category, core))
                    loose_phrase = phrase.split(maxsplit=1)[-1]
                    self.cues.append(Cue(category, loose_phrase, core, rank, loose=True))
        self._by_first: dict[str, list[Cue]] = {}
        for cue in sorted(self.cues, key=lambda c: -len(c.stems)):
            self._by_first.setdefault(cue.stems[0], []).append(cue)

    def count(self, tokens: list[str]) -> Counter[Cue]:
        """Return how often each cue occurs in `tokens` (a sentence's stems).

        Within a category the longest phrase wins and matches do not overlap, so "miracle
        cure" does not also count as "cure"; the same words may count for two categories.
        """
        found: Counter[Cue] = Counter()
        free_from: dict[str, int] = {}
        for n, token in enumerate(tokens):
            for cue in self._by_first.get(token, ()):
                if n < free_from.get(cue.category, 0):
                    continue
                if tuple(tokens[n : n + len(cue.stems)]) == cue.stems:
                    found[cue] += 1
                    free_from[cue.category] = n + len(cue.stems)
        return found
