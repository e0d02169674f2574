"""Stage 2's new engines: the OpenAI-compatible API in chunks, faster-whisper, word alignment."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from services.atomic import read_json
from services.engines.transcript.whisper import FasterWhisperEngine
from services.episodes.files import EpisodeFiles
from services.run.errors import EngineUnavailableError
from services.stages.transcript import TranscriptStage
from tests.support.fake_openai import Reply
from tests.support.media import make_speech_wav
from tests.support.stage_runner import assert_monotonic_progress, run_stage

RATE = 16000
SENTENCES = (
    "My brother works at the hospital in the city.",
    "People are worried about the price of food.",
    "He opened the door and walked into the room.",
)
PLACED_AT = (0.8, 5.0, 9.2)  # where each sentence starts in the episode audio


def to_samples(path: Path) -> np.ndarray:
    """Return any audio file as 16 kHz mono int16 samples."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2")


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Write 16 kHz mono int16 samples as a WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())


def speech_span(samples: np.ndarray) -> tuple[float, float]:
    """Return the first and last moment louder than -40 dBFS (10 ms frames)."""
    frames = samples[: len(samples) // 160 * 160].astype(float).reshape(-1, 160)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) > 32768 * 0.01)[0]
    return loud[0] / 100, (loud[-1] + 1) / 100


@pytest.fixture(scope="module")
def placed_speech(tmp_path_factory) -> tuple[Path, list[tuple[float, float]]]:
    """13 s of audio with three sentences at known places; return it and their spans."""
    folder = tmp_path_factory.mktemp("speech")
    audio = np.zeros(int(13.5 * RATE), dtype=np.int16)
    spans = []
    for n, (text, at) in enumerate(zip(SENTENCES, PLACED_AT, strict=True)):
        spoken = to_samples(make_speech_wav(folder / f"s{n}.wav", text))
        start = int(at * RATE)
        audio[start : start + len(spoken)] = spoken
        onset, offset = speech_span(spoken)
        spans.append((at + onset, at + offset))
    path = folder / "placed.wav"
    write_wav(path, audio)
    return path, spans


def episode(data_dir: Path, audio: Path) -> EpisodeFiles:
    """Return episode ep1 with `audio` as its extracted audio."""
    files = EpisodeFiles.for_episode(data_dir, "ep1")
    files.ensure_dirs()
    files.original_audio.write_bytes(audio.read_bytes())
    return files


def loose_captions(spans: list[tuple[float, float]]) -> str:
    """Return WebVTT cues that start 0.6 s early and end 0.5 s late, as captions often do."""

    def stamp(t: float) -> str:
        return f"00:00:{t:06.3f}"

    cues = ["WEBVTT", ""]
    for text, (start, end) in zip(SENTENCES, spans, strict=True):
        cues += [f"{stamp(start - 0.6)} --> {stamp(end + 0.5)}", text, ""]
    return "\n".join(cues)


def test_aligned_words_start_where_the_speech_does(tmp_path, placed_speech) -> None:
    audio, spans = placed_speech
    files = episode(tmp_path, audio)
    files.captions("en").write_text(loose_captions(spans), encoding="utf-8")
    run = run_stage(TranscriptStage, tmp_path, "ep1")
    segments = read_json(files.transcript)["segments"]
    assert len(segments) == 3
    for segment, (onset, offset), text in zip(segments, spans, SENTENCES, strict=True):
        words = segment["words"]
        assert [w["word"] for w in words] == text.split()
        assert all(a["end"] <= b["start"] + 1e-3 for a, b in zip(words, words[1:], strict=False))
        # The cue starts 0.6 s early; the aligned first word starts with the speech.
        assert abs(words[0]["start"] - onset) < 0.2, (words[0], onset)
        assert abs(words[-1]["end"] - offset) < 0.25, (words[-1], offset)
    assert_monotonic_progress(run.events, min_sub_stages=4)


def test_alignment_can_be_switched_off_or_run_out_of_time(tmp_path, placed_speech, caplog) -> None:
    audio, spans = placed_speech
    files = episode(tmp_path, audio)
    files.captions("en").write_text(loose_captions(spans), encoding="utf-8")
    run_stage(TranscriptStage, tmp_path, "ep1", word_alignment="off")
    assert all("words" not in s for s in read_json(files.transcript)["segments"])
    with caplog.at_level("INFO", logger="clipcast"):
        import os

        os.environ["ALIGN_MAX_SECONDS"] = "0"
        try:
            run_stage(TranscriptStage, tmp_path, "ep1")
        finally:
            del os.environ["ALIGN_MAX_SECONDS"]
    assert all("words" not in s for s in read_json(files.transcript)["segments"])
    assert "3 left without word timings (ALIGN_MAX_SECONDS reached)" in caplog.text


def wav_seconds(data: bytes) -> float:
    """Return the length of a WAV file held in memory."""
    with wave.open(io.BytesIO(data), "rb") as source:
        return source.getnframes() / source.getframerate()


def test_openai_transcription_sends_chunks_and_offsets_their_times(
    fake_openai, tmp_path, placed_speech, monkeypatch
) -> None:
    audio, _ = placed_speech
    files = episode(tmp_path, audio)
    monkeypatch.setenv("LLM_BASE_URL", fake_openai.url)  # ASR_* fall back to LLM_*
    monkeypatch.setenv("LLM_API_KEY", "k")
    monkeypatch.setenv("ASR_CHUNK_SECONDS", "4")
    chunks: list[float] = []

    def transcribe(request) -> Reply:
        name, data = request.files["file"]
        seconds = wav_seconds(data)
        chunks.append(seconds)
        n = len(chunks)
        return Reply(
            body={
                "text": f"part {n} here",
                "language": "english",
                "segments": [
                    {"id": 0, "start": 0.5, "end": seconds - 0.5, "text": f" part {n} here"}
                ],
                "words": [
                    {"word": "part", "start": 0.5, "end": 0.9},
                    {"word": str(n), "start": 1.0, "end": 1.2},
                    {"word": "here", "start": 1.3, "end": seconds - 0.5},
                ],
            }
        )

    fake_openai.default("/v1/audio/transcriptions", transcribe)
    run = run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="openai")

    requests = fake_openai.calls("/v1/audio/transcriptions")
    assert len(requests) == len(chunks) >= 4
    assert all(seconds <= 4.0 + 1e-6 for seconds in chunks)
    assert sum(chunks) == pytest.approx(13.5, abs=0.01)
    form = requests[0].form
    assert form["model"] == ["whisper-1"] and form["response_format"] == ["verbose_json"]
    assert form["timestamp_granularities[]"] == ["segment", "word"]
    assert requests[0].headers["Authorization"] == "Bearer k"
    segments = read_json(files.transcript)["segments"]
    offsets = np.cumsum([0.0, *chunks[:-1]])
    assert [s["text"] for s in segments] == [f"part {n} here" for n in range(1, len(chunks) + 1)]
    for segment, offset, seconds in zip(segments, offsets, chunks, strict=True):
        assert segment["start"] == pytest.approx(offset + 0.5, abs=0.002)
        assert segment["end"] == pytest.approx(offset + seconds - 0.5, abs=0.002)
        assert segment["words"][1]["start"] == pytest.approx(offset + 1.0, abs=0.002)
    assert_monotonic_progress(run.events, min_sub_stages=4)


