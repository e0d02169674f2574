"""What every stage is: a small class with declared sub-stages, inputs, outputs and `run`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from services.stages.context import StageContext


class Stage:
    """Base class of the seven stages; subclasses declare the class attributes and `run`."""

    number: ClassVar[int]
    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    sub_stages: ClassVar[tuple[str, ...]]
    # Relative cost of each sub-stage, used to turn sub-stage fractions into stage progress.
    weights: ClassVar[tuple[float, ...] | None] = None
    # Artifact keys (see services.episodes.artifacts) this stage reads and writes.
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: StageContext) -> dict | None:
        """Do the stage's work; return a small dict of output paths (episode-relative)."""
        raise NotImplementedError

    @classmethod
    def sub_stage_weights(cls) -> tuple[float, ...]:
        """Return one positive weight per sub-stage."""
        weights = cls.weights or tuple(1.0 for _ in cls.sub_stages)
        if len(weights) != len(cls.sub_stages):
            raise ValueError(f"{cls.__name__}: weights and sub_stages differ in length")
        return weights

    @classmethod
    def describe(cls) -> dict:
        """Return the stage's public description (the UI reads names from here only)."""
        return {
            "number": cls.number,
            "key": cls.key,
            "name": cls.name,
            "description": cls.description,
            "sub_stages": list(cls.sub_stages),
            "inputs": list(cls.inputs),
            "outputs": list(cls.outputs),
        }
