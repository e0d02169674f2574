"""The `piper` TTS engine: bundled and DATA_DIR voices, per-run voice and rate, progress."""

from __future__ import annotations

import json
import threading
import wave
from pathlib import Path

import pytest

from services.engines.bundled_models import PIPER_JOE, entry_path
from services.engines.registry import list_engines
from services.engines.tts import piper
from services.engines.tts.cache import cache_dir
from services.engines.tts.piper import PiperEngine
from services.run.call import EngineCall
from services.run.errors import InvalidInputError, StageInterrupted
from services.run.options import OptionsError, RunOptions
from services.stages.audio import AudioStage
from tests.services.stages.av_fixtures import EPISODE, scripted_episode
from tests.support.media import ffprobe_json
from tests.support.stage_runner import assert_monotonic_progress, run_stage

pytestmark = pytest.mark.skipif(
    not PiperEngine.availability()[0], reason="piper-tts or the bundled voice is not installed"
)

TEXT = "Hello there. This is the second sentence, a little longer! And a third one?"


def add_voice(data_dir: Path, name: str, length_scale: float = 1.0) -> Path:
    """Add the bundled voice to DATA_DIR/voices as `name`, with its own length scale."""
    folder = data_dir / "voices"
    folder.mkdir(parents=True, exist_ok=True)
    model = entry_path(PIPER_JOE)
    (folder / f"{name}.onnx").symlink_to(model)
    config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
    config["inference"]["length_scale"] = length_scale
    (folder / f"{name}.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return folder / f"{name}.onnx"


def seconds_of(path: Path) -> float:
    """Return the length of a WAV file in seconds."""
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def speak(tmp_path: Path, name: str, rate: float = 1.0, voice: str | None = None, **call) -> Path:
    """Speak TEXT with piper into tmp_path/name; return the file."""
    engine = PiperEngine()
    engine.configure(tmp_path, rate)
    out = tmp_path / name
    engine.synthesise(TEXT, out, voice, EngineCall(**call))
    return out


def test_voices_are_the_bundled_one_and_those_in_data_dir(tmp_path) -> None:
    add_voice(tmp_path, "my-voice")
    (tmp_path / "voices" / "no-config.onnx").write_bytes(b"not a voice")
    voices = {v["id"]: v for v in PiperEngine.voices(tmp_path)}
    assert list(voices) == ["en_US-joe-medium", "my-voice"]
    assert voices["en_US-joe-medium"] == {
        "id": "en_US-joe-medium",
        "default": True,
        "source": "bundled",
        "language": "en_US",
        "quality": "medium",
    }
    assert voices["my-voice"]["source"] == "data_dir" and not voices["my-voice"]["default"]
    assert [v["id"] for v in PiperEngine.voices(None)] == ["en_US-joe-medium"]


def test_get_pipeline_engines_lists_piper_voices(client, data_dir) -> None:
    add_voice(data_dir, "studio")
    body = client.get("/pipeline/engines").get_json()
    rows = {row["name"]: row for row in body["tts"]}
    assert rows["piper"]["available"] is True
    assert [v["id"] for v in rows["piper"]["voices"]] == ["en_US-joe-medium", "studio"]
    assert rows["espeak"]["voices"] == [{"id": "en-us", "default": True}]
    assert all("voices" not in row for row in body["transcript"])


def test_speech_is_reported_sentence_by_sentence(tmp_path) -> None:
    reported: list[float] = []
    out = speak(tmp_path, "a.wav", on_progress=lambda _s, fraction, _m: reported.append(fraction))
    assert len(reported) == 3 and reported == sorted(reported) and reported[-1] == 1.0
    assert 2.0 < seconds_of(out) < 10.0


def test_stage_five_unloads_the_voice_when_the_narration_is_spoken(tmp_path, monkeypatch):
    loaded_during: list[int] = []
    real_speak = piper.speak

    def spy(*args, **kwargs) -> None:
        loaded_during.append(len(piper._LOADED))
        real_speak(*args, **kwargs)

    monkeypatch.setattr(piper, "speak", spy)
    scripted_episode(tmp_path)
    run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts")
    assert loaded_during and min(loaded_during) == 1  # one voice, loaded once, shared
    assert piper._LOADED == {}  # stages 6 and 7 run without the model in memory


def test_an_interrupt_stops_between_sentences(tmp_path) -> None:
    cancel = threading.Event()
    reported: list[float] = []

    def on_progress(_sub: str | None, fraction: float, _message: str) -> None:
        reported.append(fraction)
        cancel.set()  # the user stops after the first sentence

    with pytest.raises(StageInterrupted):
        speak(tmp_path, "a.wav", on_progress=on_progress, cancel=cancel)
    assert len(reported) == 1 and reported[0] < 1.0


def test_rate_and_voice_change_the_speech(tmp_path) -> None:
    add_voice(tmp_path, "slow", length_scale=2.0)
    normal = seconds_of(speak(tmp_path, "normal.wav"))
    fast = seconds_of(speak(tmp_path, "fast.wav", rate=2.0))
    slow = seconds_of(speak(tmp_path, "slow.wav", voice="slow"))
    assert fast < 0.75 * normal
    assert slow > 1.4 * normal


def test_an_unknown_voice_names_the_voices_there_are(tmp_path) -> None:
    add_voice(tmp_path, "mine")
    with pytest.raises(InvalidInputError, match="'nobody' is not a Piper voice") as caught:
        speak(tmp_path, "a.wav", voice="nobody")
    assert "en_US-joe-medium, mine" in str(caught.value)


def test_tts_rate_is_checked() -> None:
    assert RunOptions.from_dict({}).tts_rate == 1.0
    assert RunOptions.from_dict({"tts_rate": 2}).tts_rate == 2.0
    for bad in (0.4, 2.5, "fast", True):
        with pytest.raises(OptionsError, match="tts_rate"):
            RunOptions.from_dict({"tts_rate": bad})


def test_stage_five_speaks_with_the_run_voice_and_rate(tmp_path, caplog) -> None:
    files = scripted_episode(tmp_path)
    add_voice(tmp_path, "slow", length_scale=2.0)
    with caplog.at_level("INFO", logger="clipcast"):
        run = run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts")
    assert "with piper (voice en_US-joe-medium, rate 1" in caplog.text
    assert_monotonic_progress(run.events, min_sub_stages=3)
    intro = float(ffprobe_json(files.section_audio("intro"))["format"]["duration"])
    cached = set(cache_dir(tmp_path).glob("*.wav"))

    run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_voice="slow")
    slow = float(ffprobe_json(files.section_audio("intro"))["format"]["duration"])
    assert slow > intro + 1.0
    run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_voice="slow", tts_rate=2.0)
    quick = float(ffprobe_json(files.section_audio("intro"))["format"]["duration"])
    assert quick < slow - 1.0
    # Each voice and rate has its own cache entries; the first run's stay valid.
    assert cached < set(cache_dir(tmp_path).glob("*.wav"))
    assert len(set(cache_dir(tmp_path).glob("*.wav"))) == 3 * len(cached)


def test_without_piper_stage_five_falls_back_to_espeak(tmp_path, caplog, monkeypatch) -> None:
    scripted_episode(tmp_path)
    monkeypatch.setattr(PiperEngine, "availability", classmethod(lambda cls: (False, "gone")))
    rows = {row["name"]: row for row in list_engines("tts", tmp_path)}
    assert rows["piper"]["available"] is False and rows["piper"]["voices"] == []
    with caplog.at_level("INFO", logger="clipcast"):
        run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_voice="slow")
    assert "Speaking with espeak-ng and its default voice instead" in caplog.text
    assert "with espeak (voice en-us" in caplog.text
