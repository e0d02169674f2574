"""Generate tiny test media with ffmpeg's lavfi sources and espeak-ng."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

# Output options of a small, fast H.264 video track.
FAST_H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def pattern(seconds: float, size: str = "320x240", rate: int | str = 25) -> str:
    """Return a lavfi source of a moving test pattern."""
    return f"testsrc2=size={size}:rate={rate}:duration={seconds}"


def sine(seconds: float, frequency: int = 440, rate: int = 48000) -> str:
    """Return a lavfi source of a sine tone (mono)."""
    return f"sine=frequency={frequency}:sample_rate={rate}:duration={seconds}"


def silence(seconds: float, rate: int = 48000, layout: str = "stereo") -> str:
    """Return a lavfi source of digital silence."""
    return f"anullsrc=r={rate}:cl={layout}:d={seconds}"


def lavfi(path: Path, *sources: str, output: Sequence[str] = ()) -> Path:
    """Write `path` from lavfi sources (one ffmpeg input each) with `output` options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs = [arg for source in sources for arg in ("-f", "lavfi", "-i", source)]
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *inputs, *output, str(path)]
    subprocess.run(command, check=True)
    return path


def make_video(
    path: Path, seconds: float = 6.0, size: str = "320x240", rate: int | str = 25, tone: bool = True
) -> Path:
    """Write an mp4 with a moving test pattern and a sine tone (or silence)."""
    audio = sine(seconds) if tone else silence(seconds)
    output = [*FAST_H264, "-c:a", "aac", "-shortest"]
    return lavfi(path, pattern(seconds, size, rate), audio, output=output)


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
