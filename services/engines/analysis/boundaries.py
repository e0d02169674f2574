"""Boundary evidence besides word overlap: long pauses and speaker changes between sentences.

Topic tiling by lexical cohesion needs words that repeat; short passages on everyday
subjects often share few, and their boundaries blur. Speakers mark a new topic in other
ways too: a longer pause than usual, or a change of speaker. `boundary_bonus` scores each
gap by those, in the units of the lexical depth scores, and `prosodic_tiles` cuts tiles
where both kinds of evidence agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.engines.analysis.base import Sentence
from services.engines.analysis.tiling import Tile, boundaries, depth_scores, tiles_for

PAUSE_CAP = 2.0  # a pause counts at most this many "typical pauses" beyond the usual
SPEAKER_WEIGHT = 1.0  # a change of speaker counts like a pause twice the usual length
CUTOFFS = (-1.0, 0.5, 1.0)  # boundary strength cutoffs, in standard deviations above the mean
MARKED = 1.0  # evidence of a marked boundary: a pause twice the usual, or a new speaker


def pause_scores(sentences: Sequence[Sentence]) -> np.ndarray:
    """Return, for each gap g (before sentence g), how much longer than usual its pause is."""
    n = len(sentences)
    scores = np.zeros(n + 1)
    if n < 3:
        return scores
    pauses = np.array([max(0.0, sentences[g].start - sentences[g - 1].end) for g in range(1, n)])
    usual = float(np.median(pauses))
    # Relative to the usual pause (at least 0.25 s, so jittery caption timing scores little).
    scores[1:n] = np.clip((pauses - usual) / max(usual, 0.25), 0.0, PAUSE_CAP)
    return scores


def speaker_changes(sentences: Sequence[Sentence]) -> np.ndarray:
    """Return 1.0 at each gap where the (known) speaker changes, else 0."""
    changes = np.zeros(len(sentences) + 1)
    for g in range(1, len(sentences)):
        before, after = sentences[g - 1].speaker, sentences[g].speaker
        if before and after and before != after:
            changes[g] = 1.0
    return changes


def boundary_evidence(sentences: Sequence[Sentence]) -> np.ndarray:
    """Return each gap's pause and speaker evidence (1.0: a pause twice the usual one)."""
    return pause_scores(sentences) + SPEAKER_WEIGHT * speaker_changes(sentences)


def boundary_bonus(sentences: Sequence[Sentence], depth: np.ndarray) -> np.ndarray:
    """Return each gap's pause and speaker evidence, scaled to `depth`'s typical size."""
    inner = depth[1:-1]
    unit = float(inner.mean() + inner.std()) if len(inner) else 0.0
    return (unit or 0.05) * boundary_evidence(sentences)


def prosodic_tiles(
    sentences: Sequence[Sentence],
    similarity: np.ndarray,
    min_seconds: float,
    max_seconds: float,
) -> list[Tile]:
    """Return tiles cut where lexical depth plus pause and speaker evidence peak."""
    depth = depth_scores(similarity)
    bonus = boundary_bonus(sentences, depth)
    if not bonus.any():
        return []
    combined = depth + bonus
    cuts = boundaries(combined)
    inner = combined[1:-1]
    tiles: set[Tile] = set()
    # Several strictness levels: a weak lexical dip next to a clear pause can otherwise cut
    # a short piece off a passage, which is then merged into the wrong neighbour.
    for strictness in CUTOFFS:
        cutoff = float(inner.mean() + strictness * inner.std())
        strong = [g for g in cuts if combined[g] >= cutoff]
        tiles.update(tiles_for(sentences, combined, strong, min_seconds, max_seconds))
    # And the pauses and turns alone, where they are marked (twice the usual pause or more).
    evidence = boundary_evidence(sentences)
    marked = [g for g in range(1, len(sentences)) if evidence[g] >= MARKED]
    if marked:
        tiles.update(tiles_for(sentences, combined, marked, min_seconds, max_seconds))
    return sorted(tiles)
