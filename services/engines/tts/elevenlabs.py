"""The `elevenlabs` TTS engine: ElevenLabs' REST API with `requests`.

Settings: ELEVENLABS_API_KEY (required), ELEVENLABS_MODEL (default eleven_multilingual_v2),
ELEVENLABS_BASE_URL (default https://api.elevenlabs.io, for tests and proxies). The voice is
the run's `tts_voice`: an ElevenLabs voice id (default Rachel, 21m00Tcm4TlvDq8ikWAM).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from services.engines.base import engine_failure
from services.engines.clients.http import ApiError, RetryPolicy, call_api
from services.engines.clients.settings import Endpoint, env_text
from services.engines.tts.audio_files import save_as_wav
from services.engines.tts.base import TTSEngine
from services.run.call import EngineCall
from services.run.errors import InvalidInputError

DEFAULT_BASE = "https://api.elevenlabs.io"
DEFAULT_MODEL = "eleven_multilingual_v2"
VOICE_ID = re.compile(r"^[A-Za-z0-9]{8,40}$")
SETTINGS = "ELEVENLABS_API_KEY (and ELEVENLABS_BASE_URL, ELEVENLABS_MODEL)"


def elevenlabs_endpoint() -> Endpoint:
    """Return the ElevenLabs endpoint of the environment's settings."""
    base = env_text("ELEVENLABS_BASE_URL", DEFAULT_BASE).rstrip("/")
    return Endpoint(
        "ELEVENLABS",
        base,
        env_text("ELEVENLABS_API_KEY"),
        env_text("ELEVENLABS_MODEL", DEFAULT_MODEL),
        True,
    )


class ElevenLabsEngine(TTSEngine):
    """Speak with ElevenLabs voices (hosted; needs an API key)."""

    name: ClassVar[str] = "elevenlabs"
    description: ClassVar[str] = (
        "ElevenLabs hosted voices: natural, many languages; set ELEVENLABS_API_KEY and pick "
        "a voice id."
    )
    default_voice: ClassVar[str] = "21m00Tcm4TlvDq8ikWAM"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether an ElevenLabs key is set."""
        if not env_text("ELEVENLABS_API_KEY"):
            return False, "ELEVENLABS_API_KEY is not set"
        return True, ""

    def cache_variant(self) -> str:
        """Return what besides text and voice changes the sound: the model."""
        return elevenlabs_endpoint().model

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Ask ElevenLabs to speak `text` with voice id `voice`; write it as WAV."""
        voice = voice or self.default_voice
        if not VOICE_ID.match(voice):
            raise InvalidInputError(
                f"{voice!r} is not an ElevenLabs voice id.",
                hint="Use the id shown in the ElevenLabs voice library (letters and digits).",
            )
        endpoint = elevenlabs_endpoint()
        try:
            response = call_api(
                endpoint,
                f"/v1/text-to-speech/{voice}",
                json={"text": text, "model_id": endpoint.model},
                headers={"xi-api-key": endpoint.api_key, "Accept": "audio/mpeg"},
                policy=RetryPolicy.from_env(),
                call=call,
                what="ElevenLabs speech",
            )
        except ApiError as exc:
            raise engine_failure("tts", self.name, exc, SETTINGS) from exc
        call.usage({"engine": self.name, "model": endpoint.model, "requests": 1})
        save_as_wav(response.content, out_path, "ElevenLabs")
