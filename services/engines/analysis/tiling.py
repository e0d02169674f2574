"""TextTiling-like topic segmentation of timed sentences (Hearst 1997, by lexical cohesion).

The similarity of the term vectors of the k sentences before and after each gap is computed
with sliding windows (cost linear in the number of words); boundaries are the gaps whose
similarity dips deepest; tiles are then merged or split to fit a duration range, always
cutting at sentence boundaries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from services.engines.analysis.base import Sentence

Tick = Callable[[int], None]  # called with the number of sentences processed so far
Tile = tuple[int, int]  # sentence index range [first, last + 1)


class _Window:
    """A bag of words that slides over sentences, keeping its dot product with a partner."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.norm2 = 0.0

    def change(self, vector: Counter[str], sign: int, partner: _Window) -> float:
        """Add (sign 1) or remove (sign -1) a sentence; return the change of the dot product."""
        delta_dot = 0.0
        for term, count in vector.items():
            old = self.counts[term]
            new = old + sign * count
            self.norm2 += new * new - old * old
            delta_dot += (new - old) * partner.counts.get(term, 0)
            if new:
                self.counts[term] = new
            else:
                del self.counts[term]
        return delta_dot


def gap_similarities(
    vectors: Sequence[Counter[str]], k: int, tick: Tick | None = None
) -> np.ndarray:
    """Return the cosine similarity at each gap 1..n-1 (index g: before sentence g)."""
    n = len(vectors)
    similarity = np.zeros(max(n, 1))
    if n < 2:
        return similarity
    left, right = _Window(), _Window()
    dot = left.change(vectors[0], 1, right)
    for i in range(1, min(n, 1 + k)):
        dot += right.change(vectors[i], 1, left)
    for g in range(1, n):
        norms = left.norm2 * right.norm2
        similarity[g] = dot / math.sqrt(norms) if norms > 0 else 0.0
        if g + 1 < n:  # slide: sentence g moves from the right window to the left one
            dot += right.change(vectors[g], -1, left)
            dot += left.change(vectors[g], 1, right)
            if g - k >= 0:
                dot += left.change(vectors[g - k], -1, right)
            if g + k < n:
                dot += right.change(vectors[g + k], 1, left)
        if tick and (g % 25 == 0 or g == n - 1):
            tick(g + 1)
    return similarity


