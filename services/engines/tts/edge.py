"""The `edge-tts` engine: Microsoft Edge's online neural voices through the `edge-tts` package.

An optional extra (pip install -r requirements-extras.txt); it needs internet access but no
key. The voice is the run's `tts_voice`, e.g. en-US-AriaNeural (the default) or
en-GB-RyanNeural (`edge-tts --list-voices` lists them).
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path
from typing import ClassVar

from services.atomic import partial_path
from services.engines.base import engine_failure
from services.engines.tts.audio_files import save_as_wav
from services.engines.tts.base import TTSEngine
from services.run.call import EngineCall
from services.run.errors import InvalidInputError

VOICE_NAME = re.compile(r"^[a-z]{2,3}-[A-Z]{2,3}(?:-[A-Za-z]+)?-[A-Za-z]+Neural$")
SETTINGS = "your internet connection and the voice name (edge-tts --list-voices)"


class EdgeTTSEngine(TTSEngine):
    """Speak with Microsoft Edge's neural voices (online, no key; optional package)."""

    name: ClassVar[str] = "edge-tts"
    description: ClassVar[str] = (
        "Microsoft Edge neural voices via the edge-tts package (optional extra, online, no key)."
    )
    default_voice: ClassVar[str] = "en-US-AriaNeural"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether the edge-tts package is installed."""
        if importlib.util.find_spec("edge_tts") is None:
            return False, "the edge-tts package is not installed (pip install edge-tts)"
        return True, ""

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Fetch `text` spoken by `voice` from the Edge service; write it as WAV."""
        import edge_tts

        voice = voice or self.default_voice
        if not VOICE_NAME.match(voice):
            raise InvalidInputError(
                f"{voice!r} is not an Edge voice name.",
                hint="Use a name such as en-US-AriaNeural (see `edge-tts --list-voices`).",
            )
        mp3 = partial_path(Path(out_path).with_suffix(".mp3"))
        try:
            asyncio.run(edge_tts.Communicate(text, voice).save(str(mp3)))
            data = mp3.read_bytes()
        except Exception as exc:  # noqa: BLE001 - network and service errors of many kinds
            raise engine_failure("tts", self.name, exc, SETTINGS) from exc
        finally:
            mp3.unlink(missing_ok=True)
        save_as_wav(data, out_path, "edge-tts")
