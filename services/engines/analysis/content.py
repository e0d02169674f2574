"""The content score of a passage: how worth hearing it is, whatever the guideline's cues.

Every candidate passage gets a score from 0 to about 1 built from what the talk itself shows,
so that a talk without a single cue phrase still has a best passage:

* salience: words that are concentrated here (at least twice their rate over the talk);
* centrality: how close the passage's words are to the talk's overall vocabulary (its theme);
* question and answer: a question followed by its answer, better still by another speaker;
* emphasis: exclamations and emphatic words ("really", "the key", "remember");
* speech density: a passage that is mostly silence or music scores less;
* boilerplate: greetings, sign-offs and calls to subscribe score less.

Cue phrases of the guideline add to this score (services.engines.analysis.heuristic).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.engines.analysis.base import Sentence
from services.engines.analysis.ranking import cosine
from services.engines.analysis.text import normalise

WEIGHTS = {"salience": 0.35, "centrality": 0.30, "question": 0.20, "emphasis": 0.15}
_QUESTION = re.compile(r"\?[\"')\]]*\s*$")
EMPHATIC = frozenset(
    """really absolutely definitely truly totally completely exactly crucial critical essential
    important key remember incredible amazing huge massive biggest best worst""".split()
)
BOILERPLATE = (
    "welcome to",
    "welcome back",
    "thanks for watching",
    "thank you for watching",
    "thanks for listening",
    "thank you for listening",
    "subscribe",
    "my name is",
    "see you next time",
    "see you next week",
    "link in the description",
    "sponsored by",
    "before we get started",
    "let us get started",
)
_BOILERPLATE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in BOILERPLATE) + r")\b")


@dataclass(frozen=True)
class _Features:
    """What one sentence contributes to its passage's content score."""

    question: bool
    emphatic: bool
    boilerplate: bool
    words: int


@dataclass
class ContentScorer:
    """Score passages of one transcript by content (see the module's docstring)."""

    sentences: Sequence[Sentence]
    vectors: Sequence[Counter[str]]  # content stems per sentence
    idf: dict[str, float]
    share: dict[str, float]  # a stem's share of all content words of the talk
    talk: Counter[str] = field(default_factory=Counter)
    features: list[_Features] = field(default_factory=list)
    usual_rate: float = 0.0  # the talk's median words per second

    def __post_init__(self) -> None:
        for sentence, vector in zip(self.sentences, self.vectors, strict=True):
            self.talk.update(vector)
            words = normalise(sentence.text).split()
            self.features.append(
                _Features(
                    question=bool(_QUESTION.search(sentence.text)),
                    emphatic="!" in sentence.text or any(w in EMPHATIC for w in words),
                    boilerplate=bool(_BOILERPLATE.search(" ".join(words))),
                    words=len(words),
                )
            )
        rates = [f.words / s.duration for f, s in zip(self.features, self.sentences, strict=True)]
        self.usual_rate = statistics.median(rates) if rates else 0.0

    def salience(self, keywords: Counter[str]) -> float:
        """Return the idf-weighted share of words concentrated here (>= 2x their overall rate)."""
        size = sum(keywords.values())
        if not size:
            return 0.0
        weight = concentrated = 0.0
        for term, count in keywords.items():
            value = count * self.idf[term]
            weight += value
            if count >= 2 and count / size >= 2 * self.share[term]:
                concentrated += value
        return concentrated / weight

    def _question(self, first: int, stop: int) -> float:
        """Return 1 for a question answered at length (or by another speaker), 0.5 for one."""
        best = 0.0
        for n in range(first, stop):
            if not self.features[n].question:
                continue
            answer = [m for m in range(n + 1, stop) if not self.features[m].question]
            speaker = self.sentences[n].speaker
            other = any(
                speaker and self.sentences[m].speaker not in (None, speaker) for m in answer
            )
            best = max(best, 1.0 if len(answer) >= 2 or (answer and other) else 0.5)
        return best

    def parts(self, first: int, stop: int, keywords: Counter[str]) -> dict[str, float]:
        """Return the passage's content measures, each from 0 to 1."""
        count = max(1, stop - first)
        seconds = max(0.01, self.sentences[stop - 1].end - self.sentences[first].start)
        words = sum(f.words for f in self.features[first:stop])
        density = words / seconds / self.usual_rate if self.usual_rate else 1.0
        emphatic = sum(f.emphatic for f in self.features[first:stop]) / count
        boilerplate = sum(f.boilerplate for f in self.features[first:stop]) / count
        return {
            "salience": self.salience(keywords),
            "centrality": cosine(keywords, self.talk),
            "question": self._question(first, stop),
            "emphasis": min(1.0, 2.0 * emphatic),
            "density": min(1.0, density / 0.7),
            "boilerplate": boilerplate,
        }

    def score(self, parts: dict[str, float]) -> float:
        """Return the content score (0 to 1) of a passage's measures."""
        value = sum(weight * parts[name] for name, weight in WEIGHTS.items())
        return value * parts["density"] * (1.0 - min(0.6, 1.5 * parts["boilerplate"]))

    def sentence_weight(self, n: int, topic: Counter[str]) -> float:
        """Return how much sentence n carries its passage's topic words (0 to about 1)."""
        vector = self.vectors[n]
        hits = sum(self.idf[t] * c for t, c in vector.items() if topic.get(t, 0) >= 2)
        bonus = 0.3 * self.features[n].question + 0.2 * self.features[n].emphatic
        penalty = 0.5 if self.features[n].boilerplate else 1.0
        return (hits / max(4.0, float(sum(vector.values()))) / 3.0 + bonus) * penalty