def depth_scores(similarity: np.ndarray) -> np.ndarray:
    """Return each gap's depth: how far its (smoothed) similarity dips below the peaks around."""
    n = len(similarity)
    depth = np.zeros(n + 1)
    if n < 2:
        return depth
    gaps = similarity[1:]
    smooth = np.convolve(np.pad(gaps, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    for i, value in enumerate(smooth):
        left = i
        while left > 0 and smooth[left - 1] >= smooth[left]:
            left -= 1
        right = i
        while right < len(smooth) - 1 and smooth[right + 1] >= smooth[right]:
            right += 1
        depth[i + 1] = (smooth[left] - value) + (smooth[right] - value)
    return depth


def boundaries(depth: np.ndarray) -> list[int]:
    """Return the gaps that are local depth maxima above mean - sd/2 (Hearst's cutoff)."""
    inner = depth[1:-1]
    if len(inner) == 0 or not inner.any():
        return []
    cutoff = max(inner.mean() - inner.std() / 2, 1e-9)
    found = []
    for g in range(1, len(depth) - 1):
        before = depth[g - 1] if g > 1 else -1.0
        after = depth[g + 1] if g + 1 < len(depth) - 1 else -1.0
        if depth[g] >= cutoff and depth[g] >= before and depth[g] > after:
            found.append(g)
    return found


def refine(cuts: list[int], similarity: np.ndarray, reach: int = 2) -> list[int]:
    """Move each cut to the least similar raw gap within `reach` (smoothing blurs the dip)."""
    last = len(similarity) - 1
    moved = set()
    for cut in cuts:
        near = range(max(1, cut - reach), min(last, cut + reach) + 1)
        moved.add(min(near, key=lambda g: (round(float(similarity[g]), 6), abs(g - cut))))
    return sorted(moved)


def _cosine(vector: Counter[str], others: Sequence[Counter[str]]) -> float:
    """Return the cosine similarity of one term vector and the sum of several."""
    total: Counter[str] = Counter()
    for other in others:
        total.update(other)
    dot = sum(count * total.get(term, 0) for term, count in vector.items())
    norms = math.sqrt(sum(c * c for c in vector.values()) * sum(c * c for c in total.values()))
    return dot / norms if norms else 0.0


def settle(
    cuts: list[int], vectors: Sequence[Counter[str]], window: int, reach: int = 2
) -> list[int]:
    """Move each cut so the sentences beside it join the side whose words they share more.

    A sentence that links to neither neighbour window ("Let's move on to the kitchen") ties
    the gap similarities; a wider look decides where it belongs.
    """
    settled = set()
    for cut in cuts:
        for _ in range(reach):  # the last sentence before the cut may belong after it
            a = cut - 1
            if a < 1 or _cosine(vectors[a], vectors[cut : cut + window]) <= _cosine(
                vectors[a], vectors[max(0, a - window) : a]
            ):
                break
            cut = a
        for _ in range(reach):  # the first sentence after the cut may belong before it
            b = cut
            if b + 1 >= len(vectors) or _cosine(vectors[b], vectors[max(0, b - window) : b]) <= (
                _cosine(vectors[b], vectors[b + 1 : b + 1 + window])
            ):
                break
            cut = b + 1
        settled.add(cut)
    return sorted(settled)


def _seconds(sentences: Sequence[Sentence], tile: Tile) -> float:
    """Return the duration of a tile."""
    return sentences[tile[1] - 1].end - sentences[tile[0]].start


def _merge_short(
    sentences: Sequence[Sentence],
    tiles: list[Tile],
    depth: np.ndarray,
    min_seconds: float,
    max_seconds: float,
) -> list[Tile]:
    """Merge tiles shorter than min_seconds into the neighbour across the weaker boundary."""
    while len(tiles) > 1:
        short = [n for n, t in enumerate(tiles) if _seconds(sentences, t) < min_seconds]
        if not short:
            break
        n = min(short, key=lambda m: _seconds(sentences, tiles[m]))
        options = []
        for m in (n - 1, n + 1):
            if 0 <= m < len(tiles):
                merged = (min(tiles[n][0], tiles[m][0]), max(tiles[n][1], tiles[m][1]))
                too_long = _seconds(sentences, merged) > max_seconds
                options.append((too_long, depth[max(tiles[n][0], tiles[m][0])], m, merged))
        _, _, m, merged = min(options)
        tiles[min(n, m)] = merged
        del tiles[max(n, m)]
    return tiles


def _split_long(
    sentences: Sequence[Sentence],
    tile: Tile,
    depth: np.ndarray,
    min_seconds: float,
    max_seconds: float,
) -> list[Tile]:
    """Split a tile longer than max_seconds at its deepest gaps, keeping parts >= min_seconds."""
    first, stop = tile
    if stop - first < 2 or _seconds(sentences, tile) <= max_seconds:
        return [tile]
    gaps = range(first + 1, stop)
    fitting = [
        g
        for g in gaps
        if _seconds(sentences, (first, g)) >= min_seconds
        and _seconds(sentences, (g, stop)) >= min_seconds
    ]
    if fitting:
        cut = max(fitting, key=lambda g: (depth[g], -abs(g - (first + stop) / 2)))
    else:
        middle = (sentences[first].start + sentences[stop - 1].end) / 2
        cut = min(gaps, key=lambda g: abs(sentences[g].start - middle))
    return _split_long(sentences, (first, cut), depth, min_seconds, max_seconds) + _split_long(
        sentences, (cut, stop), depth, min_seconds, max_seconds
    )


def tiles_for(
    sentences: Sequence[Sentence],
    depth: np.ndarray,
    cuts: list[int],
    min_seconds: float,
    max_seconds: float,
) -> list[Tile]:
    """Cut sentences at `cuts`, then merge and split tiles to fit [min_seconds, max_seconds]."""
    edges = [0, *cuts, len(sentences)]
    tiles = [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
    tiles = _merge_short(sentences, tiles, depth, min_seconds, max_seconds)
    fitted: list[Tile] = []
    for tile in tiles:
        fitted += _split_long(sentences, tile, depth, min_seconds, max_seconds)
    return fitted


def block_sizes(sentences: Sequence[Sentence], target_seconds: float = 15.0) -> tuple[int, ...]:
    """Return window sizes (in sentences) covering about 15 s and 30 s of talk."""
    durations = [s.duration for s in sentences if s.duration > 0]
    typical = float(np.median(durations)) if durations else 5.0
    small = max(2, min(10, round(target_seconds / max(typical, 0.5))))
    return tuple(sorted({small, min(2 * small, 20)}))
