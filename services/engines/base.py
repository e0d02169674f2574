"""Engine: a named back end of one kind that can say whether it runs here and why not."""

from __future__ import annotations

from typing import ClassVar


class Engine:
    """Base of every engine; subclasses set `name`, `kind`, `description`."""

    name: ClassVar[str]
    kind: ClassVar[str]  # transcript | analysis | narrative | tts
    description: ClassVar[str] = ""

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return (available, reason when not)."""
        return True, ""
