"""Fixtures of the engine tests: a fake OpenAI-compatible server and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAI

HOSTED_SETTINGS = (
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "LLM_MODEL",
    "LLM_JSON_MODE",
    "LLM_CHUNK_CHARS",
    "LLM_MAX_TRIES",
    "LLM_TIMEOUT",
    "ASR_BASE_URL",
    "ASR_API_KEY",
    "ASR_MODEL",
    "ASR_CHUNK_SECONDS",
    "TTS_BASE_URL",
    "TTS_API_KEY",
    "TTS_MODEL",
    "ELEVENLABS_API_KEY",
    "ELEVENLABS_BASE_URL",
    "WHISPER_MODEL",
    "WHISPER_ALLOW_DOWNLOAD",
    "HF_TOKEN",
    "ALIGN_MAX_SECONDS",
    "DIARIZATION",
    "ANALYSIS_ENGINE",
    "TRANSCRIPT_ENGINE",
    "NARRATIVE_ENGINE",
    "TTS_ENGINE",
    "TTS_VOICE",
    "WORD_ALIGNMENT",
)


@pytest.fixture(autouse=True)
def clean_hosted_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every engine test without hosted-engine settings from the developer's shell."""
    for name in HOSTED_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLM_BACKOFF", "0.01")


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """Run a fake OpenAI-compatible server for one test."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def llm_env(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """Point the LLM_* settings at the fake server; return the server."""
    monkeypatch.setenv("LLM_BASE_URL", fake_openai.url)
    monkeypatch.setenv("LLM_API_KEY", "test-key")
    monkeypatch.setenv("LLM_MODEL", "fake-model")
    return fake_openai
