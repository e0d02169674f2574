"""TTSEngine: the interface of text-to-speech back ends used by stage 5."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from services.engines.base import Engine
from services.run.call import EngineCall


class TTSEngine(Engine):
    """A text-to-speech back end: speaks text into a WAV file."""

    kind: ClassVar[str] = "tts"
    default_voice: ClassVar[str] = ""

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Write `text` spoken by `voice` (the engine's default when None) to `out_path` (WAV)."""
        raise NotImplementedError
