"""A diagonal Gaussian mixture of the recording's voice frames, and per-turn supervectors.

The mixture (a "universal background model" of this one recording) splits the cepstral
space into phonetic regions; a speech turn is then described by how it moves each region's
mean (MAP adaptation). Comparing turns region by region cancels most of what was said and
keeps how it was said: a voice whose formants sit a few percent lower shows up in every
region, while a different sentence does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPONENTS = 32
ITERATIONS = 12
RELEVANCE = 8.0  # MAP relevance factor: frames needed before a turn moves a mean
MAX_TRAINING_FRAMES = 40000


@dataclass
class Mixture:
    """Weights, means and variances of a diagonal Gaussian mixture."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def posteriors(self, frames: np.ndarray) -> np.ndarray:
        """Return each frame's component responsibilities (frames x components)."""
        precision = 1.0 / self.variances
        log_like = (
            -0.5 * (frames**2) @ precision.T
            + frames @ (self.means * precision).T
            - 0.5 * np.sum(self.means**2 * precision, axis=1)
            - 0.5 * np.sum(np.log(self.variances), axis=1)
            + np.log(self.weights)
        )
        log_like -= log_like.max(axis=1, keepdims=True)
        resp = np.exp(log_like)
        return resp / resp.sum(axis=1, keepdims=True)


def fit_mixture(frames: np.ndarray, components: int = COMPONENTS, seed: int = 0) -> Mixture:
    """Fit a diagonal mixture to (standardised) frames with a few EM iterations."""
    rng = np.random.default_rng(seed)
    if len(frames) > MAX_TRAINING_FRAMES:
        frames = frames[rng.choice(len(frames), MAX_TRAINING_FRAMES, replace=False)]
    components = max(1, min(components, len(frames) // 20))
    mixture = Mixture(
        weights=np.full(components, 1.0 / components),
        means=frames[rng.choice(len(frames), components, replace=False)].copy(),
        variances=np.ones((components, frames.shape[1])),
    )
    for _ in range(ITERATIONS):
        resp = mixture.posteriors(frames)
        counts = resp.sum(axis=0) + 1e-6
        mixture.means = (resp.T @ frames) / counts[:, None]
        second = (resp.T @ frames**2) / counts[:, None]
        mixture.variances = np.maximum(second - mixture.means**2, 1e-3)
        mixture.weights = counts / counts.sum()
    return mixture


def supervector(mixture: Mixture, frames: np.ndarray, relevance: float = RELEVANCE) -> np.ndarray:
    """Return the turn's MAP mean shifts, scaled by weight and deviation, as one vector."""
    resp = mixture.posteriors(frames)
    counts = resp.sum(axis=0)
    adapted = (resp.T @ frames + relevance * mixture.means) / (counts[:, None] + relevance)
    scale = np.sqrt(mixture.weights)[:, None] / np.sqrt(mixture.variances)
    return ((adapted - mixture.means) * scale).ravel()
