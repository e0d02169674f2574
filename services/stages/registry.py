"""The stage registry: maps numbers (1-7) and keys ("clipping") to the stage classes."""

from __future__ import annotations

from services.stages.analysis import AnalysisStage
from services.stages.audio import AudioStage
from services.stages.base import Stage
from services.stages.clipping import ClippingStage
from services.stages.compilation import CompilationStage
from services.stages.extraction import ExtractionStage
from services.stages.narrative import NarrativeStage
from services.stages.transcript import TranscriptStage

STAGES: dict[int, type[Stage]] = {
    cls.number: cls
    for cls in (
        ExtractionStage,
        TranscriptStage,
        AnalysisStage,
        NarrativeStage,
        AudioStage,
        ClippingStage,
        CompilationStage,
    )
}


def get_stage(number_or_key: int | str) -> type[Stage]:
    """Return a stage class by number (1-7) or key ("clipping")."""
    if isinstance(number_or_key, int):
        return STAGES[number_or_key]
    for cls in STAGES.values():
        if cls.key == number_or_key:
            return cls
    raise KeyError(number_or_key)


def describe_stages() -> list[dict]:
    """Return every stage's public description, in order."""
    return [STAGES[n].describe() for n in sorted(STAGES)]
