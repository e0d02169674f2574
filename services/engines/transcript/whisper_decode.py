"""Whisper decoding in a child process, so that an interrupt stops it within a fraction of a second.

faster-whisper decodes 30 s windows in native code: the segments of one window arrive
together, 1-3 s apart on two cores, and `model.transcribe()` itself runs voice activity
detection over all the audio it is given before the first one. Python cannot interrupt
either, so the decoding runs in a forked child that sends plain tuples through a pipe; the
parent checks for an interrupt every POLL_SECONDS and kills the child. The child also dies
with its parent (PR_SET_PDEATHSIG) and is in the worker's process group, which the local
executor ends on interrupt. Where no child can be started (a daemonic Celery worker),
decoding runs in-process and stops between segments.

The audio goes to the model in chunks of CHUNK_SECONDS cut at quiet moments (wav_chunks):
faster-whisper holds its input as floats and its whole spectrogram: an hour in one piece
peaked at 3.6 GB; in 5-minute chunks the whole worker peaked at 653 MB (both measured).
Each chunk after the first is primed with the end of the text before it and keeps the
language found in the first.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from services.engines.transcript.process_pool import POOL_UNAVAILABLE, pool_context
from services.engines.transcript.wav_chunks import chunk_wav, read_chunks
from services.run.errors import InvalidInputError

CHUNK_SECONDS = 300.0
PROMPT_CHARACTERS = 1000  # about the 223 tokens Whisper carries from window to window
POLL_SECONDS = 0.2
SEED = 20261205
JOIN_SECONDS = 2.0
PR_SET_PDEATHSIG = 1


class DecodeError(RuntimeError):
    """Decoding failed in the child (or the child died); the message says how."""


@dataclass(frozen=True)
class DecodeJob:
    """What to decode and how, as plain data that crosses into the child unchanged."""

    audio: str
    model: str
    load: dict[str, Any] = field(default_factory=dict)  # WhisperModel keyword arguments
    decode: dict[str, Any] = field(default_factory=dict)  # WhisperModel.transcribe's
    chunk_seconds: float = CHUNK_SECONDS


def decode(job: DecodeJob) -> Iterator[tuple]:
    """Yield ("info", duration, language), then ("segment", start, end, text, words) tuples."""
    import ctranslate2
    from faster_whisper import WhisperModel

    ctranslate2.set_random_seed(SEED)  # the temperature fallback samples: same audio, same text
    model = WhisperModel(job.model, **job.load)
    try:
        chunks = chunk_wav(Path(job.audio), job.chunk_seconds)
    except InvalidInputError:  # not the episode's 16-bit mono WAV: let faster-whisper read it
        pieces, info = model.transcribe(job.audio, **job.decode)
        yield ("info", float(getattr(info, "duration", 0.0) or 0.0), str(info.language or ""))
        yield from _messages(pieces, 0.0)
        return
    options, said = dict(job.decode), ""
    for number, (chunk, samples) in enumerate(read_chunks(Path(job.audio), chunks)):
        audio = samples.astype(np.float32) / 32768.0
        if said:
            options["initial_prompt"] = said[-PROMPT_CHARACTERS:]
        pieces, info = model.transcribe(audio, **options)
        if number == 0:
            options["language"] = options.get("language") or info.language
            yield ("info", chunks[-1].end, str(info.language or ""))
        for message in _messages(pieces, chunk.start):
            said = f"{said} {message[3]}"[-PROMPT_CHARACTERS:]
            yield message


def _messages(pieces: Iterable, offset: float) -> Iterator[tuple]:
    """Yield a ("segment", ...) message per recognised piece, in episode time."""
    for piece in pieces:  # a generator: recognition happens while we iterate
        words = [
            (str(w.word), float(w.start) + offset, float(w.end) + offset)
            for w in (piece.words or [])
        ]
        yield (
            "segment",
            float(piece.start) + offset,
            float(piece.end) + offset,
            str(piece.text),
            words,
        )


def _die_with_parent() -> None:
    """Drop the parent's signal handlers and ask Linux to kill this child with its parent."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent still kills it on interrupt
        pass


def _child(conn: Connection, job: DecodeJob) -> None:
    """Decode in the child and send every message; an error goes back as ("error", text)."""
    _die_with_parent()
    try:
        for message in decode(job):
            conn.send(message)
        conn.send(("done",))
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        os._exit(0)  # a forked child must not run the parent's atexit handlers


def run_decode(
    job: DecodeJob, on_message: Callable[[tuple], None], checkpoint: Callable[[], None]
) -> None:
    """Decode `job` in a child process and pass each message to `on_message` as it arrives.

    `checkpoint` runs every POLL_SECONDS and raises to stop; the child is then killed and
    reaped before the exception goes on. Raises DecodeError with the child's error.
    """
    context = pool_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, job), name="whisper-decode")
    try:
        process.start()
    except POOL_UNAVAILABLE:
        receiver.close()
        sender.close()
        _decode_here(job, on_message, checkpoint)
        return
    sender.close()
    try:
        _relay(receiver, process, on_message, checkpoint)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(JOIN_SECONDS)


def _relay(
    receiver: Connection,
    process: Any,
    on_message: Callable[[tuple], None],
    checkpoint: Callable[[], None],
) -> None:
    """Pass the child's messages on until it is done; raise DecodeError on its error."""
    while True:
        checkpoint()
        if not receiver.poll(POLL_SECONDS):
            continue
        try:
            message = receiver.recv()
        except EOFError as exc:  # the child died without a word (killed, out of memory)
            process.join(JOIN_SECONDS)
            raise DecodeError(f"the decoding process ended (exit code {process.exitcode})") from exc
        if message[0] == "done":
            return
        if message[0] == "error":
            raise DecodeError(message[1])
        on_message(message)


def _decode_here(
    job: DecodeJob, on_message: Callable[[tuple], None], checkpoint: Callable[[], None]
) -> None:
    """Decode in this process, stopping between segments (when no child can be started)."""
    try:
        for message in decode(job):
            checkpoint()
            on_message(message)
    except (OSError, RuntimeError, ValueError) as exc:
        raise DecodeError(f"{type(exc).__name__}: {exc}") from exc
