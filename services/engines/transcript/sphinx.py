"""PocketsphinxEngine: offline speech recognition with the wheel's bundled US English model.

The audio (16 kHz mono 16-bit WAV) is scanned once with pocketsphinx's voice activity
detector; speech regions are cut into chunks of at most MAX_CHUNK seconds at their quietest
moments, and the chunks are decoded in parallel, one decoder per worker process. Progress is
the audio seconds decoded over the seconds to decode, reported as chunks finish.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from services.engines.transcript.base import (
    TranscriptEngine,
    TranscriptResult,
    TranscriptSegment,
    TranscriptSource,
    TranscriptWord,
    group_words,
)
from services.engines.transcript.process_pool import POOL_UNAVAILABLE, run_in_pool
from services.run.call import EngineCall
from services.run.errors import InvalidInputError, ToolError

RATE = 16000
MAX_CHUNK = 15.0  # seconds; bounds memory, gives parallelism and progress steps
MIN_CHUNK = 4.0  # short audio is cut into chunks this long at least (for parallelism)
CHUNKS_PER_WORKER = 3  # short audio: aim for this many chunks a worker
PAD = 0.2  # seconds of context kept around each speech region
CMN_SAMPLE = 60.0  # seconds of speech used to estimate the cepstral mean
SCAN_SHARE = 0.05  # share of the engine's progress given to the voice activity scan
ENERGY_HOP = 160  # samples per energy value (10 ms)


@dataclass(frozen=True)
class Chunk:
    """A piece of audio to decode, in samples."""

    start: int
    samples: int

    @property
    def seconds(self) -> float:
        """Return the chunk's length in seconds."""
        return self.samples / RATE


def model_dir() -> Path | None:
    """Return the bundled en-us model folder, or None when pocketsphinx is missing."""
    try:
        import pocketsphinx
    except ImportError:
        return None
    return Path(pocketsphinx.get_model_path("en-us"))


