"""Engine: a named back end of one kind that can say whether it runs here and why not."""

from __future__ import annotations

from typing import ClassVar

from services.run.engine_catalog import FALLBACKS
from services.run.errors import EngineUnavailableError, StageError


class Engine:
    """Base of every engine; subclasses set `name`, `kind`, `description`."""

    name: ClassVar[str]
    kind: ClassVar[str]  # transcript | analysis | narrative | tts
    description: ClassVar[str] = ""

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return (available, reason when not)."""
        return True, ""


def fallback_hint(kind: str, name: str) -> str:
    """Return the sentence suggesting the offline engine of `kind` instead of `name`."""
    fallback = FALLBACKS.get(kind, "")
    if not fallback or fallback.startswith(name):
        return ""
    return f"Or choose the {fallback} {kind} engine, which runs offline."


def engine_failure(
    kind: str, name: str, problem: object, settings: str, cls: type[StageError] | None = None
) -> StageError:
    """Return the error of a failed engine: what happened, the setting to fix, the fallback."""
    error_cls = cls or EngineUnavailableError
    return error_cls(
        f"The {name} {kind} engine failed: {problem}.",
        hint=f"Check {settings}. {fallback_hint(kind, name)}".strip(),
    )
