"""What every stage is: a small class with declared sub-stages, inputs, outputs and `run`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from services.pipeline.context import StageContext


class StageError(Exception):
    """A stage failed for a reason the user can act on; the message says what and how."""

    error_type = "stage_error"
    recoverable = True

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{message} {hint}".strip() if hint else message)


class InputMissingError(StageError):
    """A file the stage needs is not there."""

    error_type = "input_missing"


class InvalidInputError(StageError):
    """The input exists but cannot be used (bad URL, unreadable media, no speech...)."""

    error_type = "invalid_input"


class ToolError(StageError):
    """An external tool (ffmpeg, yt-dlp, espeak-ng) failed; the message carries its last words."""

    error_type = "tool_failed"


class EngineUnavailableError(StageError):
    """The chosen engine cannot run here (package, model or key missing)."""

    error_type = "engine_unavailable"


class StageInterrupted(Exception):
    """The run was interrupted by the user; not an error of the stage."""


class Stage:
    """Base class of the seven stages; subclasses declare the class attributes and `run`."""

    number: ClassVar[int]
    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    sub_stages: ClassVar[tuple[str, ...]]
    # Relative cost of each sub-stage, used to turn sub-stage fractions into stage progress.
    weights: ClassVar[tuple[float, ...] | None] = None
    # Artifact keys (see services.pipeline.artifacts) this stage reads and writes.
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
