"""Reading the episode WAV in quiet-cut chunks: cuts in the pauses, nothing lost or doubled."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from services.engines.transcript.wav_chunks import (
    AudioChunk,
    chunk_wav,
    energy_envelope,
    open_wav,
    read_chunks,
    wav_seconds,
)
from services.run.errors import InvalidInputError

RATE = 16000


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    """Write 16-bit samples as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def bursts(pauses: list[float], length: float) -> np.ndarray:
    """Return `length` s of loud noise with 0.6 s of silence starting at each of `pauses`."""
    rng = np.random.default_rng(7)
    samples = (rng.standard_normal(int(length * RATE)) * 6000).astype(np.int16)
    for at in pauses:
        samples[int(at * RATE) : int((at + 0.6) * RATE)] = 0
    return samples


def test_cuts_fall_in_the_pauses_and_the_chunks_rebuild_the_file(tmp_path) -> None:
    samples = bursts([8.5, 17.2, 26.0], 30.0)
    path = write_wav(tmp_path / "talk.wav", samples)
    chunks = chunk_wav(path, limit=10.0)
    cuts = [chunk.end for chunk in chunks[:-1]]
    assert len(cuts) == 3, chunks
    for cut, pause in zip(cuts, [8.5, 17.2, 26.0], strict=True):
        assert pause <= cut <= pause + 0.6, (cut, pause)
    assert all(c.end - c.start <= 10.0 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == pytest.approx(30.0)
    rebuilt = np.concatenate([piece for _, piece in read_chunks(path, chunks)])
    assert len(rebuilt) == len(samples)
    assert np.array_equal(rebuilt, samples)


def test_a_short_file_is_one_chunk(tmp_path) -> None:
    path = write_wav(tmp_path / "short.wav", bursts([], 3.0))
    assert chunk_wav(path, limit=10.0) == [AudioChunk(0.0, 3.0)]
    assert wav_seconds(path) == pytest.approx(3.0)


def test_the_envelope_is_read_in_blocks_with_the_same_values(tmp_path, monkeypatch) -> None:
    samples = bursts([1.0], 5.0)
    path = write_wav(tmp_path / "a.wav", samples)
    with open_wav(path) as source:
        whole = energy_envelope(source)
    monkeypatch.setattr("services.engines.transcript.wav_chunks.BLOCK_SECONDS", 1)
    with open_wav(path) as source:
        blocked = energy_envelope(source)
    assert len(whole) == 500
    assert np.allclose(whole, blocked)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"not a wav at all", "not a readable WAV"), (None, "not 16-bit mono")],
)
def test_a_file_that_is_not_16_bit_mono_is_named(tmp_path, content, problem) -> None:
    path = tmp_path / "original_audio.wav"
    if content is None:
        write_wav(path, np.zeros(3200, dtype=np.int16), channels=2)
    else:
        path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=problem) as caught:
        chunk_wav(path, limit=10.0)
    assert "original_audio.wav" in str(caught.value)
