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
    supports_rate: ClassVar[bool] = False  # whether `rate` changes the speech
    # Set by `configure` for one run: the speaking rate (tts_rate) and DATA_DIR (own voices).
    rate: float = 1.0
    data_dir: Path | None = None

    @classmethod
    def voices(cls, data_dir: Path | None) -> list[dict]:
        """Return the voices to choose from (`[{id, default}]`): the default unless known."""
        return [{"id": cls.default_voice, "default": True}] if cls.default_voice else []

    def configure(self, data_dir: Path | None, rate: float = 1.0) -> None:
        """Set the run's DATA_DIR and speaking rate (1.0 = the voice's own pace)."""
        self.data_dir = Path(data_dir) if data_dir else None
        self.rate = float(rate)

    def cache_variant(self) -> str:
        """Return what besides text, engine and voice changes the sound: the rate."""
        return f"rate={self.rate:g}" if self.supports_rate and self.rate != 1.0 else ""

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Write `text` spoken by `voice` (the engine's default when None) to `out_path` (WAV)."""
        raise NotImplementedError

    def release(self) -> None:
        """Free what the engine loaded for speaking (a model); the next call loads it again."""
