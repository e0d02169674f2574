"""Narration intelligibility: a script spoken by each voice, heard back by speech recognition.

The word error rate of the recogniser on a voice's speech is a proxy for how clearly that
voice speaks: the lower, the clearer.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from evaluation.transcription import transcribe_wav
from evaluation.wer import WerCounts, count_errors
from services.engines.registry import engine_class
from services.engines.transcript.base import TranscriptEngine
from services.run.call import EngineCall


def to_16k_mono(source: Path, out: Path) -> Path:
    """Write `source` as the 16 kHz mono 16-bit WAV the recognisers read."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source)]
    command += ["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out)]
    subprocess.run(command, check=True)
    return out


def voice_errors(tts_name: str, texts: list[str], listener: TranscriptEngine) -> WerCounts | None:
    """Speak each text with TTS engine `tts_name` and count the listener's errors."""
    cls = engine_class("tts", tts_name)
    if not cls.availability()[0]:
        return None
    engine = cls()
    total = WerCounts()
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in enumerate(texts):
            spoken = Path(tmp) / f"{n}.wav"
            engine.synthesise(text, spoken, None, EngineCall())
            heard, _ = transcribe_wav(listener, to_16k_mono(spoken, Path(tmp) / f"{n}-16k.wav"))
            total = total + count_errors(text, heard)
    return total
