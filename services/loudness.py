"""Loudness: two-pass EBU R128 `loudnorm` (measure, then apply) and an `ebur128` meter."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.media import (
    AAC_CODER,
    FFmpegError,
    ProgressCallback,
    parse_progress_line,
    require_tool,
)
from services.stages.base import StageInterrupted

TARGET_I = -16.0  # LUFS, integrated
TARGET_TP = -1.5  # dBTP, true peak
TARGET_LRA = 11.0  # LU, loudness range
SILENCE_LUFS = -70.0  # below this there is nothing to normalise


@dataclass(frozen=True)
class LoudnessMeasurement:
    """What the first loudnorm pass measured."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    @property
    def silent(self) -> bool:
        """Tell whether the audio is (near) silence, which loudnorm cannot measure."""
        return not self.input_i > SILENCE_LUFS


def run_ffmpeg_info(
    args: Sequence[str],
    *,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    what: str = "ffmpeg",
) -> str:
    """Run ffmpeg at log level info (filters print their reports there); return its stderr."""
    require_tool("ffmpeg")
    cmd = [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-y",
        "-nostats",
        "-v",
        "info",
        "-progress",
        "pipe:1",
        *args,
    ]
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    stderr: deque[str] = deque(maxlen=2000)
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)
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
    text = "".join(stderr)
    if returncode != 0:
        raise FFmpegError(f"{what} failed: {telling_line(text) or f'exit code {returncode}'}")
    if on_progress and last < 1.0:
        on_progress(1.0)
    return text


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


def _number(value: object) -> float:
    """Read one of loudnorm's JSON numbers ("-inf" included)."""
    try:
        return float(str(value).strip())
    except ValueError:
        return float("-inf")


def parse_loudnorm_report(stderr: str) -> LoudnessMeasurement:
    """Extract loudnorm's `print_format=json` report from ffmpeg's stderr."""
    start = stderr.rfind("[Parsed_loudnorm")
    match = re.search(r"\{.*?\}", stderr[start:] if start >= 0 else stderr, re.DOTALL)
    if not match:
        raise FFmpegError("loudness measurement failed: ffmpeg printed no loudnorm report")
    data = json.loads(match.group(0))
    return LoudnessMeasurement(
        input_i=_number(data.get("input_i")),
        input_tp=_number(data.get("input_tp")),
        input_lra=_number(data.get("input_lra")),
        input_thresh=_number(data.get("input_thresh")),
        target_offset=_number(data.get("target_offset")),
    )


def _targets() -> str:
    """Return the loudnorm target options."""
    return f"I={TARGET_I}:TP={TARGET_TP}:LRA={TARGET_LRA}"


def measure_loudness(
    path: Path,
    *,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> LoudnessMeasurement:
    """First pass: measure the first audio track of `path` with loudnorm."""
    stderr = run_ffmpeg_info(
        [
            "-i",
            f"file:{path}",
            "-map",
            "0:a:0",
            "-af",
            f"loudnorm={_targets()}:print_format=json",
            "-f",
            "null",
            "-",
        ],
        duration=duration,
        on_progress=on_progress,
        cancel=cancel,
        what="Measuring loudness",
    )
    return parse_loudnorm_report(stderr)


def loudnorm_filter(measured: LoudnessMeasurement, sample_rate: int = 48000) -> str | None:
    """Return the second-pass audio filter, or None for silence (left as it is)."""
    if measured.silent:
        return None
    return (
        f"loudnorm={_targets()}:measured_I={measured.input_i:.2f}"
        f":measured_TP={measured.input_tp:.2f}:measured_LRA={measured.input_lra:.2f}"
        f":measured_thresh={measured.input_thresh:.2f}:offset={measured.target_offset:.2f}"
        f":linear=true:print_format=summary,aresample={sample_rate}"
    )


@dataclass(frozen=True)
class LoudnessResult:
    """What the second loudnorm pass reported about its output."""

    output_i: float
    normalization: str  # linear | dynamic | none (silence, left alone)


def apply_loudness(
    src: Path,
    dst: Path,
    measured: LoudnessMeasurement,
    *,
    audio_src: Path | None = None,
    metadata_file: Path | None = None,
    sample_rate: int = 48000,
    channels: int = 2,
    audio_bitrate: str = "160k",
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> LoudnessResult:
    """Second pass: write `dst` with normalised AAC audio and the video stream copied.

    The audio comes from `audio_src` when given (else from `src`); `metadata_file`
    (ffmetadata) supplies the global tags and chapters of `dst`.
    """
    args = ["-i", f"file:{src}"]
    audio_map = "0:a:0"
    if audio_src is not None:
        args += ["-i", f"file:{audio_src}"]
        audio_map = "1:a:0"
    meta_index = "-1"
    if metadata_file is not None:
        meta_index = str(2 if audio_src is not None else 1)
        args += ["-f", "ffmetadata", "-i", f"file:{metadata_file}"]
    args += [
        "-map",
        "0:v:0",
        "-map",
        audio_map,
        "-map_metadata",
        meta_index,
        "-map_chapters",
        meta_index,
        "-c:v",
        "copy",
    ]
    audio_filter = loudnorm_filter(measured, sample_rate)
    if audio_filter is None:
        args += ["-c:a", "copy"]
    else:
        args += [
            "-af",
            audio_filter,
            "-c:a",
            "aac",
            "-aac_coder",
            AAC_CODER,
            "-b:a",
            audio_bitrate,
            "-ar",
            str(sample_rate),
            "-ac",
            str(channels),
        ]
    args += ["-movflags", "+faststart", f"file:{dst}"]
    stderr = run_ffmpeg_info(
        args, duration=duration, on_progress=on_progress, cancel=cancel, what="Normalising loudness"
    )
    if audio_filter is None:
        return LoudnessResult(measured.input_i, "none")
    output_i = re.search(r"Output Integrated:\s*(-?[\d.]+|-?inf)", stderr)
    kind = re.search(r"Normalization Type:\s*(\w+)", stderr)
    return LoudnessResult(
        _number(output_i.group(1)) if output_i else float("nan"),
        kind.group(1).lower() if kind else "unknown",
    )


def integrated_loudness(path: Path, cancel: threading.Event | None = None) -> float:
    """Return the integrated loudness (LUFS) of the first audio track, by the ebur128 filter."""
    stderr = run_ffmpeg_info(
        ["-i", f"file:{path}", "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"],
        cancel=cancel,
        what="Metering loudness",
    )
    summary = stderr[stderr.rfind("Summary:") :]
    match = re.search(r"I:\s*(-?[\d.]+|-?inf)\s*LUFS", summary)
    if not match:
        raise FFmpegError("loudness metering failed: ffmpeg printed no ebur128 summary")
    return _number(match.group(1))
