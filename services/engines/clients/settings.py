"""Endpoint settings of the hosted engines, read from the environment when an engine runs.

Every hosted engine talks to an OpenAI-compatible server. Chat (`llm` engines) reads
LLM_BASE_URL / LLM_API_KEY / LLM_MODEL; speech recognition (`openai` transcript engine) reads
ASR_* and falls back to LLM_*; speech synthesis (`openai` TTS engine) reads TTS_* and falls
back to LLM_*. config/settings.py documents every variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import env_flag, env_number, env_text  # noqa: F401 - engines import them here

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODELS = {"LLM": "gpt-4o-mini", "ASR": "whisper-1", "TTS": "tts-1"}


@dataclass(frozen=True)
class Endpoint:
    """Where a hosted engine sends its requests and which settings it came from."""

    prefix: str  # LLM | ASR | TTS: the variables it was read from
    base_url: str
    api_key: str
    model: str
    explicit_base: bool  # False: the OpenAI default, because only a key was set

    @property
    def is_openai(self) -> bool:
        """Tell whether requests go to api.openai.com."""
        return self.base_url.startswith(OPENAI_BASE_URL)

    def missing(self) -> str:
        """Return what is missing for this endpoint to be usable ("" when nothing)."""
        if not self.base_url:
            return (
                f"no endpoint is configured: set {self.prefix}_BASE_URL (e.g. "
                f"http://127.0.0.1:11434/v1 for Ollama) or {self.prefix}_API_KEY for OpenAI"
            )
        if self.is_openai and not self.api_key:
            return f"api.openai.com needs a key: set {self.prefix}_API_KEY"
        return ""

    def describe(self) -> str:
        """Return `model at base_url` for log lines and messages (never the key)."""
        return f"{self.model or 'the default model'} at {self.base_url}"


def _resolve(prefix: str, fallback: str | None) -> Endpoint:
    """Read `<prefix>_BASE_URL/_API_KEY/_MODEL`, each falling back to `<fallback>_...`."""

    def read(suffix: str) -> str:
        value = env_text(f"{prefix}_{suffix}")
        if not value and fallback:
            value = env_text(f"{fallback}_{suffix}")
        return value

    # The model never falls back: a chat model is no speech model.
    base, key, model = read("BASE_URL"), read("API_KEY"), env_text(f"{prefix}_MODEL")
    explicit = bool(base)
    if not base and key:
        base = OPENAI_BASE_URL
    if not model and (prefix != "LLM" or base.startswith(OPENAI_BASE_URL)):
        # Speech endpoints have conventional model names; a local chat server's model is
        # asked for at run time (see ChatClient.model).
        model = DEFAULT_MODELS[prefix]
    return Endpoint(prefix, base.rstrip("/"), key, model, explicit)


def llm_endpoint() -> Endpoint:
    """Return the chat endpoint of the `llm` analysis and narrative engines."""
    return _resolve("LLM", None)


def asr_endpoint() -> Endpoint:
    """Return the transcription endpoint (ASR_*, else LLM_*)."""
    return _resolve("ASR", "LLM")


def tts_endpoint() -> Endpoint:
    """Return the speech synthesis endpoint (TTS_*, else LLM_*)."""
    return _resolve("TTS", "LLM")
