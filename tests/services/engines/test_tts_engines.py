"""Stage 5 with hosted voices (fake servers) and the speech cache."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from services.atomic import read_json, write_json_atomic
from services.engines.registry import list_engines
from services.engines.tts.cache import cache_dir
from services.episodes.files import EpisodeFiles
from services.run.errors import EngineUnavailableError, StageError
from services.stages.audio import AudioStage
from tests.services.stages.av_fixtures import EPISODE, scripted_episode
from tests.support.fake_openai import Reply
from tests.support.media import ffprobe_json, make_speech_wav


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> dict[str, bytes]:
    """A short spoken phrase as WAV and as MP3 bytes (what speech services send)."""
    folder = tmp_path_factory.mktemp("spoken")
    wav = make_speech_wav(folder / "hello.wav", "Hello and welcome.")
    mp3 = folder / "hello.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", str(mp3)],
        check=True,
    )
    return {"wav": wav.read_bytes(), "mp3": mp3.read_bytes()}


@pytest.fixture
def files(tmp_path) -> EpisodeFiles:
    """An episode with a two-clip script."""
    return scripted_episode(tmp_path)


def narration(files: EpisodeFiles) -> list[dict]:
    """Return the script's narration sections."""
    return [
        s for s in read_json(files.script)["podcast_sections"] if s["section_type"] != "video_clip"
    ]


def run_audio(data_dir: Path, caplog, **options):  # noqa: ANN201
    """Run stage 5 with logs captured; return the run."""
    from tests.support.stage_runner import run_stage

    with caplog.at_level("INFO", logger="clipcast"):
        return run_stage(AudioStage, data_dir, EPISODE, audio_method="tts", **options)


def test_openai_voices_are_cached_and_a_rerun_speaks_only_what_changed(
    fake_openai, files, tmp_path, spoken, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("TTS_BASE_URL", fake_openai.url)
    monkeypatch.setenv("TTS_API_KEY", "tts-key")
    fake_openai.default("/v1/audio/speech", lambda _request: Reply(body=spoken["wav"]))
    sections = narration(files)

    run = run_audio(tmp_path, caplog, tts_engine="openai", tts_voice="nova")

    requests = fake_openai.calls("/v1/audio/speech")
    assert len(requests) == len(sections)
    assert sorted(r.json["input"] for r in requests) == sorted(
        s["script_content"] for s in sections
    )
    assert {r.json["voice"] for r in requests} == {"nova"}
    assert {r.json["model"] for r in requests} == {"tts-1"}
    assert requests[0].headers["Authorization"] == "Bearer tts-key"
    for section in sections:
        stream = ffprobe_json(files.section_audio(section["section_id"]))["streams"][0]
        assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == (
            "pcm_s16le",
            "48000",
            1,
        )
    cached = sorted(cache_dir(tmp_path).glob("*.wav"))
    assert len(cached) == len(sections)
    assert all(re.fullmatch(r"[0-9a-f]{64}\.wav", p.name) for p in cached)
    assert run.result["narration_seconds"] > 0

    # Edit one section: only it is spoken again; the other WAVs are kept as they are.
    script = read_json(files.script)
    edited = next(s for s in script["podcast_sections"] if s["section_id"] == "post_clip_01")
    edited["script_content"] = "A different remark after the first clip."
    write_json_atomic(files.script, script)
    caplog.clear()
    run_audio(tmp_path, caplog, tts_engine="openai", tts_voice="nova")
    again = fake_openai.calls("/v1/audio/speech")[len(sections) :]
    assert [r.json["input"] for r in again] == ["A different remark after the first clip."]
    assert f"Narration unchanged for {len(sections) - 1} sections" in caplog.text

    # With the narration files gone, every section comes back from the speech cache.
    for section in sections:
        files.section_audio(section["section_id"]).unlink()
    caplog.clear()
    run_audio(tmp_path, caplog, tts_engine="openai", tts_voice="nova")
    assert len(fake_openai.calls("/v1/audio/speech")) == len(sections) + 1
    assert caplog.text.count("speech reused from the cache") == len(sections)
    assert f"{len(sections)} section(s) reused, 0 synthesised" in caplog.text

    # Another voice is another sound: nothing is reused.
    run_audio(tmp_path, caplog, tts_engine="openai", tts_voice="onyx")
    assert len(fake_openai.calls("/v1/audio/speech")) == 2 * len(sections) + 1


def test_elevenlabs_sends_its_own_key_header_and_mp3_is_decoded(
    fake_openai, files, tmp_path, spoken, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "eleven-key")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake_openai.url.removesuffix("/v1"))
    voice = "AbCdEfGh12345678"
    path = f"/v1/text-to-speech/{voice}"
    fake_openai.default(path, lambda _request: Reply(body=spoken["mp3"], content_type="audio/mpeg"))
    run_audio(tmp_path, caplog, tts_engine="elevenlabs", tts_voice=voice)
    requests = fake_openai.calls(path)
    assert len(requests) == len(narration(files))
    assert requests[0].headers["xi-api-key"] == "eleven-key"
    assert "Authorization" not in requests[0].headers
    assert requests[0].json["model_id"] == "eleven_multilingual_v2"
    for section in narration(files):
        assert (
            float(ffprobe_json(files.section_audio(section["section_id"]))["format"]["duration"])
            > 1
        )


def test_a_failing_speech_server_names_engine_setting_and_fallback(
    fake_openai, files, tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("TTS_BASE_URL", fake_openai.url)
    fake_openai.default("/v1/audio/speech", lambda _r: Reply(status=503, body="overloaded"))
    with pytest.raises(StageError) as caught:
        run_audio(tmp_path, caplog, tts_engine="openai")
    message = str(caught.value)
    assert "The openai tts engine failed" in message and "503" in message
    assert "TTS_BASE_URL" in message and "choose the espeak tts engine" in message
    assert not list(files.audio_dir.glob("*.wav"))
    assert files.script.exists()


def test_missing_keys_and_packages_are_reported(files, tmp_path, caplog) -> None:
    with pytest.raises(EngineUnavailableError, match="ELEVENLABS_API_KEY is not set.*espeak"):
        run_audio(tmp_path, caplog, tts_engine="elevenlabs")
    rows = {row["name"]: row for row in list_engines("tts")}
    assert rows["espeak"]["available"] is True
    assert rows["edge-tts"] == {
        "name": "edge-tts",
        "available": False,
        "reason": "the edge-tts package is not installed (pip install edge-tts)",
        "description": rows["edge-tts"]["description"],
        "voices": [],
    }
    assert "TTS_BASE_URL" in rows["openai"]["reason"]
