"""The `openai` TTS engine: any OpenAI-compatible /v1/audio/speech endpoint.

Settings: TTS_BASE_URL, TTS_API_KEY, TTS_MODEL (default tts-1), each falling back to the
LLM_* setting except the model. The voice is the run's `tts_voice` (default alloy).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from services.engines.base import engine_failure
from services.engines.clients.http import ApiError, RetryPolicy, call_api
from services.engines.clients.settings import tts_endpoint
from services.engines.tts.audio_files import save_as_wav
from services.engines.tts.base import TTSEngine
from services.run.call import EngineCall

SETTINGS = "TTS_BASE_URL, TTS_API_KEY and TTS_MODEL (or LLM_BASE_URL and LLM_API_KEY)"


class OpenAITTSEngine(TTSEngine):
    """Speak through an OpenAI-compatible speech endpoint (OpenAI, Kokoro-FastAPI, ...)."""

    name: ClassVar[str] = "openai"
    description: ClassVar[str] = (
        "Hosted voices through any OpenAI-compatible /v1/audio/speech endpoint; "
        "set TTS_BASE_URL/TTS_API_KEY (or LLM_*), voices like alloy, nova, onyx."
    )
    default_voice: ClassVar[str] = "alloy"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether a speech endpoint is configured."""
        missing = tts_endpoint().missing()
        return (not missing, missing)

    def cache_variant(self) -> str:
        """Return what besides text and voice changes the sound: the model."""
        return tts_endpoint().model

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Ask the endpoint to speak `text`; write it as WAV."""
        endpoint = tts_endpoint()
        body = {
            "model": endpoint.model,
            "input": text,
            "voice": voice or self.default_voice,
            "response_format": "wav",
        }
        try:
            response = call_api(
                endpoint,
                "/audio/speech",
                json=body,
                policy=RetryPolicy.from_env(),
                call=call,
                what="speech synthesis",
            )
        except ApiError as exc:
            raise engine_failure("tts", self.name, exc, SETTINGS) from exc
        call.usage({"engine": self.name, "model": endpoint.model, "requests": 1})
        save_as_wav(response.content, out_path, f"the speech endpoint ({endpoint.base_url})")
