"""What a diarizer is: audio and transcript segments in, one speaker label per segment out."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from services.engines.base import Engine
from services.run.call import EngineCall


def speaker_names(groups: list[int]) -> list[str]:
    """Name groups "Speaker 1", "Speaker 2", ... in order of first appearance."""
    order: dict[int, str] = {}
    for group in groups:
        order.setdefault(group, f"Speaker {len(order) + 1}")
    return [order[g] for g in groups]


def labels_from_turns(segments: list[dict], turns: list[tuple[float, float, str]]) -> list[int]:
    """Return, per segment, the index of the turn label overlapping it most (-1: none)."""
    names = list(dict.fromkeys(label for _, _, label in turns))
    result = []
    for segment in segments:
        overlap = [0.0] * len(names)
        for start, end, label in turns:
            shared = min(end, segment["end"]) - max(start, segment["start"])
            if shared > 0:
                overlap[names.index(label)] += shared
        best = max(range(len(names)), key=overlap.__getitem__) if names else -1
        result.append(best if names and overlap[best] > 0 else -1)
    return result


def fill_gaps(groups: list[int]) -> list[int]:
    """Give unlabelled segments (-1) the label of the segment before (or after) them."""
    filled = list(groups)
    for n in range(len(filled)):
        if filled[n] < 0 and n > 0:
            filled[n] = filled[n - 1]
    for n in range(len(filled) - 2, -1, -1):
        if filled[n] < 0:
            filled[n] = filled[n + 1]
    return [max(0, g) for g in filled]


class Diarizer(Engine):
    """Base of speaker-labelling engines."""

    kind: ClassVar[str] = "diarization"

    def label(
        self,
        audio: Path,
        segments: list[dict],
        call: EngineCall,
    ) -> list[str]:
        """Return a speaker label ("Speaker 1", ...) for each segment, in order."""
        raise NotImplementedError
