"""The embedded diarizer: offline speaker labels from voice features, numpy only.

Each transcript segment is cut into windows of at most WINDOW_MAX seconds; each window gets
a supervector against a mixture model of the whole recording's voice frames (see gmm.py);
windows are clustered by average linkage on cosine distance, the number of speakers chosen
by silhouette and turn-taking, else by a clear gap in the windows' pitch (cluster.py).
Long recordings cluster an even sample of windows and assign
the rest to the nearest cluster centre. A segment takes the label of most of its time.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path
from typing import ClassVar

import numpy as np

from services.engines.diarization.base import Diarizer, fill_gaps, speaker_names
from services.engines.diarization.cluster import cosine_distances, count_speakers, pitch_split
from services.engines.diarization.features import CepstrumAnalyser, median_pitch
from services.engines.diarization.gmm import fit_mixture, supervector
from services.run.call import EngineCall

WINDOW_MAX = 8.0  # seconds: most sentences stay whole (steadier voice statistics)
WINDOW_MIN = 1.0
MAX_SPEAKERS = 4
MAX_CLUSTERED = 300  # windows clustered directly; the rest join the nearest centre


def plan_windows(segments: list[dict]) -> list[tuple[int, float, float]]:
    """Return (segment index, start, end) windows of WINDOW_MIN..WINDOW_MAX seconds."""
    windows = []
    for n, segment in enumerate(segments):
        start, end = float(segment["start"]), float(segment["end"])
        length = end - start
        if length < WINDOW_MIN:
            continue
        pieces = int(np.ceil(length / WINDOW_MAX))
        step = length / pieces
        windows += [(n, start + i * step, start + (i + 1) * step) for i in range(pieces)]
    return windows


class EmbeddedDiarizer(Diarizer):
    """Cluster speech turns by voice (MFCC mixture supervectors); offline, always available."""

    name: ClassVar[str] = "embedded"
    description: ClassVar[str] = (
        "Offline speaker labels: clusters speech turns by voice features (numpy only)."
    )

    def label(
        self,
        audio: Path,
        segments: list[dict],
        call: EngineCall,
    ) -> list[str]:
        """Return "Speaker N" per segment; everyone is Speaker 1 when one voice is found."""
        began = time.monotonic()
        windows = plan_windows(segments)
        if len(windows) < 4:
            call.logger.info("Too little speech to tell voices apart (%d windows)", len(windows))
            return ["Speaker 1"] * len(segments)
        frames, pitches = self._frames(audio, windows, call)
        kept = [n for n, f in enumerate(frames) if len(f) >= 20]
        stacked = np.concatenate([frames[n] for n in kept])
        mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
        mixture = fit_mixture((stacked - mean) / scale)
        call.report(0.8)
        call.checkpoint()
        vectors = np.array([supervector(mixture, (frames[n] - mean) / scale) for n in kept])
        groups, score = self._cluster(vectors)
        if groups.max() == 0:
            by_pitch = pitch_split(np.array([pitches[n] for n in kept]))
            if by_pitch is not None:
                groups, score = by_pitch, float("nan")
                call.logger.info("Two voices told apart by pitch")
        call.report(0.95)
        votes: dict[int, dict[int, float]] = {}
        for group, n in zip(groups, kept, strict=True):
            segment, start, end = windows[n]
            votes.setdefault(segment, {}).setdefault(int(group), 0.0)
            votes[segment][int(group)] += end - start
        per_segment = [
            max(votes[n], key=votes[n].get) if n in votes else -1 for n in range(len(segments))
        ]
        names = speaker_names(fill_gaps(per_segment))
        call.logger.info(
            "Voice clustering: %d windows, %d speaker(s) (silhouette %.2f) in %.1f s",
            len(kept),
            len(set(names)),
            score,
            time.monotonic() - began,
        )
        call.report(1.0)
        return names

    def _frames(
        self,
        audio: Path,
        windows: list[tuple[int, float, float]],
        call: EngineCall,
    ) -> tuple[list[np.ndarray], list[float]]:
        """Return the cepstra and median pitch (NaN: unvoiced) of every window of the WAV."""
        result, pitches = [], []
        with wave.open(str(audio), "rb") as source:
            rate = source.getframerate()
            analyser = CepstrumAnalyser(rate)
            total = source.getnframes()
            for number, (_, start, end) in enumerate(windows, 1):
                first = min(total, int(start * rate))
                source.setpos(first)
                samples = np.frombuffer(
                    source.readframes(max(0, int(end * rate) - first)), dtype="<i2"
                )
                result.append(analyser.frames(samples))
                pitch = median_pitch(samples, rate)
                pitches.append(float("nan") if pitch is None else pitch)
                if number % 50 == 0:
                    call.checkpoint()
                    call.report(0.6 * number / len(windows))
        return result, pitches

    def _cluster(self, vectors: np.ndarray) -> tuple[np.ndarray, float]:
        """Cluster (a sample of) the vectors; give every vector its nearest cluster."""
        step = max(1, int(np.ceil(len(vectors) / MAX_CLUSTERED)))
        sample = vectors[::step]
        labels, score = count_speakers(cosine_distances(sample), MAX_SPEAKERS)
        if step == 1 or labels.max() == 0:
            return (labels if step == 1 else np.zeros(len(vectors), dtype=int)), score
        centred = vectors - sample.mean(axis=0)
        unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
        centres = np.array(
            [unit[::step][labels == g].mean(axis=0) for g in range(labels.max() + 1)]
        )
        return np.argmax(unit @ centres.T, axis=1), score