def test_openai_transcription_without_settings_says_what_to_set(tmp_path, placed_speech) -> None:
    files = episode(tmp_path, placed_speech[0])
    with pytest.raises(EngineUnavailableError) as caught:
        run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="openai")
    message = str(caught.value)
    assert "'openai'" in message and "ASR_BASE_URL" in message and "captions" in message
    assert not files.transcript.exists() and files.original_audio.exists()


FAKE_WHISPER = '''
"""A stand-in for faster-whisper with its API's shape; calls are logged to a file because the
engine decodes in a child process."""
import json
from pathlib import Path
from types import SimpleNamespace

CALLS = Path(__file__).with_name("calls.jsonl")


def log(*call):
    with CALLS.open("a") as handle:
        handle.write(json.dumps(call) + "\\n")


def calls():
    return [json.loads(line) for line in CALLS.read_text().splitlines()] if CALLS.exists() else []


class WhisperModel:
    def __init__(self, source, **kwargs):
        log("load", source, kwargs)

    def transcribe(self, audio, **kwargs):
        log("transcribe", audio if isinstance(audio, str) else len(audio), kwargs)
        word = lambda w, s, e: SimpleNamespace(word=" " + w, start=s, end=e, probability=0.9)
        pieces = [
            SimpleNamespace(start=0.8, end=3.4, text=" Hello there.",
                            words=[word("Hello", 0.8, 1.5), word("there.", 1.6, 3.4)]),
            SimpleNamespace(start=5.0, end=7.9, text=" General words.",
                            words=[word("General", 5.0, 6.0), word("words.", 6.1, 7.9)]),
        ]
        return iter(pieces), SimpleNamespace(duration=13.5, language="en")
'''
FAKE_UTILS = """
def download_model(name, local_files_only=False, **kwargs):
    raise RuntimeError(f"{name} is not in the cache")
"""


