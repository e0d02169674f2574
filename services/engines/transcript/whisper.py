"""The `faster-whisper` transcript engine: local Whisper models (CTranslate2), an optional extra.

Install with `pip install -r requirements-extras.txt`. WHISPER_MODEL names the model: a
local folder holding a converted model (model.bin, config.json...), or a size/name such as
`small` or `Systran/faster-whisper-small` already in the Hugging Face cache. Nothing is
downloaded at run time unless WHISPER_ALLOW_DOWNLOAD=1. Recognition uses word timestamps and
the built-in voice activity filter, so silences are skipped and clips can end on a word.
WHISPER_DEVICE (auto|cpu|cuda) and WHISPER_COMPUTE_TYPE (default|int8|float16...) tune it.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import ClassVar

from services.engines.base import engine_failure
from services.engines.clients.settings import env_flag, env_text
from services.engines.transcript.base import (
    DEFAULT_SPEAKER,
    TranscriptEngine,
    TranscriptResult,
    TranscriptSegment,
    TranscriptSource,
)
from services.run.call import EngineCall

DEFAULT_MODEL = "small"
INSTALL = "pip install -r requirements-extras.txt"


def model_setting() -> str:
    """Return WHISPER_MODEL (a folder or a model name), `small` by default."""
    return env_text("WHISPER_MODEL", DEFAULT_MODEL)


def locate_model(setting: str) -> tuple[str, str]:
    """Return (what to load, "") or ("", why the model cannot be used)."""
    path = Path(setting).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            return "", f"WHISPER_MODEL={setting} holds no model.bin (a CTranslate2 Whisper model)"
        return str(path), ""
    if path.is_absolute() or setting.startswith((".", "~")) or setting.count("/") > 1:
        return "", f"WHISPER_MODEL={setting} does not exist"
    # A size ("small") or a hub id ("Systran/faster-whisper-small"): only from the local cache.
    try:
        from faster_whisper.utils import download_model

        return str(download_model(setting, local_files_only=True)), ""
    except Exception:  # noqa: BLE001 - huggingface_hub raises several kinds of "not cached"
        if env_flag("WHISPER_ALLOW_DOWNLOAD"):
            return setting, ""
    return "", (
        f"the Whisper model {setting!r} is not on disk; download it once (e.g. "
        f"`huggingface-cli download Systran/faster-whisper-{setting.split('/')[-1]}"
        " --local-dir models/whisper`) and set WHISPER_MODEL to that folder, or set "
        "WHISPER_ALLOW_DOWNLOAD=1 to let Clipcast fetch it from the Hugging Face hub"
    )


class FasterWhisperEngine(TranscriptEngine):
    """Recognise speech with a local Whisper model through faster-whisper."""

    name: ClassVar[str] = "faster-whisper"
    description: ClassVar[str] = (
        "Local Whisper models (faster-whisper, optional extra): accurate, many languages, "
        "word timings; set WHISPER_MODEL to a model folder."
    )

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether faster-whisper and the configured model are installed."""
        if importlib.util.find_spec("faster_whisper") is None:
            return False, f"the faster-whisper package is not installed ({INSTALL})"
        _, problem = locate_model(model_setting())
        return (not problem, problem)

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Recognise the episode audio; progress is the audio seconds transcribed."""
        from faster_whisper import WhisperModel

        model_path, problem = locate_model(model_setting())
        if problem:
            raise engine_failure("transcript", self.name, problem, "WHISPER_MODEL")
        began = time.monotonic()
        model = WhisperModel(
            model_path,
            device=env_text("WHISPER_DEVICE", "auto"),
            compute_type=env_text("WHISPER_COMPUTE_TYPE", "default"),
            cpu_threads=call.parallel_jobs,
            local_files_only=not env_flag("WHISPER_ALLOW_DOWNLOAD"),
        )
        call.logger.info("Loaded Whisper model %s in %.1f s", model_path, time.monotonic() - began)
        language = (source.language or "").split("-")[0].lower() or None
        pieces, info = model.transcribe(
            str(source.audio),
            language=language if language and len(language) == 2 else None,
            word_timestamps=True,
            vad_filter=True,
        )
        duration = float(getattr(info, "duration", 0.0) or 0.0)
        segments: list[TranscriptSegment] = []
        for piece in pieces:  # a generator: recognition happens while we iterate
            call.checkpoint()
            text = " ".join(str(piece.text).split())
            if not text:
                continue
            segment = TranscriptSegment(
                start=float(piece.start), end=float(piece.end), text=text, speaker=DEFAULT_SPEAKER
            )
            words = [
                {"word": str(w.word).strip(), "start": float(w.start), "end": float(w.end)}
                for w in (piece.words or [])
                if str(w.word).strip()
            ]
            if words:
                segment["words"] = words  # type: ignore[typeddict-item]
            segments.append(segment)
            if duration:
                call.report(min(1.0, float(piece.end) / duration), f"transcribed {piece.end:.0f} s")
        detected = str(getattr(info, "language", "") or language or "en")
        call.logger.info(
            "Whisper found %d segments (language %s) in %.1f s",
            len(segments),
            detected,
            time.monotonic() - began,
        )
        return TranscriptResult(segments=segments, language=detected)
