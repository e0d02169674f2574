"""Scoring of the heuristic engine: every candidate passage's content score plus its cue evidence.

Per category, the evidence is weight x sum over matched cues of value x (1 + ln count),
damped for passages longer than a minute and by the share of time near a cue; the best
category wins. It adds to the passage's content score (services.engines.analysis.content),
so a passage without any cue still has a score, and the best of those are chosen when no
passage carries a cue.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from services.engines.analysis.base import Sentence
from services.engines.analysis.content import ContentScorer
from services.engines.analysis.ranking import coverage_factor, cue_coverage
from services.engines.analysis.text import STOPWORDS, Cue, CueMatcher, normalise, stem, stems
from services.engines.analysis.tiling import Tile
from services.library.guidelines import Guideline


@dataclass
class Prepared:
    """Per-sentence words, cues and the transcript-wide statistics scoring needs."""

    sentences: list[Sentence]
    vectors: list[Counter[str]]  # content stems per sentence
    phrases: list[Counter[tuple[str, ...]]]  # content unigrams and bigrams (stems)
    cues: list[Counter[Cue]]
    surface: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    share: dict[str, float] = field(default_factory=dict)  # a stem's share of all content words
    content: ContentScorer = field(init=False)


@dataclass
class Scored:
    """A candidate tile and the evidence behind its score."""

    tile: Tile
    score: float
    category: str | None
    evidence: dict[str, float]
    cues: Counter[Cue]
    content: float
    parts: dict[str, float]
    keywords: Counter[str]
    novelty: float = 1.0  # below 1 when the passage repeats a better one (see ranking.py)


def is_content(word: str) -> bool:
    """Tell whether a normalised word carries meaning (no stopword, number or short word)."""
    return word not in STOPWORDS and len(word) > 2 and not word.isdigit()


def prepare(
    sentences: list[Sentence], guideline: Guideline, tick: Callable[[int], None]
) -> Prepared:
    """Tokenise every sentence once: content stems, key phrase candidates, cue matches."""
    matcher = CueMatcher({c.name: c.cues for c in guideline.categories})
    prepared = Prepared(sentences, [], [], [])
    document_frequency: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for done, sentence in enumerate(sentences, 1):
        if done % 50 == 0:
            tick(done)
        words = normalise(sentence.text).split()
        vector: Counter[str] = Counter()
        phrases: Counter[tuple[str, ...]] = Counter()
        previous: tuple[str, str] | None = None
        for word in words:
            if not is_content(word):
                previous = None
                continue
            key = stem(word)
            vector[key] += 1
            phrases[(key,)] += 1
            prepared.surface.setdefault((key,), Counter())[word] += 1
            if previous:
                pair = (previous[0], key)
                phrases[pair] += 1
                prepared.surface.setdefault(pair, Counter())[f"{previous[1]} {word}"] += 1
            previous = (key, word)
        prepared.vectors.append(vector)
        prepared.phrases.append(phrases)
        prepared.cues.append(matcher.count(stems(sentence.text)))
        document_frequency.update(vector.keys())
        totals.update(vector)
    n = max(1, len(sentences))
    prepared.idf = {t: math.log((1 + n) / (1 + df)) + 1 for t, df in document_frequency.items()}
    total = max(1, sum(totals.values()))
    prepared.share = {t: c / total for t, c in totals.items()}
    prepared.content = ContentScorer(sentences, prepared.vectors, prepared.idf, prepared.share)
    return prepared


def category_evidence(cues: Counter[Cue], guideline: Guideline) -> dict[str, float]:
    """Return each category's weighted cue evidence: weight x value x (1 + ln count)."""
    evidence = {c.name: 0.0 for c in guideline.categories}
    for cue, count in cues.items():
        evidence[cue.category] += cue.value * (1 + math.log(count))
    return {c.name: evidence[c.name] * c.weight for c in guideline.categories}


def score_tile(tile: Tile, prepared: Prepared, guideline: Guideline) -> Scored:
    """Score one candidate tile against the guideline."""
    first, stop = tile
    cues: Counter[Cue] = Counter()
    keywords: Counter[str] = Counter()
    for n in range(first, stop):
        cues.update(prepared.cues[n])
        keywords.update(prepared.vectors[n])
    evidence = category_evidence(cues, guideline)
    category = max(evidence, key=evidence.get) if any(evidence.values()) else None
    parts = prepared.content.parts(first, stop, keywords)
    score = content = prepared.content.score(parts)
    seconds = prepared.sentences[stop - 1].end - prepared.sentences[first].start
    damping = min(1.0, math.sqrt(60.0 / max(seconds, 1.0)))  # long tiles must earn their length
    if category:
        flags = [bool(prepared.cues[n]) for n in range(first, stop)]
        coverage = cue_coverage(prepared.sentences[first:stop], flags, 0, stop - first)
        score += evidence[category] * damping * coverage_factor(coverage)
    return Scored(tile, round(score, 3), category, evidence, cues, content, parts, keywords)


def select_passages(scored: list[Scored], limit: int, fill: bool) -> list[Scored]:
    """Pick the best non-overlapping candidates greedily by score.

    When some candidate carries a cue, candidates without one are left out unless `fill`;
    when none does, the best by content score are picked.
    """
    if not fill and any(s.category for s in scored):
        scored = [s for s in scored if s.category]
    chosen: list[Scored] = []
    ranked = sorted(scored, key=lambda s: (-s.score, s.tile[1] - s.tile[0], s.tile[0]))
    for candidate in ranked:
        if len(chosen) >= limit:
            break
        first, stop = candidate.tile
        if all(stop <= c.tile[0] or first >= c.tile[1] for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda s: s.tile[0])
