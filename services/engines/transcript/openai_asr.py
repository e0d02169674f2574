"""The `openai` transcript engine: any OpenAI-compatible /v1/audio/transcriptions endpoint.

Settings: ASR_BASE_URL, ASR_API_KEY, ASR_MODEL (default whisper-1), each falling back to the
LLM_* setting of the same name except the model. The episode's 16 kHz mono WAV is sent in
chunks of at most ASR_CHUNK_SECONDS (default 600 s, about 19 MB: under the 25 MB upload
limit), cut at the quietest moment near each chunk's end; `verbose_json` answers give
segments and word timestamps, which are moved by the chunk's offset into episode time.
"""

from __future__ import annotations

import io
import wave
from typing import ClassVar

import numpy as np

from services.engines.base import engine_failure
from services.engines.clients.http import ApiError, RetryPolicy, call_api
from services.engines.clients.settings import asr_endpoint, env_number
from services.engines.transcript.base import (
    DEFAULT_SPEAKER,
    TranscriptEngine,
    TranscriptResult,
    TranscriptSegment,
    TranscriptSource,
    TranscriptWord,
)
from services.engines.transcript.wav_chunks import chunk_wav, open_wav, read_chunks
from services.run.call import EngineCall
from services.run.errors import ToolError

SETTINGS = "ASR_BASE_URL, ASR_API_KEY and ASR_MODEL (or LLM_BASE_URL and LLM_API_KEY)"
UPLOAD_LIMIT = 25 * 1024 * 1024
MAX_CHUNK_SECONDS = 750.0  # 16 kHz 16-bit mono: 24 MB, under the upload limit


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """Return 16-bit mono samples as a WAV file in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def _number(value: object) -> float | None:
    """Return a finite number or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) else None


def parse_verbose(data: dict, offset: float, span: float) -> list[TranscriptSegment]:
    """Return segments (with their words) of one verbose_json answer, in episode time."""
    words: list[TranscriptWord] = []
    for item in data.get("words") or []:
        start, end = _number(item.get("start")), _number(item.get("end"))
        text = str(item.get("word") or "").strip()
        if text and start is not None and end is not None:
            words.append({"word": text, "start": offset + start, "end": offset + max(end, start)})
    segments: list[TranscriptSegment] = []
    for item in data.get("segments") or []:
        start, end = _number(item.get("start")), _number(item.get("end"))
        text = " ".join(str(item.get("text") or "").split())
        if text and start is not None and end is not None:
            segments.append(
                TranscriptSegment(
                    start=offset + start,
                    end=offset + max(end, start),
                    text=text,
                    speaker=DEFAULT_SPEAKER,
                )
            )
    if not segments and " ".join(str(data.get("text") or "").split()):
        first = words[0]["start"] if words else offset
        last = words[-1]["end"] if words else offset + span
        segments.append(
            TranscriptSegment(
                start=first, end=last, text=" ".join(data["text"].split()), speaker=DEFAULT_SPEAKER
            )
        )
    for segment in segments:  # each word goes to the segment its middle falls in
        inside = [
            w
            for w in words
            if segment["start"] - 0.01 <= (w["start"] + w["end"]) / 2 <= segment["end"] + 0.01
        ]
        if inside:
            segment["words"] = inside
    return segments


class OpenAITranscriptEngine(TranscriptEngine):
    """Transcribe with an OpenAI-compatible speech-to-text server (Whisper API and clones)."""

    name: ClassVar[str] = "openai"
    description: ClassVar[str] = (
        "Hosted speech recognition through any OpenAI-compatible /v1/audio/transcriptions "
        "endpoint (OpenAI Whisper, faster-whisper-server, Groq...); set ASR_BASE_URL/ASR_API_KEY."
    )

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether a transcription endpoint is configured."""
        missing = asr_endpoint().missing()
        return (not missing, missing)

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Send the audio in chunks; return the segments with words, in episode time."""
        endpoint = asr_endpoint()
        with open_wav(source.audio) as audio:
            rate = audio.getframerate()
        limit = env_number("ASR_CHUNK_SECONDS", 600.0, 1.0, MAX_CHUNK_SECONDS)
        limit = min(limit, (UPLOAD_LIMIT - 1024) / (2 * rate))
        chunks = chunk_wav(source.audio, limit)
        total = chunks[-1].end
        call.logger.info(
            "Sending %.1f s of audio to %s in %d chunk(s)", total, endpoint.describe(), len(chunks)
        )
        language = (source.language or "").split("-")[0].lower()
        policy = RetryPolicy.from_env(timeout_default=600.0)
        segments: list[TranscriptSegment] = []
        for number, (chunk, piece) in enumerate(read_chunks(source.audio, chunks), 1):
            call.checkpoint()
            form = {
                "model": endpoint.model,
                "response_format": "verbose_json",
                "timestamp_granularities[]": ["segment", "word"],
            }
            if len(language) == 2:
                form["language"] = language
            try:
                response = call_api(
                    endpoint,
                    "/audio/transcriptions",
                    data=form,
                    files={"file": (f"chunk{number:03d}.wav", wav_bytes(piece, rate), "audio/wav")},
                    policy=policy,
                    call=call,
                    what=f"transcription chunk {number}/{len(chunks)}",
                )
                data = response.json()
            except ApiError as exc:
                raise _failure(exc) from exc
            except ValueError as exc:
                raise _failure(f"the answer to chunk {number} was not JSON", ToolError) from exc
            if not isinstance(data, dict):
                raise _failure(f"the answer to chunk {number} was not a JSON object", ToolError)
            found = parse_verbose(data, chunk.start, chunk.end - chunk.start)
            call.usage({"engine": self.name, "model": endpoint.model, "requests": 1})
            call.logger.info(
                "Chunk %d/%d (%.1f-%.1f s): %d segments",
                number,
                len(chunks),
                chunk.start,
                chunk.end,
                len(found),
            )
            segments += found
            call.report(
                chunk.end / total if total else 1.0, f"transcribed {chunk.end:.0f} of {total:.0f} s"
            )
        return TranscriptResult(segments=segments, language=language or "en")


def _failure(problem: object, cls: type | None = None) -> Exception:
    """Return the stage error naming the engine, the settings and the fallback engine."""

    return engine_failure("transcript", "openai", problem, SETTINGS, cls)