def scan_speech(path: Path, on_progress: Callable[[float], None]) -> tuple[list, np.ndarray]:
    """Return speech regions [(start, end) seconds] and 10 ms energies (dB) of a WAV."""
    import pocketsphinx

    endpointer = pocketsphinx.Endpointer(sample_rate=RATE)
    frame_bytes = endpointer.frame_bytes
    regions: list[tuple[float, float]] = []
    energies: list[np.ndarray] = []
    with wave.open(str(path), "rb") as source:
        total = source.getnframes()
        block_frames = (RATE * 10 * 2 // frame_bytes) * frame_bytes // 2  # ~10 s, whole frames
        done = 0
        while data := source.readframes(block_frames):
            samples = np.frombuffer(data, dtype="<i2").astype(np.float32)
            usable = len(samples) // ENERGY_HOP * ENERGY_HOP
            if usable:
                power = np.mean(samples[:usable].reshape(-1, ENERGY_HOP) ** 2, axis=1)
                energies.append(10 * np.log10(power + 1.0))
            for at in range(0, len(data), frame_bytes):
                frame = data[at : at + frame_bytes]
                was_in_speech = endpointer.in_speech
                if len(frame) < frame_bytes:
                    speech = endpointer.end_stream(frame)
                else:
                    speech = endpointer.process(frame)
                if speech is not None:
                    if not was_in_speech:
                        regions.append((endpointer.speech_start, endpointer.speech_start))
                    if not endpointer.in_speech or len(frame) < frame_bytes:
                        regions[-1] = (regions[-1][0], endpointer.speech_end)
            done += len(data) // 2
            on_progress(done / total if total else 1.0)
    if endpointer.in_speech and regions:  # the audio ended mid-speech on a whole frame
        regions[-1] = (regions[-1][0], total / RATE)
    return regions, np.concatenate(energies) if energies else np.zeros(0, dtype=np.float32)


def chunk_limit(speech_seconds: float, workers: int) -> float:
    """Return the longest chunk to cut: short audio in several pieces a worker, else MAX_CHUNK."""
    return min(MAX_CHUNK, max(MIN_CHUNK, speech_seconds / (workers * CHUNKS_PER_WORKER)))


def plan_chunks(
    regions: list, energies: np.ndarray, total_seconds: float, limit: float = MAX_CHUNK
) -> list[Chunk]:
    """Cut speech regions into chunks of at most `limit` seconds at their quietest points."""
    smooth = np.convolve(energies, np.ones(20) / 20, mode="same") if len(energies) else energies
    spans: list[tuple[float, float]] = []
    for region_start, region_end in regions:
        start = max(0.0, region_start - PAD)
        end = min(total_seconds, region_end + PAD)
        if spans and start - spans[-1][1] < PAD:  # touching neighbours: one region
            start = spans.pop()[0]
        while end - start > limit:
            # Cut at the quietest 200 ms between 40% and 100% of the limit.
            low = int((start + 0.4 * limit) * 100)
            high = min(int((start + limit) * 100), len(smooth))
            cut = start + limit
            if high > low:
                cut = (low + int(np.argmin(smooth[low:high]))) / 100
            spans.append((start, cut))
            start = cut
        if end > start:
            spans.append((start, end))
    return [
        Chunk(int(round(s * RATE)), int(round((e - s) * RATE))) for s, e in spans if e - s >= 0.1
    ]


def sphinx_segments(words: list[tuple[str, float, float]]) -> list[TranscriptSegment]:
    """Group the words of every chunk at once into sentences (chunk borders end none)."""
    timed = [TranscriptWord(word=w, start=s, end=e) for w, s, e in words]
    return group_words(timed, punctuated=False)


class PocketsphinxEngine(TranscriptEngine):
    """Recognise English speech offline with pocketsphinx (no captions needed)."""

    name: ClassVar[str] = "pocketsphinx"
    description: ClassVar[str] = (
        "Offline English speech recognition (CMU pocketsphinx); rough, but needs no captions."
    )

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether pocketsphinx and its bundled en-us model are installed."""
        folder = model_dir()
        if folder is None:
            return False, "the pocketsphinx package is not installed (pip install pocketsphinx)"
        needed = [folder / "en-us", folder / "en-us.lm.bin", folder / "cmudict-en-us.dict"]
        missing = [p.name for p in needed if not p.exists()]
        if missing:
            return False, f"its en-us model is incomplete (missing {', '.join(missing)})"
        return True, ""

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Recognise the episode's audio; report audio seconds decoded over seconds to decode."""
        audio = source.audio
        _check_format(audio)
        language = (source.language or "en").lower()
        if not language.startswith("en"):
            call.logger.warning(
                "pocketsphinx only knows US English; %s speech will be transcribed badly "
                "(upload %s subtitles for a usable transcript)",
                language,
                language,
            )
        regions, energies = scan_speech(
            audio, lambda f: call.report(SCAN_SHARE * f, "finding speech")
        )
        with wave.open(str(audio), "rb") as wav:
            total_seconds = wav.getnframes() / RATE
        speech = sum(end - start for start, end in regions)
        limit = chunk_limit(speech, call.parallel_jobs)
        chunks = plan_chunks(regions, energies, total_seconds, limit)
        to_decode = sum(c.seconds for c in chunks)
        call.logger.info(
            "Found %.1f s of speech in %.1f s of audio; %d chunks to decode",
            to_decode,
            total_seconds,
            len(chunks),
        )
        if not chunks:
            return TranscriptResult()
        call.checkpoint()
        began = time.monotonic()
        cmn = _estimate_cmn(audio, chunks)
        done = 0.0

        def finished(chunk: Chunk) -> None:
            nonlocal done
            done += chunk.seconds
            call.report(
                SCAN_SHARE + (1 - SCAN_SHARE) * done / to_decode,
                f"decoded {done:.0f} of {to_decode:.0f} s of speech",
            )

        workers = max(1, min(call.parallel_jobs, len(chunks)))
        try:
            words = _decode(call, audio, chunks, cmn, workers, finished)
        except RuntimeError as exc:  # pocketsphinx reports decoding failures this way
            raise ToolError(f"pocketsphinx could not decode the audio: {exc}") from exc
        elapsed = time.monotonic() - began
        call.logger.info(
            "Recognised %d words in %.1f s with %d worker(s): %.2fx real time",
            len(words),
            elapsed,
            workers,
            elapsed / max(total_seconds, 0.001),
        )
        return TranscriptResult(segments=sphinx_segments(words), language="en")


def _check_format(audio: Path) -> None:
    """Fail unless the audio is the 16 kHz mono 16-bit WAV that stage 1 writes."""
    try:
        with wave.open(str(audio), "rb") as source:
            shape = (source.getframerate(), source.getnchannels(), source.getsampwidth())
    except (wave.Error, EOFError) as exc:
        raise InvalidInputError(
            f"{audio.name} is not a readable WAV file ({exc}).",
            hint="Run stage 1 (Extraction) again to rebuild it.",
        ) from exc
    if shape != (RATE, 1, 2):
        raise InvalidInputError(
            f"{audio.name} is {shape[0]} Hz, {shape[1]} channel(s), {8 * shape[2]}-bit; "
            "pocketsphinx needs 16 kHz mono 16-bit.",
            hint="Run stage 1 (Extraction) again to rebuild it.",
        )


def _estimate_cmn(audio: Path, chunks: list[Chunk]) -> str:
    """Estimate the cepstral mean from up to CMN_SAMPLE seconds of speech spread over the audio."""
    from services.engines.transcript.sphinx_decode import estimate_cmn, read_pcm

    stride = max(1, int(sum(c.seconds for c in chunks) // CMN_SAMPLE))
    picked, seconds = [], 0.0
    for chunk in chunks[::stride]:
        picked.append(chunk)
        seconds += chunk.seconds
        if seconds >= CMN_SAMPLE:
            break
    pcm = b"".join(read_pcm(str(audio), c.start, c.samples) for c in picked)
    return estimate_cmn(pcm)


def _decode(
    call: EngineCall,
    audio: Path,
    chunks: list[Chunk],
    cmn: str,
    workers: int,
    finished: Callable[[Chunk], None],
) -> list[tuple[str, float, float]]:
    """Decode every chunk (in a process pool when workers > 1); call `finished` per chunk."""
    from services.engines.transcript import sphinx_decode

    words: list[tuple[str, float, float]] = []
    pending = list(chunks)
    if workers > 1:
        try:
            words.extend(_decode_in_pool(call, audio, pending, cmn, workers, finished))
        except POOL_UNAVAILABLE as exc:
            # e.g. a daemonic Celery worker may not start children: decode here instead.
            call.logger.warning("Parallel decoding unavailable (%s); decoding in one process", exc)
    if pending:
        sphinx_decode.init_worker(cmn)
        for chunk in list(pending):
            call.checkpoint()
            words.extend(sphinx_decode.decode_chunk(str(audio), chunk.start, chunk.samples, RATE))
            pending.remove(chunk)
            finished(chunk)
    return words


def _decode_in_pool(
    call: EngineCall,
    audio: Path,
    pending: list[Chunk],
    cmn: str,
    workers: int,
    finished: Callable[[Chunk], None],
) -> list[tuple[str, float, float]]:
    """Decode chunks in worker processes; remove each finished chunk from `pending`."""
    from services.engines.transcript import sphinx_decode

    words: list[tuple[str, float, float]] = []

    def on_result(chunk: Chunk, found: list[tuple[str, float, float]]) -> None:
        words.extend(found)
        pending.remove(chunk)
        finished(chunk)

    run_in_pool(
        partial(_decode_one, str(audio)),
        # Longest first, so no worker is left with a long chunk at the end.
        sorted(pending, key=lambda c: -c.samples),
        workers=workers,
        initializer=sphinx_decode.init_worker,
        initargs=(cmn,),
        on_result=on_result,
        check_cancelled=call.checkpoint,
    )
    return words


def _decode_one(audio: str, chunk: Chunk) -> list[tuple[str, float, float]]:
    """Decode one chunk of a WAV in a pool worker."""
    from services.engines.transcript import sphinx_decode

    return sphinx_decode.decode_chunk(audio, chunk.start, chunk.samples, RATE)
