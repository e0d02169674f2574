"""Agglomerative clustering (average linkage, cosine distance) and how many speakers there are.

Average linkage merges the two closest groups until k remain. The number of speakers is the
k (2..max) whose partition has the best mean silhouette, provided that silhouette reaches
MIN_SILHOUETTE and the groups keep to turns (`turn_stability`): people speak in turns, so
neighbouring windows of a real partition mostly share a voice, while a partition by what is
said (one voice reading similar sentences) flips from window to window. Failing that, two
voices are told apart by pitch when their medians lie at least MIN_PITCH_GAP semitones apart
(`pitch_split`). In doubt, one speaker.
"""

from __future__ import annotations

import numpy as np

MIN_SILHOUETTE = 0.17
MIN_STABILITY = 0.5  # turn-taking beyond chance (kappa) of neighbouring windows
MIN_PITCH_GAP = 4.0  # semitones between two voices' median pitch
MIN_SHARE = 0.15  # the smaller voice holds at least this share of the windows


def cosine_distances(vectors: np.ndarray) -> np.ndarray:
    """Return 1 - cosine similarity between rows (centred first)."""
    centred = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = centred / np.maximum(norms, 1e-12)
    return np.clip(1.0 - unit @ unit.T, 0.0, 2.0)


def average_linkage(distances: np.ndarray, k: int) -> np.ndarray:
    """Return labels 0..k-1 of an average-linkage clustering stopped at k groups."""
    n = len(distances)
    k = max(1, min(k, n))
    merged = distances.astype(float).copy()
    np.fill_diagonal(merged, np.inf)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    owner = np.arange(n)
    for _ in range(n - k):
        masked = np.where(alive[:, None] & alive[None, :], merged, np.inf)
        a, b = np.unravel_index(np.argmin(masked), masked.shape)
        a, b = min(a, b), max(a, b)
        merged[a, :] = (sizes[a] * merged[a, :] + sizes[b] * merged[b, :]) / (sizes[a] + sizes[b])
        merged[:, a] = merged[a, :]
        merged[a, a] = np.inf
        sizes[a] += sizes[b]
        alive[b] = False
        owner[owner == b] = a
    _, labels = np.unique(owner, return_inverse=True)
    return labels


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Return the mean silhouette of a partition (0 for a single group)."""
    groups = np.unique(labels)
    if len(groups) < 2:
        return 0.0
    scores = []
    for i in range(len(labels)):
        own = labels == labels[i]
        own[i] = False
        if not own.any():
            scores.append(0.0)
            continue
        inside = distances[i, own].mean()
        outside = min(distances[i, labels == g].mean() for g in groups if g != labels[i])
        scores.append((outside - inside) / max(inside, outside, 1e-12))
    return float(np.mean(scores))


def groupings(k: int) -> list[list[int]]:
    """Return every way to put clusters 0..k-1 into 2 or more groups (as group per cluster)."""
    found: list[list[int]] = []

    def place(cluster: int, assigned: list[int], groups: int) -> None:
        if cluster == k:
            if groups >= 2:
                found.append(list(assigned))
            return
        for group in range(groups + 1):
            place(cluster + 1, [*assigned, group], max(groups, group + 1))

    place(0, [], 0)
    return found


def count_speakers(
    distances: np.ndarray, max_speakers: int, min_silhouette: float = MIN_SILHOUETTE
) -> tuple[np.ndarray, float]:
    """Return (labels, silhouette) of the best partition, or all zeros for one speaker.

    The clusters of each k may be grouped further: one voice saying alike things splits by
    content first, and a grouping of those clusters is then the partition by voice.
    """
    best_labels, best_score = np.zeros(len(distances), dtype=int), 0.0
    for k in range(2, max(2, max_speakers) + 1):
        if k > len(distances):
            break
        clusters = average_linkage(distances, k)
        for grouping in groupings(k):
            labels = np.asarray(grouping)[clusters]
            score = silhouette(distances, labels)
            if score > best_score and turn_stability(labels) >= MIN_STABILITY:
                best_labels, best_score = labels, score
    if best_score < min_silhouette:
        return np.zeros(len(distances), dtype=int), best_score
    _, labels = np.unique(best_labels, return_inverse=True)
    return labels, best_score


def turn_stability(labels: np.ndarray) -> float:
    """Return how much more often neighbouring windows share a label than chance would (kappa).

    1 when every window keeps its neighbour's voice, about 0 for labels in random order.
    """
    if len(labels) < 2:
        return 1.0
    same = float(np.mean(labels[1:] == labels[:-1]))
    _, counts = np.unique(labels, return_counts=True)
    chance = float(np.sum((counts / len(labels)) ** 2))
    return 1.0 if chance >= 1.0 else (same - chance) / (1.0 - chance)


def pitch_split(pitches: np.ndarray) -> np.ndarray | None:
    """Return two-voice labels by pitch when two clearly apart voices are there, else None.

    `pitches` holds each window's median F0 in Hz (NaN when unvoiced). The windows are split
    at the widest gap of their sorted log pitch; the split counts when the two groups' medians
    differ by MIN_PITCH_GAP semitones or more, each holds MIN_SHARE of the windows, and the
    labels keep to turns.
    """
    voiced = np.isfinite(pitches)
    if voiced.sum() < 4:
        return None
    semitones = 12 * np.log2(pitches[voiced])
    ordered = np.sort(semitones)
    cut = int(np.argmax(np.diff(ordered)))
    threshold = (ordered[cut] + ordered[cut + 1]) / 2
    low, high = ordered[: cut + 1], ordered[cut + 1 :]
    if min(len(low), len(high)) < MIN_SHARE * len(ordered):
        return None
    if np.median(high) - np.median(low) < MIN_PITCH_GAP:
        return None
    labels = np.zeros(len(pitches), dtype=int)
    labels[voiced] = (semitones > threshold).astype(int)
    # an unvoiced window keeps its neighbour's voice
    for n in np.flatnonzero(~voiced):
        labels[n] = labels[n - 1] if n else labels[min(n + 1, len(labels) - 1)]
    if turn_stability(labels) < MIN_STABILITY:
        return None
    return labels
