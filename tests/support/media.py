"""Generate tiny test media with ffmpeg's lavfi sources and espeak-ng."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_video(
    path: Path, seconds: float = 6.0, size: str = "320x240", rate: int = 25, tone: bool = True
) -> Path:
    """Write an mp4 with a moving test pattern and a sine tone (or silence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = (
        f"sine=frequency=440:sample_rate=48000:duration={seconds}"
        if tone
        else f"anullsrc=r=48000:cl=stereo:d={seconds}"
    )
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            audio,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    return path


def make_speech_wav(path: Path, text: str, voice: str = "en-us", speed: int = 160) -> Path:
    """Write a WAV of espeak-ng speaking `text`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), "--stdin"],
        input=text,
        text=True,
        check=True,
    )
    return path


def ffprobe_json(path: Path, count_frames: bool = False) -> dict:
    """Return ffprobe's format/streams JSON of a file (decoding it to count frames if asked)."""
    import json

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *(["-count_frames"] if count_frames else []),
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-show_chapters",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)
