"""Tiny audio-only test media: espeak-ng speech encoded to mp3, m4a, ogg/opus, flac or wav."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.media import make_speech_wav

# Extension -> ffmpeg audio encoder options.
ENCODERS = {
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "48k"],
    ".m4a": ["-c:a", "aac", "-b:a", "48k"],
    ".ogg": ["-c:a", "libopus", "-b:a", "24k"],
    ".opus": ["-c:a", "libopus", "-b:a", "24k"],
    ".flac": ["-c:a", "flac"],
    ".wav": ["-c:a", "pcm_s16le"],
}
TEXT = "Welcome to the garden podcast. Today we talk about tomatoes."


def make_speech_audio(path: Path, text: str = TEXT, cover: bool = False) -> Path:
    """Write espeak-ng speech encoded by the file's extension (an mp3 may carry cover art)."""
    wav = make_speech_wav(path.with_name(path.stem + "-speech.wav"), text)
    picture = ["-f", "lavfi", "-i", "testsrc2=s=160x160:d=1"] if cover else []
    maps = ["-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:v", "mjpeg"] if cover else []
    disposition = ["-disposition:v", "attached_pic"] if cover else []
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), *picture]
        + [*maps, *ENCODERS[path.suffix], *disposition, str(path)],
        check=True,
    )
    wav.unlink()
    return path
