"""Stage 2 (Transcript Generation) with the captions and pocketsphinx engines."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from services.atomic import read_json
from services.captions.sentences import PAUSE
from services.engines.transcript import process_pool
from services.engines.transcript.base import group_words
from services.engines.transcript.captions import pick_caption_file
from services.engines.transcript.sphinx import Chunk, chunk_limit, plan_chunks, sphinx_segments
from services.episodes.files import EpisodeFiles
from services.run.errors import (
    EngineUnavailableError,
    InputMissingError,
    InvalidInputError,
    StageInterrupted,
)
from services.run.options import RunOptions
from services.stages.base import StageContext
from services.stages.transcript import TranscriptStage, tidy_segments
from tests.services.test_webvtt import ROLLING_VTT
from tests.support.media import lavfi, make_speech_wav, silence
from tests.support.stage_runner import assert_monotonic_progress, run_stage

SPOKEN = (
    "He opened the door and walked into the room. "
    "My brother works at the hospital in the city. "
    "People are worried about the price of food and energy."
)


def to_episode_audio(source: Path, files: EpisodeFiles) -> Path:
    """Convert any audio to the 16 kHz mono 16-bit WAV stage 1 writes."""
    files.input_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(source),
            "-ac",
            "1",
            "-ar",
            "16000",
            "-c:a",
            "pcm_s16le",
            str(files.original_audio),
        ],
        check=True,
    )
    return files.original_audio


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """About 9 s of espeak-ng speech (made once for the module)."""
    return make_speech_wav(tmp_path_factory.mktemp("speech") / "speech.wav", SPOKEN)


@pytest.fixture(scope="module")
def silent_wav(tmp_path_factory) -> Path:
    """Three seconds of digital silence, 16 kHz mono."""
    path = tmp_path_factory.mktemp("silence") / "silence.wav"
    return lavfi(path, silence(3, 16000, "mono"), output=["-c:a", "pcm_s16le"])


def episode(tmp_path: Path, audio: Path | None) -> EpisodeFiles:
    """Return the files of episode ep1 with `audio` as its extracted audio."""
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.ensure_dirs()
    if audio is not None:
        to_episode_audio(audio, files)
    return files


def check_segments(segments: list[dict], duration: float) -> None:
    """Assert the transcript contract: numbered, sorted, non-overlapping, inside the audio."""
    assert [s["id"] for s in segments] == list(range(1, len(segments) + 1))
    for segment in segments:
        assert 0 <= segment["start"] <= segment["end"] <= duration + 1e-6
        assert segment["text"].strip() and segment["speaker"]
        for value in (segment["start"], segment["end"]):
            assert round(value, 3) == value
        for word in segment.get("words", []):
            assert segment["start"] <= word["start"] <= word["end"] <= segment["end"]
    for previous, segment in zip(segments, segments[1:], strict=False):
        assert previous["end"] <= segment["start"]


def test_captions_engine_turns_rolling_captions_into_sentences(tmp_path, speech_wav):
    files = episode(tmp_path, speech_wav)
    files.captions("en").write_text(ROLLING_VTT, encoding="utf-8")

    run = run_stage(TranscriptStage, tmp_path, "ep1")  # auto: captions exist

    assert run.result == {"transcript": "Processing/transcript.json"}
    transcript = read_json(files.transcript)
    assert transcript["engine"] == "captions" and transcript["language"] == "en"
    assert transcript["duration"] == pytest.approx(8.7, abs=1.5)
    segments = transcript["segments"]
    check_segments(segments, transcript["duration"])
    assert [s["text"] for s in segments] == [
        "so today we're talking about the river and the bridge",
        "and now the weather it is the river",
    ]
    assert [s["speaker"] for s in segments] == ["Speaker 1", "Speaker 2"]
    # The captions run to 11 s; the audio is shorter, so the last sentence ends with it.
    assert segments[-1]["end"] == transcript["duration"]
    assert segments[0]["words"][1] == {"word": "today", "start": 0.16, "end": 0.48}
    assert_monotonic_progress(run.events, min_sub_stages=3)
    assert not list(files.processing_dir.glob(".*partial*"))


def test_captions_engine_without_captions_says_what_to_do(tmp_path, speech_wav):
    episode(tmp_path, speech_wav)
    with pytest.raises(InputMissingError, match="no captions.*pocketsphinx engine or upload"):
        run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="captions")


def test_missing_audio_names_stage_one(tmp_path):
    episode(tmp_path, None)
    with pytest.raises(InputMissingError, match=r"stage 1 \(Extraction\)"):
        run_stage(TranscriptStage, tmp_path, "ep1")


def test_unknown_engine_is_refused(tmp_path, silent_wav):
    episode(tmp_path, silent_wav)
    with pytest.raises(EngineUnavailableError, match="captions, faster-whisper, openai"):
        run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="whisper-huge")


def test_pocketsphinx_recognises_espeak_speech(tmp_path, speech_wav):
    files = episode(tmp_path, speech_wav)

    run = run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="pocketsphinx")

    transcript = read_json(files.transcript)
    assert transcript["engine"] == "pocketsphinx"
    duration = transcript["duration"]
    assert 6 < duration < 12
    segments = transcript["segments"]
    check_segments(segments, duration)
    recognised = re.findall(r"[a-z']+", " ".join(s["text"] for s in segments).lower())
    expected = re.findall(r"[a-z']+", SPOKEN.lower())
    hits = sum(1 for word in expected if word in recognised)
    assert hits / len(expected) >= 0.4, recognised
    assert all(s["speaker"] == "Speaker 1" for s in segments)
    assert all(s["words"] for s in segments)
    assert segments[0]["start"] < 1.0 and segments[-1]["end"] > duration - 1.5

    assert_monotonic_progress(run.events, min_sub_stages=3)
    recognise = [e["progress"] for e in run.progress if e["sub_stage"] == "recognise"]
    assert len(set(recognise)) >= 4, recognise  # scan steps and one step per decoded chunk


def test_pocketsphinx_decodes_in_one_process_when_no_pool_can_start(
    tmp_path, speech_wav, monkeypatch, caplog
):
    def no_children(*args, **kwargs):
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(process_pool, "ProcessPoolExecutor", no_children)
    files = episode(tmp_path, speech_wav)
    with caplog.at_level(logging.WARNING, logger="clipcast.stages.transcript"):
        run = run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="pocketsphinx")
    assert "decoding in one process" in caplog.text
    text = " ".join(s["text"] for s in read_json(files.transcript)["segments"]).lower()
    assert "door" in text and "energy" in text
    assert_monotonic_progress(run.events, min_sub_stages=3)


def test_interrupt_during_recognition_writes_nothing(tmp_path, speech_wav):
    files = episode(tmp_path, speech_wav)
    events: list[dict] = []
    ctx = StageContext(
        stage=TranscriptStage(),
        files=files,
        data_dir=tmp_path,
        options=RunOptions(transcript_engine="pocketsphinx"),
        episode_id="ep1",
        session_id="s1",
        emit=events.append,
    )

    def emit(event: dict) -> None:
        events.append(event)
        if event["message"].startswith("decoded"):
            ctx.cancel_event.set()  # the user presses stop once the first chunk is done

    ctx.emit = emit
    with pytest.raises(StageInterrupted):
        TranscriptStage().run(ctx)
    assert not files.transcript.exists()
    assert [e["message"] for e in events if e["message"].startswith("decoded")][:1]


def test_silent_audio_has_no_speech(tmp_path, silent_wav):
    files = episode(tmp_path, silent_wav)
    with pytest.raises(InvalidInputError, match="No speech found"):
        run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="pocketsphinx")
    assert not files.transcript.exists()


def test_auto_falls_back_to_recognition_when_captions_hold_no_words(tmp_path, silent_wav, caplog):
    files = episode(tmp_path, silent_wav)
    files.captions("en").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n[Music]\n", encoding="utf-8"
    )
    with caplog.at_level(logging.INFO, logger="clipcast.stages.transcript"):
        with pytest.raises(InvalidInputError, match="No speech found.*engine whisper"):
            run_stage(TranscriptStage, tmp_path, "ep1")
    assert "hold no spoken text" in caplog.text
    assert "Transcript engine: captions (auto: found captions.en.vtt)" in caplog.text


def test_caption_file_choice(tmp_path):
    files = episode(tmp_path, None)
    files.input_dir.mkdir(parents=True, exist_ok=True)
    assert pick_caption_file(files, "en") is None
    for language in ("de", "en-US", "fr"):
        files.captions(language).write_text("WEBVTT\n", encoding="utf-8")
    assert pick_caption_file(files, "en").name == "captions.en-US.vtt"
    assert pick_caption_file(files, "fr").name == "captions.fr.vtt"
    assert pick_caption_file(files, "es").name == "captions.de.vtt"  # none: the first


def test_tidy_segments_sorts_clips_and_removes_overlaps():
    segments = tidy_segments(
        [
            {"start": 4.0, "end": 6.0, "text": " later ", "speaker": "B"},
            {
                "start": 0.12345,
                "end": 4.5,
                "text": "first",
                "speaker": "A",
                "words": [{"word": "first", "start": 0.1, "end": 4.9}],
            },
            {"start": 9.0, "end": 12.0, "text": "past the end", "speaker": "A"},
            {"start": 7.0, "end": 11.0, "text": "cut at the end", "speaker": ""},
            {"start": 8.0, "end": 8.5, "text": "   ", "speaker": "A"},
        ],
        duration=10.0,
    )
    assert [(s["id"], s["start"], s["end"], s["text"], s["speaker"]) for s in segments] == [
        (1, 0.123, 4.0, "first", "A"),
        (2, 4.0, 6.0, "later", "B"),
        (3, 7.0, 9.0, "cut at the end", "Speaker 1"),
        (4, 9.0, 10.0, "past the end", "A"),
    ]
    assert segments[0]["words"] == [{"word": "first", "start": 0.123, "end": 4.0}]


def test_long_speech_is_cut_at_quiet_points():
    energies = np.full(6000, 60.0, dtype=np.float32)  # 60 s of loud speech, 10 ms steps
    energies[1100:1130] = 0.0  # a pause at 11.0-11.3 s
    chunks = plan_chunks([(0.5, 59.5)], energies, 60.0, limit=15.0)
    assert all(c.seconds <= 15.0 + 1e-6 for c in chunks)
    assert chunks[0].start == int(0.3 * 16000)
    assert 11.0 <= (chunks[1].start / 16000) <= 11.3
    assert sum(c.samples for c in chunks) == int(round(59.4 * 16000))
    assert chunk_limit(8.0, 2) == 4.0 and chunk_limit(3600, 2) == 15.0
    assert Chunk(0, 16000).seconds == 1.0


def test_chunk_borders_do_not_split_recognised_sentences():
    # Words 0.3 s apart; pauses of 0.9 s after word 9 and of 0.2 s after word 19 (a chunk
    # border at 7.2 s falls there); chunks arrive out of order from the worker pool.
    words, t = [], 0.2
    for index in range(30):
        words.append((f"w{index}", round(t, 3), round(t + 0.25, 3)))
        t += 0.3 + (0.9 if index == 9 else 0.2 if index == 19 else 0.0)
    border = 7.2
    assert words[19][2] < border < words[20][1]
    late, early = [w for w in words if w[1] > border], [w for w in words if w[1] < border]
    segments = sphinx_segments(late + early)
    assert [[w["word"] for w in s["words"]] for s in segments] == [
        [w for w, _, _ in words[:10]],
        [w for w, _, _ in words[10:]],
    ]
    assert segments[1]["start"] - segments[0]["end"] >= PAUSE
    assert segments[0]["text"] == "W0 " + " ".join(w for w, _, _ in words[1:10]) + "."


def test_group_words_keeps_punctuation_when_the_engine_has_it():
    spoken = "Hello there. How are you? Fine, thanks, and you".split()
    words = [{"word": w, "start": i * 0.4, "end": i * 0.4 + 0.3} for i, w in enumerate(spoken)]
    segments = group_words(words)
    assert [s["text"] for s in segments] == [
        "Hello there.",
        "How are you?",
        "Fine, thanks, and you",
    ]
    assert segments[1]["words"][0] == {"word": "How", "start": 0.8, "end": 1.1}


def test_aligned_caption_sentence_is_split_at_a_long_silence_inside_its_cue():
    from services.engines.transcript.captions import split_at_silences

    text = "We planted the seeds in May, and then we waited"
    times = [0.0, 0.3, 0.6, 0.9, 1.3, 1.6, 4.4, 4.7, 5.0, 5.3]  # 2.5 s of silence after "May,"
    words = [
        {"word": w.lower().strip(","), "start": t, "end": t + 0.25}
        for w, t in zip(text.split(), times, strict=True)
    ]
    segment = {"start": 0.0, "end": 6.0, "text": text, "speaker": "Ann", "words": words}
    first, second = split_at_silences(segment)
    assert (first["text"], second["text"]) == ("We planted the seeds in May,", "and then we waited")
    assert (first["start"], first["end"], second["start"], second["end"]) == (0.0, 1.85, 4.4, 6.0)
    assert first["speaker"] == second["speaker"] == "Ann"
    segment["words"] = words[:6] + [{**w, "start": w["start"] - 2.0} for w in words[6:]]
    assert split_at_silences(segment) == [segment]  # no long silence: unchanged


def test_recogniser_windows_are_regrouped_into_sentences():
    from services.engines.transcript.base import regroup_segments

    def seg(words: list[tuple[str, float]], speaker: str = "Speaker 1") -> dict:
        timed = [{"word": w, "start": t, "end": t + 0.25} for w, t in words]
        text = " ".join(w for w, _ in words)
        return {
            "start": words[0][1],
            "end": words[-1][1] + 0.25,
            "text": text,
            "speaker": speaker,
            "words": timed,
        }

    # A recogniser's window ends inside the second sentence (as Whisper's 30 s windows do).
    window1 = seg([("It", 0.0), ("rained.", 0.3), ("Then", 0.8), ("the", 1.1)])
    window2 = seg([("sun", 1.4), ("came", 1.7), ("out.", 2.0)])
    regrouped = regroup_segments([window1, window2])
    assert [s["text"] for s in regrouped] == ["It rained.", "Then the sun came out."]
    assert regrouped[1]["start"] == 0.8 and regrouped[1]["end"] == 2.25
    # Speaker turns or missing word timings: left as they are.
    turns = [window1, seg([("sun", 1.4)], speaker="Speaker 2")]
    assert regroup_segments(turns) == turns
    bare = [{**window1, "words": []}, window2]
    assert regroup_segments(bare) == bare


def test_word_pieces_are_joined_without_spaces():
    from services.engines.transcript.base import join_words

    assert join_words([" He", " was", " ill", "-disposed", ",", " wasn", "'t", " he?"]) == (
        "He was ill-disposed, wasn't he?"
    )
