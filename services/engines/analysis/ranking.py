"""Ranking refinements of the heuristic engine: how much of a passage carries its claim, and
whether a passage repeats one ranked above it.

* Coverage: a passage padded with unrelated talk should rank below the same claims told
  tightly. Coverage is the share of a passage's time spent in sentences that hold a cue of
  the guideline or sit right next to one (the claims and their immediate context).
* Repeats: a talk may come back to a subject with much the same words; a compilation
  wants the first telling and something new after it, so a passage whose words mostly
  repeat a better-ranked one has its score discounted by that overlap, and one that says
  nearly the same (`NEAR_DUPLICATE`) names the passage it repeats, which a reel leaves out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from services.engines.analysis.base import Sentence

COVERAGE_FLOOR = 0.5  # the evidence of a passage with no cue-bearing time keeps this share
REPEAT_THRESHOLD = 0.35  # cosine similarity of content words above which a passage repeats
REPEAT_DISCOUNT = 0.5  # the score kept by a passage repeating another entirely
NEAR_DUPLICATE = 0.6  # cosine similarity above which a passage is a near-duplicate


def cue_coverage(
    sentences: Sequence[Sentence], flags: Sequence[bool], first: int, stop: int
) -> float:
    """Return the share of [first, stop)'s time in cue sentences and their neighbours."""
    total = sum(s.duration for s in sentences[first:stop])
    if total <= 0:
        return 0.0
    near = 0.0
    for n in range(first, stop):
        if any(flags[m] for m in range(max(first, n - 1), min(stop, n + 2))):
            near += sentences[n].duration
    return near / total


def coverage_factor(coverage: float) -> float:
    """Return the share of a passage's evidence it keeps for its coverage."""
    return COVERAGE_FLOOR + (1.0 - COVERAGE_FLOOR) * coverage


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Return the cosine similarity of two word-count vectors."""
    dot = sum(count * b.get(term, 0) for term, count in a.items())
    norms = math.sqrt(sum(c * c for c in a.values()) * sum(c * c for c in b.values()))
    return dot / norms if norms else 0.0


def repeat_discounts(keywords: Sequence[Counter[str]], scores: Sequence[float]) -> list[float]:
    """Return a score factor per passage: below 1 when it repeats a better-ranked passage."""
    order = sorted(range(len(scores)), key=lambda n: -scores[n])
    factors = [1.0] * len(scores)
    ranked: list[int] = []
    for n in order:
        overlap = max((cosine(keywords[n], keywords[m]) for m in ranked), default=0.0)
        if overlap > REPEAT_THRESHOLD:
            share = (overlap - REPEAT_THRESHOLD) / (1.0 - REPEAT_THRESHOLD)
            factors[n] = 1.0 - (1.0 - REPEAT_DISCOUNT) * min(1.0, share * 2)
        ranked.append(n)
    return factors


def near_duplicates(keywords: Sequence[Counter[str]], scores: Sequence[float]) -> list[int | None]:
    """Return, per passage, the better-ranked passage it nearly duplicates (else None)."""
    order = sorted(range(len(scores)), key=lambda n: -scores[n])
    found: list[int | None] = [None] * len(scores)
    for rank, n in enumerate(order):
        best = max(order[:rank], key=lambda m: cosine(keywords[n], keywords[m]), default=None)
        if best is not None and cosine(keywords[n], keywords[best]) > NEAR_DUPLICATE:
            found[n] = best
    return found
