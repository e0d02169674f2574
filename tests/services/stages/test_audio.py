"""Stage 5 (Audio Generation): espeak-ng narration, imported recordings, one format."""

from __future__ import annotations

import pytest
from pydub import AudioSegment

from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.script import narration_sections
from services.media.narration_audio import PAD_SECONDS, PEAK_CEILING_DBFS, TARGET_DBFS
from services.run.errors import EngineUnavailableError, InputMissingError, InvalidInputError
from services.stages.audio import AudioStage
from tests.services.stages.av_fixtures import (
    EPISODE,
    NARRATION,
    make_tone_wav,
    scripted_episode,
    write_script,
)
from tests.support.media import ffprobe_json, make_speech_wav
from tests.support.stage_runner import assert_monotonic_progress, run_stage

SECTION_IDS = list(NARRATION)


@pytest.fixture
def files(tmp_path) -> EpisodeFiles:
    """Return an episode with a two-clip script (no media needed for stage 5)."""
    return scripted_episode(tmp_path)


def _format(path) -> tuple:
    """Return (codec, sample rate, channels) of a WAV."""
    stream = ffprobe_json(path)["streams"][0]
    return stream["codec_name"], int(stream["sample_rate"]), int(stream["channels"])


def _assert_levelled(path) -> None:
    """Check the speech (pads excluded) is at the target RMS, or as near as its peaks allow."""
    segment = AudioSegment.from_wav(str(path))
    pad_ms = int(PAD_SECONDS * 1000)
    speech = segment[pad_ms:-pad_ms]
    at_target = abs(speech.dBFS - TARGET_DBFS) <= 0.5
    peak_limited = speech.dBFS < TARGET_DBFS and abs(speech.max_dBFS - PEAK_CEILING_DBFS) <= 0.2
    assert at_target or peak_limited, (speech.dBFS, speech.max_dBFS)


def test_tts_writes_every_section_in_one_format(files, tmp_path):
    run = run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts")

    assert_monotonic_progress(run.events, min_sub_stages=3)
    synth = [e["progress"] for e in run.progress if e["sub_stage"] == "synthesise"]
    assert len(set(synth)) >= 3, synth  # measured per section, not one jump
    expected = [f"Output/Audio/{s}.wav" for s in SECTION_IDS]
    assert run.result["audio"] == expected
    total = 0.0
    for section_id in SECTION_IDS:
        path = files.section_audio(section_id)
        assert _format(path) == ("pcm_s16le", 48000, 1)
        seconds = float(ffprobe_json(path)["format"]["duration"])
        assert seconds > 2 * PAD_SECONDS + 0.5
        _assert_levelled(path)
        head = AudioSegment.from_wav(str(path))[: int(PAD_SECONDS * 1000) - 20]
        assert head.max_dBFS < -60  # the silence pad at the start
        total += seconds
    assert run.result["narration_seconds"] == pytest.approx(total, abs=0.05)
    assert 10 < total < 40
    assert not (files.work_dir / "audio").exists()


def test_text_goes_through_stdin_even_when_it_looks_like_an_option(files, tmp_path):
    script = write_script(files)
    script["podcast_sections"][0]["script_content"] = "--help -w /tmp/evil.wav is just text"
    write_json_atomic(files.script, script)
    run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_engine="espeak")
    seconds = float(ffprobe_json(files.section_audio("intro"))["format"]["duration"])
    assert seconds > 1.5  # spoken, not parsed as options


def test_bad_voice_name_is_refused(files, tmp_path):
    with pytest.raises(InvalidInputError, match="voice"):
        run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_voice="-w/tmp/x")


def test_missing_espeak_is_reported_with_the_fix(files, tmp_path, monkeypatch):
    import services.engines.tts.espeak as espeak

    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    with pytest.raises(EngineUnavailableError, match="apt-get install espeak-ng"):
        run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_engine="espeak")


def test_manual_mode_names_every_missing_section(files, tmp_path):
    present = {"pre_clip_01", "pre_clip_02", "outro"}
    for section_id in present:
        make_tone_wav(files.section_audio(section_id), 1.0)

    with pytest.raises(InputMissingError) as caught:
        run_stage(AudioStage, tmp_path, EPISODE, audio_method="manual")

    message = str(caught.value)
    for section_id in set(SECTION_IDS) - present:
        assert section_id in message
    for section_id in present:
        assert section_id not in message
    assert "audio page" in message and "text-to-speech" in message


def test_manual_mode_names_unreadable_recordings(files, tmp_path):
    for section_id in SECTION_IDS:
        make_tone_wav(files.section_audio(section_id), 1.0)
    files.section_audio("post_clip_02").write_bytes(b"not audio at all" * 100)

    with pytest.raises(InputMissingError, match="post_clip_02"):
        run_stage(AudioStage, tmp_path, EPISODE, audio_method="manual")


def test_manual_recordings_are_normalised_in_place_and_stay_stable(files, tmp_path):
    sections = narration_sections(write_script(files))
    for index, section in enumerate(sections):
        path = files.section_audio(section["section_id"])
        if index % 2:
            make_speech_wav(path, section["script_content"])  # 22050 Hz mono
        else:
            make_tone_wav(path, 1.5, rate=44100, channels=2, volume=0.05)

    first = run_stage(AudioStage, tmp_path, EPISODE, audio_method="manual")
    assert_monotonic_progress(first.events, min_sub_stages=3)
    lengths = {}
    for section in sections:
        path = files.section_audio(section["section_id"])
        assert _format(path) == ("pcm_s16le", 48000, 1)
        _assert_levelled(path)
        lengths[path] = AudioSegment.from_wav(str(path)).frame_count()
    # The leading second of silence in the tone recordings was trimmed to the pad.
    tone = AudioSegment.from_wav(str(files.section_audio("intro")))
    assert len(tone) / 1000 == pytest.approx(1.5 + 2 * PAD_SECONDS, abs=0.05)

    second = run_stage(AudioStage, tmp_path, EPISODE, audio_method="manual")
    assert second.result["narration_seconds"] == pytest.approx(
        first.result["narration_seconds"], abs=0.01
    )
    for path, frames in lengths.items():
        assert AudioSegment.from_wav(str(path)).frame_count() == pytest.approx(frames, abs=480)
