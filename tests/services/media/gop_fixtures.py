"""Tiny H.264 sources with B-frames and one-second GOPs for smart cutting.

Kinds: closed GOPs, open GOPs (leading B-frames after some keyframes), an edit list (the
file starts 0.52 s into its first GOP; the frames before are hidden), a timestamp offset
(the picture starts 0.2 s after the sound), and no B-frames at all.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

FPS = 25
# A white square and a beep, together, at these source times: sync markers.
MARKS = (2.4, 5.4)


def make_gop_video(
    path: Path, *, open_gop: bool, seconds: float = 6.0, bframes: int = 3, rate: str = str(FPS)
) -> Path:
    """Write a 320x240 25 fps H.264 (High, 3 B-frames, keyframe every second) + AAC mp4.

    The picture flashes a white square in its top left corner and the sound beeps at MARKS.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    flash = "+".join(f"between(t,{t},{t + 0.5 / FPS})" for t in MARKS)
    beep = "+".join(f"between(t,{t},{t + 1 / FPS})" for t in MARKS)
    gop = round(Fraction(rate))  # a keyframe every second
    x264 = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:open-gop={int(open_gop)}"
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
            f"testsrc2=size=320x240:rate={rate}:duration={seconds},"
            f"drawbox=x=0:y=0:w=64:h=64:color=white:t=fill:enable='{flash}'",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=48000:duration={seconds},"
            f"volume=0:enable='not({beep})'",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-x264-params",
            x264,
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


def _remux(source: Path, out: Path, args: list[str]) -> Path:
    """Copy `source` into `out` with extra ffmpeg arguments (no re-encoding)."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, "-c", "copy", str(out)],
        check=True,
    )
    source.unlink()
    return out


def make_source(path: Path, kind: str, seconds: float = 6.0) -> Path:
    """Write a source of one kind: closed, open, edit_list, offset or no_bframes."""
    if kind in ("closed", "open"):
        return make_gop_video(path, open_gop=kind == "open", seconds=seconds)
    if kind == "no_bframes":  # as x264's ultrafast writes: nothing reordered
        return make_gop_video(path, open_gop=False, seconds=seconds, bframes=0)
    base = make_gop_video(path.with_name(f"base-{path.name}"), open_gop=False, seconds=seconds)
    if kind == "edit_list":
        return _remux(base, path, ["-ss", "0.52", "-i", str(base)])
    offset = ["-itsoffset", "0.2", "-i", str(base), "-i", str(base), "-map", "0:v", "-map", "1:a"]
    return _remux(base, path, offset)
