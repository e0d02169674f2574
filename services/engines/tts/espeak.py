"""The espeak-ng text-to-speech engine (offline, always installable, robotic but clear)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import ClassVar

from services.engines.tts.base import TTSEngine
from services.media.ffmpeg import run_tool
from services.run.call import EngineCall
from services.run.errors import InvalidInputError

# espeak-ng voice names: "en-us", "en-gb-x-rp", "de", "mb-en1", "en-us+f3" ...
VOICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-]{0,39}$")
WORDS_PER_MINUTE = 165


class EspeakEngine(TTSEngine):
    """Speak with the espeak-ng command-line synthesiser."""

    name: ClassVar[str] = "espeak"
    description: ClassVar[str] = "espeak-ng: offline, fast, robotic voice"
    default_voice: ClassVar[str] = "en-us"
    supports_rate: ClassVar[bool] = True

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether espeak-ng is on PATH."""
        if shutil.which("espeak-ng"):
            return True, ""
        return False, "espeak-ng is not installed (apt-get install espeak-ng)"

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Speak `text` into `out_path`; the text goes through stdin, never the command line."""
        voice = voice or self.default_voice
        if not VOICE_NAME.match(voice):
            raise InvalidInputError(
                f"{voice!r} is not an espeak-ng voice name.",
                hint="Use a name such as en-us or en-gb (see `espeak-ng --voices`).",
            )
        run_tool(
            [
                "espeak-ng",
                "-v",
                voice,
                "-s",
                str(round(WORDS_PER_MINUTE * self.rate)),
                "-w",
                str(out_path),
                "--stdin",
            ],
            what="espeak-ng",
            input_text=text,
        )
        if not Path(out_path).exists() or Path(out_path).stat().st_size <= 44:
            raise InvalidInputError(
                f"espeak-ng produced no speech with voice {voice!r}.",
                hint="Check the voice name (`espeak-ng --voices`) and the section text.",
            )
