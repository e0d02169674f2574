"""Synthesised speech cached per (text, engine, voice) under DATA_DIR/cache/tts/<sha256>.wav.

A rerun of stage 5 after a script edit speaks only the sections whose text changed; the
others are copied from the cache. Entries are written atomically and never expire (delete
the folder to reclaim the space).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

from services.atomic import atomic_output
from services.engines.tts.base import TTSEngine
from services.run.call import EngineCall

MIN_WAV_BYTES = 45  # a WAV header alone is 44 bytes


def cache_dir(data_dir: Path) -> Path:
    """Return the folder of cached speech."""
    return Path(data_dir) / "cache" / "tts"


def cache_key(engine: TTSEngine, text: str, voice: str | None) -> str:
    """Return the sha256 naming the speech of `text` by `engine` with `voice`."""
    variant = getattr(engine, "cache_variant", lambda: "")()
    identity = [engine.name, variant, voice or engine.default_voice, text]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()


class SpeechCache:
    """Speak through an engine, reusing earlier results for the same text, engine and voice."""

    def __init__(self, data_dir: Path, engine: TTSEngine, voice: str | None) -> None:
        self.folder = cache_dir(data_dir)
        self.engine = engine
        self.voice = voice
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def path(self, text: str) -> Path:
        """Return the cache file of `text`."""
        return self.folder / f"{cache_key(self.engine, text, self.voice)}.wav"

    def speak(self, text: str, out_path: Path, call: EngineCall) -> bool:
        """Write the speech of `text` to `out_path`; return True when it came from the cache."""
        cached = self.path(text)
        if cached.exists() and cached.stat().st_size >= MIN_WAV_BYTES:
            shutil.copyfile(cached, out_path)
            with self._lock:
                self.hits += 1
            return True
        self.engine.synthesise(text, out_path, self.voice, call)
        with atomic_output(cached) as tmp:
            shutil.copyfile(out_path, tmp)
        with self._lock:
            self.misses += 1
        return False
