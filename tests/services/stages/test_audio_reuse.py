"""Stage 5 speaks and levels again only the sections whose text, engine, voice or rate changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.atomic import read_json, write_json_atomic
from services.engines.tts.espeak import EspeakEngine
from services.episodes.files import EpisodeFiles
from services.stages.audio import AudioStage
from services.stages.narration_manifest import MANIFEST_NAME
from tests.services.stages.av_fixtures import EPISODE, NARRATION, scripted_episode
from tests.support.stage_runner import run_stage


@pytest.fixture
def spoken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EpisodeFiles, list[str]]:
    """Speak a scripted episode once (espeak, no shared cache); return it and the texts spoken."""
    monkeypatch.setattr("services.stages.audio.SpeechCache.speak", _uncached)
    spoken_texts: list[str] = []
    original = EspeakEngine.synthesise

    def counting(self, text, out_path, voice, call):  # noqa: ANN001, ANN202
        spoken_texts.append(text)
        return original(self, text, out_path, voice, call)

    monkeypatch.setattr(EspeakEngine, "synthesise", counting)
    files = scripted_episode(tmp_path)
    run_stage(AudioStage, tmp_path, EPISODE, tts_engine="espeak")
    return files, spoken_texts


def _uncached(self, text, out_path, call) -> bool:  # noqa: ANN001
    """Speak without the DATA_DIR speech cache, so every synthesis is counted."""
    self.engine.synthesise(text, out_path, self.voice, call)
    return False


def _mtimes(files: EpisodeFiles) -> dict[str, int]:
    """Return the mtime of every narration WAV."""
    return {p.stem: p.stat().st_mtime_ns for p in files.audio_dir.glob("*.wav")}


def _edit(files: EpisodeFiles, section_id: str, text: str) -> None:
    """Change one section's narration in the script."""
    script = read_json(files.script)
    for section in script["podcast_sections"]:
        if section["section_id"] == section_id:
            section["script_content"] = text
    write_json_atomic(files.script, script)


def test_a_rerun_with_nothing_changed_rewrites_no_wav(spoken, tmp_path: Path) -> None:
    files, texts = spoken
    assert len(texts) == len(NARRATION)
    before = _mtimes(files)
    result = run_stage(AudioStage, tmp_path, EPISODE, tts_engine="espeak").result
    assert _mtimes(files) == before
    assert len(texts) == len(NARRATION)
    assert set(read_json(files.audio_dir / MANIFEST_NAME)["sections"]) == set(NARRATION)
    assert result["narration_seconds"] > 5


def test_only_the_changed_section_is_spoken_again(spoken, tmp_path: Path) -> None:
    files, texts = spoken
    before = _mtimes(files)
    _edit(files, "pre_clip_02", "Now the second clip, which runs a little longer.")
    run_stage(AudioStage, tmp_path, EPISODE, tts_engine="espeak")
    after = _mtimes(files)
    assert [s for s in before if after[s] != before[s]] == ["pre_clip_02"]
    assert texts[len(NARRATION) :] == ["Now the second clip, which runs a little longer."]


@pytest.mark.parametrize("change", [{"tts_voice": "en-gb"}, {"tts_rate": 1.3}])
def test_a_changed_voice_or_rate_speaks_every_section_again(
    spoken, tmp_path: Path, change: dict
) -> None:
    files, texts = spoken
    before = _mtimes(files)
    run_stage(AudioStage, tmp_path, EPISODE, tts_engine="espeak", **change)
    assert all(_mtimes(files)[s] != before[s] for s in before)
    assert len(texts) == 2 * len(NARRATION)


def test_a_replaced_wav_is_made_again(spoken, tmp_path: Path) -> None:
    files, texts = spoken
    files.section_audio("outro").write_bytes(b"not the speech it was")
    run_stage(AudioStage, tmp_path, EPISODE, tts_engine="espeak")
    assert texts[len(NARRATION) :] == [NARRATION["outro"]]
    assert files.section_audio("outro").stat().st_size > 1000