@pytest.fixture
def fake_faster_whisper(tmp_path, monkeypatch):
    """Install a stand-in faster_whisper package for one test; return its module."""
    package = tmp_path / "site" / "faster_whisper"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(FAKE_WHISPER), encoding="utf-8")
    (package / "utils.py").write_text(textwrap.dedent(FAKE_UTILS), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for name in [name for name in sys.modules if name.split(".")[0] == "faster_whisper"]:
        monkeypatch.delitem(sys.modules, name)  # the real package, restored afterwards
    import importlib

    importlib.invalidate_caches()
    yield importlib.import_module("faster_whisper")
    for name in ("faster_whisper", "faster_whisper.utils"):
        sys.modules.pop(name, None)


def test_faster_whisper_missing_says_how_to_get_it(monkeypatch) -> None:
    import services.engines.transcript.whisper as whisper

    real = whisper.importlib.util.find_spec
    hide = lambda name, *args: None if name == "faster_whisper" else real(name, *args)  # noqa: E731
    monkeypatch.setattr(whisper.importlib.util, "find_spec", hide)
    available, reason = FasterWhisperEngine.availability()
    assert not available
    assert "faster-whisper package is not installed" in reason
    assert "make setup" in reason


def test_faster_whisper_transcribes_with_words_and_vad(
    fake_faster_whisper, tmp_path, placed_speech, monkeypatch
) -> None:
    model = tmp_path / "models" / "whisper-small"
    model.mkdir(parents=True)
    (model / "model.bin").write_bytes(b"weights")
    monkeypatch.setenv("WHISPER_MODEL", str(model))
    files = episode(tmp_path / "data", placed_speech[0])
    run = run_stage(TranscriptStage, tmp_path / "data", "ep1", transcript_engine="faster-whisper")
    transcript = read_json(files.transcript)
    assert transcript["engine"] == "faster-whisper"
    assert [s["text"] for s in transcript["segments"]] == ["Hello there.", "General words."]
    assert transcript["segments"][1]["words"][0] == {"word": "General", "start": 5.0, "end": 6.0}
    load, transcribe = fake_faster_whisper.calls()
    assert load[1] == str(model) and load[2]["local_files_only"] is True
    assert transcribe[2]["word_timestamps"] is True and transcribe[2]["vad_filter"] is True
    assert_monotonic_progress(run.events, min_sub_stages=4)


def test_a_whisper_model_not_on_disk_fails_naming_the_setting(
    fake_faster_whisper, tmp_path, placed_speech, monkeypatch
) -> None:
    monkeypatch.setenv("WHISPER_MODEL", "small")
    files = episode(tmp_path, placed_speech[0])
    available, reason = FasterWhisperEngine.availability()
    assert not available and "not on disk" in reason and "WHISPER_ALLOW_DOWNLOAD=1" in reason
    with pytest.raises(EngineUnavailableError) as caught:
        run_stage(TranscriptStage, tmp_path, "ep1", transcript_engine="faster-whisper")
    message = str(caught.value)
    assert "faster-whisper" in message and "WHISPER_MODEL" in message
    assert "captions (or pocketsphinx)" in message
    assert not files.transcript.exists()
    monkeypatch.setenv("WHISPER_MODEL", str(tmp_path / "nowhere"))
    assert "does not exist" in FasterWhisperEngine.availability()[1]
    assert json.dumps(fake_faster_whisper.calls()) == "[]"  # nothing was loaded


def test_alignment_on_all_cores_matches_one_core(placed_speech) -> None:
    from services.engines.transcript.alignment import BATCH, align_segments

    audio, spans = placed_speech
    repeats = BATCH // len(spans) + 1  # enough sentences for two pool tasks

    def sentences() -> list[dict]:
        return [
            {"start": start - 0.3, "end": end + 0.3, "text": text, "speaker": "Speaker 1"}
            for _ in range(repeats)
            for text, (start, end) in zip(SENTENCES, spans, strict=True)
        ]

    one, many, seen = sentences(), sentences(), []
    serial = align_segments(audio, one, lambda f: None, lambda: None, budget=60, workers=1)
    parallel = align_segments(audio, many, seen.append, lambda: None, budget=60, workers=2)
    assert len(many) > BATCH and parallel.aligned == serial.aligned == len(many)
    assert [s["words"] for s in many] == [s["words"] for s in one]
    assert seen == sorted(seen) and seen[-1] == 1.0
