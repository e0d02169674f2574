"""Agglomerative clustering (average linkage, cosine distance) and how many speakers there are.

Average linkage merges the two closest groups until k remain. The number of speakers is the
k (2..max) whose partition has the best mean silhouette, provided that silhouette reaches
MIN_SILHOUETTE; a single voice split in two scores well below it (measured on espeak and
real recordings), so one speaker stays one speaker.
"""

from __future__ import annotations

import numpy as np

MIN_SILHOUETTE = 0.17


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


def count_speakers(
    distances: np.ndarray, max_speakers: int, min_silhouette: float = MIN_SILHOUETTE
) -> tuple[np.ndarray, float]:
    """Return (labels, silhouette) of the best partition, or all zeros for one speaker."""
    best_labels, best_score = np.zeros(len(distances), dtype=int), 0.0
    for k in range(2, max(2, max_speakers) + 1):
        if k > len(distances):
            break
        labels = average_linkage(distances, k)
        score = silhouette(distances, labels)
        if score > best_score:
            best_labels, best_score = labels, score
    if best_score < min_silhouette:
        return np.zeros(len(distances), dtype=int), best_score
    return best_labels, best_score
