"""The engine registry and GET /pipeline/engines: every engine, its availability and why not."""

from __future__ import annotations

import numpy as np
import pytest

from services.engines.diarization.cluster import cosine_distances, count_speakers
from services.engines.diarization.pyannote import PyannoteDiarizer
from services.engines.registry import get_engine
from services.run.errors import EngineUnavailableError
from services.run.options import OptionsError, RunOptions
from services.stages.speakers import plan

REQUIRED = {
    "transcript": {"captions", "pocketsphinx", "whisper", "faster-whisper", "openai"},
    "analysis": {"heuristic", "llm"},
    "narrative": {"template", "llm"},
    "tts": {"piper", "espeak", "edge-tts", "elevenlabs", "openai"},
}


def test_get_pipeline_engines_lists_every_engine_with_reasons(client) -> None:
    response = client.get("/pipeline/engines")
    assert response.status_code == 200
    body = response.get_json()
    for kind, names in REQUIRED.items():
        rows = {row["name"]: row for row in body[kind]}
        assert names <= set(rows), (kind, set(rows))
        for row in rows.values():
            assert isinstance(row["available"], bool)
            assert row["available"] or row["reason"], row  # unavailable always says why
    offline = {"captions", "pocketsphinx", "whisper", "heuristic", "template", "piper", "espeak"}
    for rows in body.values():
        for row in rows:
            if row["name"] in offline:
                assert row["available"], row
    hosted = {(k, r["name"]): r["reason"] for k, rows in body.items() for r in rows}
    assert "LLM_BASE_URL" in hosted[("analysis", "llm")]
    assert "LLM_BASE_URL" in hosted[("narrative", "llm")]
    assert "ASR_BASE_URL" in hosted[("transcript", "openai")]
    assert "WHISPER_MODEL" in hosted[("transcript", "faster-whisper")]  # no own model here
    assert "ELEVENLABS_API_KEY" in hosted[("tts", "elevenlabs")]
    assert "pyannote.audio is not installed" in hosted[("diarization", "pyannote")]
    assert body["diarization"][0] == {
        "name": "embedded",
        "available": True,
        "reason": "",
        "description": body["diarization"][0]["description"],
    }


def test_hosted_engines_become_available_with_their_settings(client, monkeypatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("ELEVENLABS_API_KEY", "k")
    body = client.get("/pipeline/engines").get_json()
    available = {(k, r["name"]) for k, rows in body.items() for r in rows if r["available"]}
    assert {
        ("analysis", "llm"),
        ("narrative", "llm"),
        ("transcript", "openai"),
        ("tts", "openai"),
        ("tts", "elevenlabs"),
    } <= available


def test_an_unavailable_engine_says_why_and_what_to_use_instead() -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        get_engine("narrative", "llm")
    assert "Or choose the template narrative engine" in str(caught.value)


def test_engine_defaults_come_from_settings_and_requests_override(monkeypatch) -> None:
    monkeypatch.setenv("ANALYSIS_ENGINE", "llm")
    monkeypatch.setenv("TTS_VOICE", "nova")
    assert RunOptions.from_dict({}).analysis_engine == "llm"
    assert RunOptions.from_dict({}).tts_voice == "nova"
    assert RunOptions.from_dict({"analysis_engine": "heuristic"}).analysis_engine == "heuristic"
    assert RunOptions.from_dict({}).diarization == "auto"
    with pytest.raises(OptionsError) as caught:
        RunOptions.from_dict({"diarization": "magic"})
    assert caught.value.field == "diarization"


def test_pyannote_needs_the_package_and_a_token() -> None:
    available, reason = PyannoteDiarizer.availability()
    assert not available and "pip install pyannote.audio" in reason


def test_diarization_runs_only_when_it_can_help() -> None:
    one = [{"start": 5.0 * n, "end": 5.0 * n + 4.5, "speaker": "Speaker 1"} for n in range(10)]
    two = [dict(s, speaker=f"Speaker {1 + n % 2}") for n, s in enumerate(one)]
    assert plan("auto", one) == ("embedded", "one speaker label and 45 s of speech")
    assert plan("auto", two)[0] is None and "named 2 speakers" in plan("auto", two)[1]
    assert plan("auto", one[:3])[0] is None and "too little speech" in plan("auto", one[:3])[1]
    assert plan("off", one)[0] is None
    assert plan("embedded", two)[0] == "embedded"


def test_clustering_finds_two_groups_and_keeps_one_group_whole() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=40)
    voice_a = base + rng.normal(scale=0.4, size=(15, 40))
    voice_b = -base + rng.normal(scale=0.4, size=(12, 40))
    labels, score = count_speakers(cosine_distances(np.vstack([voice_a, voice_b])), 4)
    assert len(set(labels[:15])) == 1 and len(set(labels[15:])) == 1 and labels[0] != labels[-1]
    assert score > 0.3
    noise = rng.normal(size=(27, 40))
    labels, score = count_speakers(cosine_distances(noise), 4)
    assert set(labels) == {0} and score < 0.17
