"""The synthetic talks `make bench` runs on, generated once and cached in `.bench/`."""

from __future__ import annotations

from pathlib import Path

from services.sources.sample import generate_sample

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"


def sample_video(minutes: float = 2) -> Path:
    """Return the cached synthetic talk of `minutes` (and its .en.vtt), made once."""
    path = CACHE / f"talk-{minutes:g}min.mp4"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        generate_sample(path, minutes=minutes)
    return path
