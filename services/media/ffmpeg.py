"""ffmpeg/ffprobe helpers: probing, the uniform output format, runs with measured progress."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import threading
import wave
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg  # ffmpeg-python: builds argument lists; we run them ourselves for progress

from services.run.errors import InvalidInputError, StageInterrupted, ToolError

ProgressCallback = Callable[[float], None]


class FFmpegError(ToolError):
    """ffmpeg or ffprobe failed; the message ends with the tool's last stderr line."""


def require_tool(name: str) -> str:
    """Return the path of an executable or fail with how to install it."""
    path = shutil.which(name)
    if not path:
        raise ToolError(
            f"{name} is not installed.", hint=f"Install it (Debian: apt-get install {name})."
        )
    return path


def probe(path: Path) -> dict:
    """Return ffprobe's JSON description (format and streams) of a media file."""
    require_tool("ffprobe")
    cmd = [
        "ffprobe",
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-show_chapters",
        "file:" + str(path),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = _last_line(result.stderr) or "no details"
        raise InvalidInputError(f"{Path(path).name} is not readable media: {last}")
    return json.loads(result.stdout or "{}")


def media_duration(path: Path) -> float:
    """Return a media file's duration in seconds (0.0 when unknown)."""
    info = probe(path)
    try:
        return float(info.get("format", {}).get("duration") or 0.0)
    except ValueError:
        return 0.0


def audio_seconds(path: Path) -> float:
    """Return the length of a WAV file in seconds (ffprobe for WAVs the wave module rejects)."""
    try:
        with wave.open(str(path), "rb") as source:
            return source.getnframes() / float(source.getframerate())
    except (wave.Error, EOFError):
        return media_duration(path)


def stream_of(info: dict, codec_type: str) -> dict | None:
    """Return the first stream of a kind (video/audio/subtitle) from probe output."""
    return next((s for s in info.get("streams", []) if s.get("codec_type") == codec_type), None)


def failure_reason(stderr: str, path: Path, shown_name: str, default: str) -> str:
    """Return a tool's last stderr line with our internal path replaced by the user's name."""
    reason = _last_line(stderr) or default
    return reason.replace("file:" + str(path), shown_name).replace(str(path), shown_name)


def _last_line(text: str) -> str:
    """Return the last non-empty line of a tool's output."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


# ffmpeg's "fast" AAC coder: about twice the speed of the default "twoloop" here, and
# transparent for speech and programme audio at 160 kb/s.
AAC_CODER = "fast"


NTSC_RATES = (24, 30, 60)  # whole rates that also come slowed by 1000/1001 (23.976, 29.97...)


def uniform_rate(measured: Fraction) -> Fraction:
    """Return the clips' frame rate for a source's: NTSC rates exactly, else whole, 1-60."""
    if measured <= 0:
        return Fraction(30)
    nominal = round(measured)
    ntsc = Fraction(nominal * 1000, 1001)
    if nominal in NTSC_RATES and abs(measured - ntsc) < Fraction(1, 1000):
        return ntsc
    return Fraction(max(1, min(60, nominal)))


@dataclass(frozen=True)
class OutputFormat:
    """The one uniform format of clips, cards and the final video, so joins need no re-encode."""

    width: int = 1280
    height: int = 720
    fps: Fraction | int = 30  # frames a second, exact: 30000/1001 for NTSC's 29.97
    crf: int = 23
    preset: str = "veryfast"
    audio_rate: int = 48000
    audio_channels: int = 2
    audio_bitrate: str = "160k"

    @classmethod
    def for_source(cls, info: dict, max_height: int = 720, **overrides) -> OutputFormat:
        """Choose a format from the source: its aspect ratio and fps, at most `max_height`."""
        video = stream_of(info, "video") or {}
        src_w = int(video.get("width") or 1280)
        src_h = int(video.get("height") or 720)
        height = min(max_height, src_h)
        height -= height % 2
        width = round(src_w * height / src_h)
        width -= width % 2
        rate = video.get("avg_frame_rate") or video.get("r_frame_rate") or "30/1"
        try:
            fps = uniform_rate(Fraction(rate))
        except (ValueError, ZeroDivisionError):
            fps = Fraction(30)
        return cls(width=max(width, 2), height=max(height, 2), fps=fps, **overrides)

    @classmethod
    def for_run(cls, info: dict, output_settings: dict) -> OutputFormat:
        """Choose the format from the source and the run's `output_settings` (max_height, crf)."""
        overrides = {"crf": output_settings["crf"]} if "crf" in output_settings else {}
        return cls.for_source(info, max_height=output_settings.get("max_height", 720), **overrides)

    def video_filter(self) -> str:
        """Return the filter that fits any picture into this format (letterboxed)."""
        return (
            f"scale={self.width}:{self.height}:force_original_aspect_ratio=decrease,"
            f"pad={self.width}:{self.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={self.fps}"
        )

    def video_kwargs(self) -> dict:
        """Return ffmpeg-python options of the uniform video encoding.

        Every piece of the final (clip or card) is encoded with exactly these, so their H.264
        parameter sets match and the join is a stream copy.
        """
        return {
            "vcodec": "libx264",
            "preset": self.preset,
            "crf": self.crf,
            "pix_fmt": "yuv420p",
            "r": self.fps,
            "g": self.gop_frames,
        }

    def audio_kwargs(self) -> dict:
        """Return ffmpeg-python options of the uniform audio encoding."""
        return {
            "acodec": "aac",
            "aac_coder": AAC_CODER,
            "ar": self.audio_rate,
            "ac": self.audio_channels,
            "audio_bitrate": self.audio_bitrate,
        }

    @property
    def gop_frames(self) -> int:
        """Return the keyframe interval: two seconds (60 frames at 29.97)."""
        return round(self.fps * 2)

    @property
    def rate(self) -> str:
        """Return the frame rate as ffmpeg takes it: "25", "30000/1001"."""
        return str(Fraction(self.fps))

    @property
    def rate_ratio(self) -> str:
        """Return the frame rate as ffprobe reports it: "25/1", "30000/1001"."""
        exact = Fraction(self.fps)
        return f"{exact.numerator}/{exact.denominator}"

    @property
    def rate_label(self) -> str:
        """Return the frame rate for people: "25", "29.97", "23.976"."""
        return f"{float(self.fps):.5g}"

    def seconds_of(self, frames: int) -> float:
        """Return how long `frames` frames last, in seconds."""
        return float(frames / Fraction(self.fps))

    def to_json(self) -> dict:
        """Return the format as JSON data (a whole frame rate as a number, else "n/d")."""
        exact = Fraction(self.fps)
        rate = exact.numerator if exact.denominator == 1 else self.rate_ratio
        return {**dataclasses.asdict(self), "fps": rate}

    def output_kwargs(self) -> dict:
        """Return ffmpeg-python output options of a uniform mp4 with picture and sound."""
        return {
            **self.video_kwargs(),
            **self.audio_kwargs(),
            "movflags": "+faststart",
            "video_track_timescale": 90000,
        }


def compile_args(stream: ffmpeg.nodes.OutputStream) -> list[str]:
    """Return the argument list (without the `ffmpeg` word) of an ffmpeg-python graph."""
    return stream.compile(cmd="ffmpeg")[1:]


def parse_progress_line(line: str, total_seconds: float | None) -> float | None:
    """Turn one line of ffmpeg's `-progress` output into a fraction done, if it carries one."""
    key, _, value = line.strip().partition("=")
    if key == "progress" and value == "end":
        return 1.0
    if key in ("out_time_us", "out_time_ms") and total_seconds and total_seconds > 0:
        try:
            micros = int(value)
        except ValueError:
            return None
        # ffmpeg reports out_time_ms in microseconds too (a long-standing misnomer).
        return max(0.0, min(1.0, micros / 1_000_000 / total_seconds))
    return None


# ffmpeg's closing words after a failure; the line before them says what went wrong.
GENERIC_FAILURE_LINES = (
    "Conversion failed!",
    "Error while processing the decoded data",
    "Failed to inject frame into filter network",
    "Error reinitializing filters!",
    "Error marking filters as finished",
    "Error while filtering",
)


def telling_line(stderr: str) -> str:
    """Return ffmpeg's last stderr line that says more than "Conversion failed!"."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(GENERIC_FAILURE_LINES):
            return line
    return lines[-1] if lines else ""


def run_ffmpeg(
    args: Sequence[str],
    *,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    what: str = "ffmpeg",
    loglevel: str = "error",
) -> str:
    """Run ffmpeg with `args`, reporting progress from `-progress`; return its stderr.

    `loglevel="info"` keeps what filters report there (ebur128's summary); failures raise
    FFmpegError ending with ffmpeg's most telling stderr line.
    """
    require_tool("ffmpeg")
    cmd = [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        loglevel,
        "-progress",
        "pipe:1",
        "-nostats",
        *args,
    ]
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    stderr_tail: deque[str] = deque(maxlen=2000)
    reader = threading.Thread(
        target=lambda: stderr_tail.extend(process.stderr),
        daemon=True,  # type: ignore[arg-type]
    )
    reader.start()
    last = -1.0
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if cancel is not None and cancel.is_set():
                process.terminate()
                raise StageInterrupted("interrupted by the user")
            fraction = parse_progress_line(line, duration)
            if fraction is not None and on_progress and fraction > last:
                last = fraction
                on_progress(fraction)
        returncode = process.wait()
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
    reader.join(timeout=5)
    text = "".join(stderr_tail)
    if returncode != 0:
        raise FFmpegError(f"{what} failed: {telling_line(text) or f'exit code {returncode}'}")
    if on_progress and last < 1.0:
        on_progress(1.0)
    return text


def run_tool(cmd: Sequence[str], *, what: str, input_text: str | None = None) -> str:
    """Run a non-ffmpeg tool (argument list, no shell); return stdout or raise ToolError."""
    require_tool(cmd[0])
    result = subprocess.run(
        list(cmd), input=input_text, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = (
            _last_line(result.stderr)
            or _last_line(result.stdout)
            or f"exit code {result.returncode}"
        )
        raise ToolError(f"{what} failed: {tail}")
    return result.stdout
