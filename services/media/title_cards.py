"""Title cards: the narration's words on a dark card, picture-only, in the clip format."""

from __future__ import annotations

import math
import shutil
import subprocess
import textwrap
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import ffmpeg

from services.media.ffmpeg import OutputFormat, ProgressCallback, compile_args, run_ffmpeg

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BACKGROUND = "0x15171e"
TEXT_COLOUR = "0xf0f0f0"
LABEL_COLOUR = "0x8fb3ff"
# Rough average glyph width of DejaVu Sans as a fraction of the font size.
GLYPH_WIDTH = 0.56
LINE_SPACING = 1.35


@dataclass(frozen=True)
class CardText:
    """The wrapped body text of a card and the font sizes that make it fit."""

    lines: tuple[str, ...]
    font_size: int
    label_size: int


@lru_cache(maxsize=1)
def font_file() -> str | None:
    """Return DejaVu Sans, else fontconfig's default sans font file, else None (drawtext's own)."""
    if FONT_FILE.exists():
        return str(FONT_FILE)
    if shutil.which("fc-match"):
        result = subprocess.run(
            ["fc-match", "-f", "%{file}", "sans"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return None


def layout_text(text: str, width: int, height: int) -> CardText:
    """Wrap `text` to the card, shrinking the font until it fits; cut the rest with an ellipsis."""
    text = " ".join(text.split())
    largest, smallest = max(8, height // 13), max(8, height // 30)
    size = largest
    lines: list[str] = []
    max_lines = 1
    for size in range(largest, smallest - 1, -1):
        per_line = max(8, int(width * 0.86 / (size * GLYPH_WIDTH)))
        lines = textwrap.wrap(text, per_line) if text else []
        max_lines = max(1, int(height * 0.66 / (size * LINE_SPACING)))
        if len(lines) <= max_lines:
            break
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" .,;:") + " …"
    return CardText(tuple(lines), size, max(8, round(height / 24)))


def _drawtext(stream, textfile: Path, size: int, colour: str, x: str, y: str):
    """Add one drawtext filter reading its words from `textfile` (never from the filter string)."""
    options = {
        "textfile": str(textfile),
        "fontsize": size,
        "fontcolor": colour,
        "x": x,
        "y": y,
        "expansion": "none",
    }
    font = font_file()
    if font:
        options["fontfile"] = font
    return stream.filter("drawtext", **options)


def card_args(
    text: str, label: str, out: Path, fmt: OutputFormat, frames: int, work_dir: Path
) -> list[str]:
    """Return ffmpeg arguments that write `frames` frames of one card (picture only).

    The card is drawn once and its frame repeated (`loop`), so drawing costs one frame
    whatever the length; x264 then sees identical frames, which it encodes quickly.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = out.stem
    layout = layout_text(text, fmt.width, fmt.height)
    video = blank_frame(fmt)
    margin = round(fmt.width * 0.06)
    label_file = work_dir / f"{stem}-label.txt"
    label_file.write_text(label, encoding="utf-8")
    video = _drawtext(video, label_file, layout.label_size, LABEL_COLOUR, str(margin), str(margin))
    video = video.filter(
        "drawbox",
        x=margin,
        y=margin + round(layout.label_size * 1.5),
        w=round(fmt.width * 0.12),
        h=max(2, fmt.height // 120),
        color=LABEL_COLOUR,
        t="fill",
    )
    step = layout.font_size * LINE_SPACING
    top = (fmt.height - step * len(layout.lines)) / 2 + layout.label_size
    for index, line in enumerate(layout.lines):
        line_file = work_dir / f"{stem}-line{index:02d}.txt"
        line_file.write_text(line, encoding="utf-8")
        video = _drawtext(
            video,
            line_file,
            layout.font_size,
            TEXT_COLOUR,
            "(w-text_w)/2",
            str(round(top + index * step)),
        )
    return repeated_frame_args(video, out, fmt, frames, movflags="+faststart")


def blank_frame(fmt: OutputFormat) -> ffmpeg.nodes.FilterableStream:
    """Return one frame of the background colour in the format's size, to draw on."""
    return (
        ffmpeg.input(f"color=c={BACKGROUND}:s={fmt.width}x{fmt.height}:r={fmt.rate}", f="lavfi")
        .video.filter("trim", end_frame=1)
        .filter("setpts", "PTS-STARTPTS")
    )


def repeated_frame_args(
    picture: ffmpeg.nodes.FilterableStream, out: Path, fmt: OutputFormat, frames: int, **extra
) -> list[str]:
    """Return ffmpeg arguments that encode one drawn frame `frames` times in the format."""
    picture = (
        picture.filter("setsar", "1")
        .filter("format", "yuv420p")
        .filter("loop", loop=frames - 1, size=1, start=0)
        .filter("setpts", f"N/(({fmt.rate})*TB)")
    )
    return compile_args(
        ffmpeg.output(
            picture,
            str(out),
            an=None,
            map_metadata=-1,
            video_track_timescale=90000,
            **{"frames:v": frames},
            **extra,
            **fmt.video_kwargs(),
        )
    )


def card_frames(narration_seconds: float, fps: Fraction | int) -> int:
    """Return the card length in frames: the narration's, rounded up to whole frames."""
    return max(1, math.ceil(narration_seconds * fps - 1e-6))


def card_pieces(frames: int, gop: int) -> list[int]:
    """Split a card of `frames` into pieces of whole GOPs plus one tail (frame counts).

    A card longer than two GOPs is one `gop`-frame piece repeated, then a tail of between
    one and two GOPs: the join lists the repeated piece several times, so a card costs at
    most three GOPs of encoding whatever its length.
    """
    if frames <= 2 * gop:
        return [frames]
    repeats = frames // gop - 1
    return [gop] * repeats + [frames - repeats * gop]


def render_card(
    text: str,
    label: str,
    out: Path,
    fmt: OutputFormat,
    frames: int,
    work_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Render `frames` frames of one title card to `out` (an intermediate, not an artifact)."""
    run_ffmpeg(
        card_args(text, label, out, fmt, frames, work_dir),
        duration=fmt.seconds_of(frames),
        on_progress=on_progress,
        cancel=cancel,
        what=f"Rendering the card of {out.stem}",
    )
