"""A picture for an audio-only source (podcast, recording), so it becomes an ordinary video.

The picture is one still frame in the clips' uniform format (services.media.ffmpeg): the
source's cover art when it has one, else the waveform of the whole recording, above its title
and a label (the uploader, else "Audio"). The frame is encoded once as a single GOP; the video
is that GOP repeated (`-stream_loop`, stream copy) under the source's audio, so making it
costs about the same for a minute or for three hours of audio.
"""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from services.media.ffmpeg import OutputFormat, ProgressCallback, run_ffmpeg
from services.media.title_cards import (
    GLYPH_WIDTH,
    LABEL_COLOUR,
    LINE_SPACING,
    TEXT_COLOUR,
    blank_frame,
    font_file,
    repeated_frame_args,
)

VISUAL_TOP = 0.08  # the cover or waveform box: from 8% to 60% of the height
VISUAL_HEIGHT = 0.52
TEXT_TOP = 0.64  # the title below it, in the remaining third
WAVE_COLOUR = "0x8fb3ff"
TITLE_LINES = 2


def title_lines(title: str, width: int, font_size: int) -> list[str]:
    """Wrap a title into at most TITLE_LINES lines of the picture, cut with an ellipsis."""
    per_line = max(8, int(width * 0.86 / (font_size * GLYPH_WIDTH)))
    lines = textwrap.wrap(" ".join(title.split()), per_line) or [""]
    if len(lines) > TITLE_LINES:
        lines = lines[:TITLE_LINES]
        lines[-1] = lines[-1][: per_line - 2].rstrip(" .,;:") + " …"
    return lines


@dataclass(frozen=True)
class PictureSpec:
    """What the still shows: the title, a label line and where its visual comes from."""

    title: str
    label: str
    wave_audio: Path  # a (small) audio file to draw the waveform of
    cover: tuple[Path, int] | None = None  # (file, stream index) of cover art, if any

    @property
    def kind(self) -> str:
        """Return "cover" or "waveform": what the picture shows."""
        return "cover" if self.cover else "waveform"


def cover_stream(info: dict) -> int | None:
    """Return the index of a probed file's attached cover picture, or None."""
    for stream in info.get("streams", []):
        if stream.get("codec_type") == "video" and (stream.get("disposition") or {}).get(
            "attached_pic"
        ):
            return int(stream["index"])
    return None


def _text(stream, textfile: Path, size: int, colour: str, y: int):
    """Draw the words of `textfile` centred across the picture at height `y`."""
    options = {
        "textfile": str(textfile),
        "fontsize": size,
        "fontcolor": colour,
        "x": "(w-text_w)/2",
        "y": str(y),
        "expansion": "none",
    }
    if font := font_file():
        options["fontfile"] = font
    return stream.filter("drawtext", **options)


def _visual(spec: PictureSpec, width: int, height: int):
    """Return the cover art fitted into width x height, or the waveform drawn that size."""
    if spec.cover:
        path, index = spec.cover
        return (
            ffmpeg.input(str(path))[str(index)]
            .filter("trim", end_frame=1)
            .filter("scale", width, height, force_original_aspect_ratio="decrease")
        )
    return ffmpeg.input(str(spec.wave_audio)).audio.filter(
        "showwavespic", s=f"{width}x{height}", colors=WAVE_COLOUR, scale="sqrt"
    )


def still_gop_args(spec: PictureSpec, out: Path, fmt: OutputFormat, work_dir: Path) -> list[str]:
    """Return ffmpeg arguments that write one GOP of the still picture (no sound) to `out`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    w, h = fmt.width, fmt.height
    box_w, box_h = round(w * 0.88) // 2 * 2, round(h * VISUAL_HEIGHT) // 2 * 2
    picture = ffmpeg.overlay(
        blank_frame(fmt),
        _visual(spec, box_w, box_h),
        x="(main_w-overlay_w)/2",
        y=f"{round(h * VISUAL_TOP)}+({box_h}-overlay_h)/2",
    )
    title_size, label_size = max(8, h // 18), max(8, h // 30)
    y = round(h * TEXT_TOP)
    label_file = work_dir / "picture-label.txt"
    label_file.write_text(spec.label, encoding="utf-8")
    picture = _text(picture, label_file, label_size, LABEL_COLOUR, y)
    y += round(label_size * 1.8)
    for number, line in enumerate(title_lines(spec.title, w, title_size)):
        line_file = work_dir / f"picture-line{number:02d}.txt"
        line_file.write_text(line, encoding="utf-8")
        picture = _text(picture, line_file, title_size, TEXT_COLOUR, y)
        y += round(title_size * LINE_SPACING)
    return repeated_frame_args(picture, out, fmt, fmt.gop_frames)


def picture_video_args(
    gop: Path, source: Path, out: Path, seconds: float, audio_kwargs: dict
) -> list[str]:
    """Return ffmpeg arguments that put the repeated GOP under the source's first audio track."""
    return [
        "-stream_loop",
        "-1",
        "-i",
        str(gop),
        "-i",
        "file:" + str(source),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "copy",
        *[arg for key, value in audio_kwargs.items() for arg in (f"-{key}", str(value))],
        "-t",
        f"{seconds:.3f}",
        "-shortest",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    ]


def render_picture_video(
    spec: PictureSpec,
    source: Path,
    out: Path,
    seconds: float,
    fmt: OutputFormat,
    work_dir: Path,
    *,
    copy_audio: bool,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Write `out`: the still picture for `seconds`, with the source's audio (copied if it can)."""
    gop = work_dir / "picture-gop.mp4"
    if copy_audio:
        audio = {"c:a": "copy"}
    else:
        audio = {"c:a": "aac", "b:a": fmt.audio_bitrate, "ar": fmt.audio_rate}
    try:
        run_ffmpeg(
            still_gop_args(spec, gop, fmt, work_dir),
            cancel=cancel,
            what="Drawing the picture of the audio",
        )
        run_ffmpeg(
            picture_video_args(gop, source, out, seconds, audio),
            duration=seconds,
            on_progress=on_progress,
            cancel=cancel,
            what="Putting the picture under the audio",
        )
    finally:
        gop.unlink(missing_ok=True)
        for leftover in work_dir.glob("picture-*.txt"):
            leftover.unlink(missing_ok=True)
