"""The episode audio (16-bit mono WAV) read in quiet-cut chunks, never whole.

An hour at 16 kHz is 115 MB of samples and four times that as floats; engines that take
audio in pieces (a hosted API's upload limit, Whisper's memory for its spectrogram) read
one chunk at a time. Chunks end at the quietest 0.3 s in the last fifth of their span, so a
cut falls between words; the loudness envelope that finds it is read a minute at a time.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.run.errors import InvalidInputError

SEARCH_SHARE = 0.2  # look for a quiet cut in the last 20% of a chunk
FRAME = 0.01  # seconds per loudness value
SMOOTH_FRAMES = 30  # the quiet moment is 0.3 s long
BLOCK_SECONDS = 60  # the envelope is read a minute at a time


@dataclass(frozen=True)
class AudioChunk:
    """A span of the episode audio, in seconds from its start."""

    start: float
    end: float


def open_wav(path: Path) -> wave.Wave_read:
    """Open a 16-bit mono WAV; raise InvalidInputError naming the file if it is not one."""
    try:
        source = wave.open(str(path), "rb")
    except (OSError, wave.Error, EOFError) as exc:
        raise InvalidInputError(
            f"{Path(path).name} is not a readable WAV file ({exc}).", hint="Run stage 1 again."
        ) from exc
    if source.getsampwidth() != 2 or source.getnchannels() != 1:
        source.close()
        raise InvalidInputError(
            f"{Path(path).name} is not 16-bit mono audio.", hint="Run stage 1 again."
        )
    return source


def wav_seconds(path: Path) -> float:
    """Return the length of a 16-bit mono WAV in seconds."""
    with open_wav(path) as source:
        return source.getnframes() / source.getframerate()


def read_span(source: wave.Wave_read, start: float, end: float) -> np.ndarray:
    """Return the 16-bit samples from `start` to `end` s of an open WAV (clipped to it)."""
    rate, total = source.getframerate(), source.getnframes()
    first = min(total, max(0, int(round(start * rate))))
    last = min(total, max(first, int(round(end * rate))))
    source.setpos(first)
    return np.frombuffer(source.readframes(last - first), dtype="<i2")


def energy_envelope(source: wave.Wave_read) -> np.ndarray:
    """Return the mean power of every FRAME of an open WAV, reading a minute at a time."""
    rate = source.getframerate()
    hop = int(rate * FRAME)
    block = BLOCK_SECONDS * rate // hop * hop
    source.setpos(0)
    parts = []
    while data := source.readframes(block):
        samples = np.frombuffer(data, dtype="<i2")
        whole = len(samples) // hop * hop
        if whole:
            frames = samples[:whole].astype(np.float32).reshape(-1, hop)
            parts.append(np.mean(frames**2, axis=1))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def plan_cuts(energy: np.ndarray, total: float, limit: float) -> list[AudioChunk]:
    """Cut `total` s into chunks of at most `limit` s at the quietest 0.3 s near each end."""
    smooth = (
        np.convolve(energy, np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES, mode="same")
        if len(energy)
        else energy
    )
    chunks, start = [], 0.0
    while total - start > limit:
        low = int((start + (1 - SEARCH_SHARE) * limit) / FRAME)
        high = min(int((start + limit) / FRAME), len(smooth))
        cut = start + limit
        if high > low:
            cut = (low + int(np.argmin(smooth[low:high]))) * FRAME
        chunks.append(AudioChunk(start, cut))
        start = cut
    chunks.append(AudioChunk(start, total))
    return chunks


def chunk_wav(path: Path, limit: float) -> list[AudioChunk]:
    """Plan the chunks of at most `limit` s of a 16-bit mono WAV."""
    with open_wav(path) as source:
        total = source.getnframes() / source.getframerate()
        if total <= limit:
            return [AudioChunk(0.0, total)]
        return plan_cuts(energy_envelope(source), total, limit)


def read_chunks(path: Path, chunks: list[AudioChunk]) -> Iterator[tuple[AudioChunk, np.ndarray]]:
    """Yield each chunk with its 16-bit samples, one chunk in memory at a time."""
    with open_wav(path) as source:
        for chunk in chunks:
            yield chunk, read_span(source, chunk.start, chunk.end)
