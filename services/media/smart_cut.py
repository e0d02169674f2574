"""Smart cutting: re-encode a clip's ends only and copy the source's whole GOPs between them.

A clip from frame `a` to frame `b` of a source already in the uniform format is made of:
- a head, frames a..k-1, re-encoded (k: the first keyframe at or after a);
- a middle, the packets from keyframe k up to the last keyframe t <= b in decode order,
  stream-copied; an open GOP's leading pictures (after k in decode order, shown before it)
  are dropped, since they reference the GOP before k that the head replaced;
- a tail, from the first frame the middle does not show up to b, re-encoded. There is always
  a tail, so every clip ends in the uniform encoder's parameter sets (stage 7 joins clips and
  title cards by stream copy and relies on them).

The encoded pieces use the uniform x264 settings; the copied middle keeps the source
encoder's. Every piece carries its SPS/PPS in-band before each keyframe (Annex B MPEG-TS
intermediates, `dump_extra` on the copy, also for open-GOP I frames that are not IDR), so a
decoder switches parameter sets at each join. The pieces are joined with exact durations and
the picture's timestamps rebuilt on the frame grid (presentation from the frame index,
decoding from the packet count minus the largest reordering delay of the pieces), which
removes the pieces' own offsets (MPEG-TS start, edit lists, B-frame delays). Times are
relative to the file's start time, as ffmpeg's `-ss` is. The sound is cut from the first
frame's time, exactly as long as the picture, and encoded as in a full re-encode.

Where smart cutters are known to fail, and what happens here: open GOPs (a keyframe that is
not an IDR, leading B-frames) - leading pictures dropped, parameter sets forced in-band;
B-frame reordering - decode times rebuilt from the largest delay; edit lists and timestamp
offsets - frames numbered from the video's start, hidden ones included; uneven frame
durations at the seams - presentation times rebuilt on the grid; NTSC rates (30000/1001) -
the uniform format takes the exact rate, so the grid is the source's; B-frames whose
composition offsets were lost, variable frame rates, other containers (inexact seeks) -
refused, so the clip is re-encoded in full.
"""

from __future__ import annotations

import bisect
import json
import math
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from services.media.ffmpeg import OutputFormat, ProgressCallback, require_tool, run_ffmpeg
from services.media.jobs import Job, run_jobs
from services.run.errors import ToolError

SMART_PROFILES = ("Constrained Baseline", "Baseline", "Main", "High")
# A middle shorter than this saves too little to be worth three ffmpeg runs.
MIN_COPY_SECONDS = 1.0
# Shares of the work, against encoding one frame: copying one, encoding its sound.
COPY_COST = 0.03
SOUND_COST = 0.1


@dataclass(frozen=True)
class VideoPackets:
    """The source's video packets in decode order: their frame index and whether key."""

    frames: tuple[int, ...]
    keys: tuple[bool, ...]
    first_time: float  # when frame 0 is shown, seconds from the file's start time


@dataclass(frozen=True)
class SmartPlan:
    """How one clip is made: frames re-encoded at each end, packets copied between."""

    first: int  # the clip's first frame (index in the source)
    head_frames: int
    copy_frames: int
    copy_packets: int  # packets read from the copy's keyframe on, leading pictures included
    tail_frames: int
    copy_delay: int  # the middle's reordering delay in frames
    fps: Fraction | int  # exact: 30000/1001 at 29.97
    first_time: float

    def seconds_of(self, frames: int) -> float:
        """Return how long `frames` frames last, in seconds."""
        return float(frames / Fraction(self.fps))

    def time_of(self, frame: int) -> float:
        """Return when source frame `frame` is shown (seconds from the file's start time)."""
        return self.first_time + self.seconds_of(frame)

    @property
    def copy_first(self) -> int:
        """Return the first frame of the copied middle (a keyframe)."""
        return self.first + self.head_frames

    @property
    def tail_first(self) -> int:
        """Return the first frame of the re-encoded tail."""
        return self.copy_first + self.copy_frames

    @property
    def frames(self) -> int:
        """Return the clip's length in frames."""
        return self.head_frames + self.copy_frames + self.tail_frames


def format_mismatch(info: dict, fmt: OutputFormat) -> str | None:
    """Return why a source's video cannot be copied into clips of `fmt`, or None if it can."""
    video = next((s for s in info.get("streams", []) if s.get("codec_type") == "video"), {})
    container = str(info.get("format", {}).get("format_name", ""))
    checks = (
        ("mp4" in container.split(","), f"container {container}"),  # exact keyframe seeks
        (video.get("codec_name") == "h264", f"codec {video.get('codec_name')}"),
        (video.get("profile") in SMART_PROFILES, f"profile {video.get('profile')}"),
        (video.get("pix_fmt") == "yuv420p", f"pixel format {video.get('pix_fmt')}"),
        (
            (video.get("width"), video.get("height")) == (fmt.width, fmt.height),
            f"size {video.get('width')}x{video.get('height')}",
        ),
        (
            video.get("avg_frame_rate") == video.get("r_frame_rate") == fmt.rate_ratio,
            f"frame rate {video.get('avg_frame_rate')}",
        ),
        (
            video.get("sample_aspect_ratio") in (None, "0:1", "1:1"),
            f"pixel aspect {video.get('sample_aspect_ratio')}",
        ),
        (video.get("field_order") in (None, "progressive"), "interlaced"),
        (not video.get("side_data_list") and "rotate" not in video.get("tags", {}), "rotated"),
    )
    return next((reason for ok, reason in checks if not ok), None)


def list_packets(path: Path, info: dict, start: float, end: float) -> VideoPackets | None:
    """List the video packets around `start`..`end` s with ffprobe; None if timing is unusable.

    Only that stretch of the file is read. Frames are numbered from the video's start time
    (an edit list's hidden frames get negative numbers). Unusable: ffprobe failed, missing
    timestamps, frames off the frame-rate grid, B-frames whose composition offsets were lost.
    """
    require_tool("ffprobe")
    video = next(s for s in info["streams"] if s.get("codec_type") == "video")
    time_base = Fraction(video["time_base"])
    fps = Fraction(video["avg_frame_rate"])
    file_start = float(info.get("format", {}).get("start_time") or 0)
    video_start = Fraction(str(video.get("start_time") or file_start))
    # A keyframe before `start` is where ffprobe starts; a second past `end` covers reordering.
    window = f"{file_start + max(0.0, start - 0.1):.6f}%{file_start + end + 1.0:.6f}"
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", window]
    cmd += ["-show_entries", "packet=pts,flags", "-of", "csv=p=0", f"file:{path}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None  # the full re-encode will tell what is wrong with the file, if anything
    frames: list[int] = []
    keys: list[bool] = []
    for line in filter(None, map(str.strip, result.stdout.splitlines())):
        pts, _, flags = line.partition(",")
        if not pts.lstrip("-").isdigit():
            return None
        exact = (int(pts) * time_base - video_start) * fps
        if abs(exact - round(exact)) > Fraction(1, 4):
            return None
        frames.append(round(exact))
        keys.append(flags.startswith("K"))
    if not frames:
        return None
    if int(video.get("has_b_frames") or 0) and frames == sorted(frames):
        return None  # B-frames but no reordering in the timestamps (ctts lost): unreliable
    return VideoPackets(tuple(frames), tuple(keys), float(video_start) - file_start)


def plan_smart_cut(
    packets: VideoPackets, fps: Fraction | int, start: float, frames: int
) -> SmartPlan | str:
    """Plan a clip of `frames` frames from `start` s; return the plan or why not to."""
    # The first frame shown at or after `start`, as ffmpeg's accurate seek picks it.
    first = max(0, math.ceil((start - packets.first_time) * fps - 1e-3))
    last = first + frames - 1
    if last > max(packets.frames):
        return "the clip runs past the last frame"
    key_frames = sorted(f for f, k in zip(packets.frames, packets.keys, strict=True) if k)
    at = bisect.bisect_left(key_frames, first)
    until = bisect.bisect_right(key_frames, last) - 1
    if at >= len(key_frames) or until <= at:
        return "no whole GOP inside the clip"
    copy_first, copy_end = key_frames[at], key_frames[until]
    decode_at = packets.frames.index(copy_first)
    decode_end = packets.frames.index(copy_end)
    shown = [f for f in packets.frames[decode_at:decode_end] if f >= copy_first]
    copy_frames = len(shown)
    if sorted(shown) != list(range(copy_first, copy_first + copy_frames)):
        return "the GOPs to copy do not show consecutive frames"
    if copy_frames < MIN_COPY_SECONDS * fps:
        return "the whole GOPs inside the clip are too short to be worth copying"
    delay = max(rank - (f - copy_first) for rank, f in enumerate(shown))
    return SmartPlan(
        first=first,
        head_frames=copy_first - first,
        copy_frames=copy_frames,
        copy_packets=decode_end - decode_at,
        tail_frames=last + 1 - (copy_first + copy_frames),
        copy_delay=max(0, delay),
        fps=fps,
        first_time=packets.first_time,
    )


def _encode_args(
    source: Path, out: Path, first_time: float, frames: int, fmt: OutputFormat
) -> list[str]:
    """Return ffmpeg arguments that encode `frames` source frames from `first_time` s."""
    seek = max(0.0, first_time - 0.25 / fmt.fps)
    kwargs = fmt.video_kwargs()
    return [
        "-ss",
        f"{seek:.6f}",
        "-i",
        f"file:{source}",
        "-map",
        "0:v:0",
        "-frames:v",
        str(frames),
        "-c:v",
        kwargs["vcodec"],
        "-preset",
        kwargs["preset"],
        "-crf",
        str(kwargs["crf"]),
        "-pix_fmt",
        kwargs["pix_fmt"],
        "-r",
        str(kwargs["r"]),
        "-g",
        str(kwargs["g"]),
        "-f",
        "mpegts",
        f"file:{out}",
    ]


def _copy_args(source: Path, out: Path, plan: SmartPlan) -> list[str]:
    """Return ffmpeg arguments that copy the middle's packets with in-band parameter sets."""
    seek = plan.time_of(plan.copy_first) + 0.25 / plan.fps
    # Read a little past the middle's last packet (reordering), then drop by packet count.
    read = plan.seconds_of(plan.copy_packets + 2 * plan.copy_delay) + 1.0
    drop = f"lt(pts\\,startpts)+gte(n\\,{plan.copy_packets})"
    return [
        "-ss",
        f"{seek:.6f}",
        "-t",
        f"{read:.6f}",
        "-i",
        f"file:{source}",
        "-map",
        "0:v:0",
        "-c:v",
        "copy",
        "-copypriorss",
        "1",
        "-bsf:v",
        f"h264_mp4toannexb,dump_extra=freq=keyframe,noise=drop={drop}",
        "-f",
        "mpegts",
        f"file:{out}",
    ]


class SmartCutError(ToolError):
    """A piece of a smart cut came out wrong; the clip can still be re-encoded in full."""


def _piece_delay(path: Path, frames: int) -> int:
    """Check an MPEG-TS piece has `frames` frames; return its reordering delay in frames.

    The larger of the delay its timestamps show and the one its stream declares: x264 declares
    two frames with B-pyramids even when a short piece reorders by one, and every other piece
    of the final (cards, clips re-encoded in full) starts that many frames early, so a clip
    starting later would repeat a decode time at the join.
    """
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json"]
    cmd += ["-show_entries", "packet=pts:stream=has_b_frames", f"file:{path}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        found = json.loads(result.stdout or "{}")
    except ValueError:
        found = {}
    stamps = [int(p["pts"]) for p in found.get("packets", []) if "pts" in p]
    if result.returncode != 0 or len(stamps) != frames:
        raise SmartCutError(f"The {path.stem} piece has {len(stamps)} frames, not {frames}.")
    order = {pts: rank for rank, pts in enumerate(sorted(stamps))}
    shown = max((rank - order[pts] for rank, pts in enumerate(stamps)), default=0)
    declared = max((int(s.get("has_b_frames") or 0) for s in found.get("streams", [])), default=0)
    return max(shown, declared)


def _sound_args(audio_input: list[str], out: Path, fmt: OutputFormat, seconds: float) -> list[str]:
    """Return ffmpeg arguments that encode the clip's sound, exactly `seconds` long, to m4a."""
    audio = fmt.audio_kwargs()
    return [
        *audio_input,
        "-map",
        "0:a:0",
        "-af",
        "apad",
        "-t",
        f"{seconds:.6f}",
        "-c:a",
        audio["acodec"],
        "-aac_coder",
        audio["aac_coder"],
        "-ar",
        str(audio["ar"]),
        "-ac",
        str(audio["ac"]),
        "-b:a",
        audio["audio_bitrate"],
        "-f",
        "mp4",
        f"file:{out}",
    ]


def _join_args(listing: Path, sound: Path, out: Path, fps: Fraction | int, delay: int) -> list[str]:
    """Return ffmpeg arguments that join the picture's pieces and the sound into one mp4."""
    tick = f"(TB*{fps})"  # one frame in the packets' time base is 1/tick
    setts = f"setts=pts=round((PTS-STARTPTS)*{tick})/{tick}:dts=(N-{delay})/{tick}"
    return [
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        f"file:{listing}",
        "-i",
        f"file:{sound}",
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
        "-bsf:v",
        setts,
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-movflags",
        "+faststart",
        "-video_track_timescale",
        "90000",
        "-f",
        "mp4",
        f"file:{out}",
    ]


def audio_input_args(
    source: Path, start: float, seconds: float, fmt: OutputFormat, has_audio: bool
) -> list[str]:
    """Return ffmpeg input arguments of a clip's sound: the source's, or silence."""
    if has_audio:
        return ["-ss", f"{start:.6f}", "-t", f"{seconds:.6f}", "-i", f"file:{source}"]
    layout = "stereo" if fmt.audio_channels == 2 else "mono"
    return ["-f", "lavfi", "-t", f"{seconds:.6f}", "-i", f"anullsrc=r={fmt.audio_rate}:cl={layout}"]


def _ffmpeg_job(name: str, args: list[str], seconds: float, weight: float, what: str) -> Job:
    """Return a job that runs one ffmpeg command of a smart cut."""

    def body(progress: ProgressCallback, abort: threading.Event) -> None:
        run_ffmpeg(
            args, duration=seconds, on_progress=progress, cancel=abort, what=f"{what} ({name})"
        )

    return Job(key=name, weight=weight, body=body)


def smart_cut(
    source: Path,
    out: Path,
    plan: SmartPlan,
    fmt: OutputFormat,
    audio_input: list[str],
    *,
    on_progress: ProgressCallback,
    cancel: threading.Event,
    what: str,
) -> None:
    """Write the clip `plan` describes to `out` (an mp4 in the uniform format).

    The head, the middle, the tail and the sound are made side by side (x264 leaves cores
    idle on pieces this short), then joined by stream copy. Raises SmartCutError when a
    piece does not have the planned frames (nothing is written then).
    """
    work = Path(tempfile.mkdtemp(prefix=".smartcut-", dir=out.parent))
    head, middle, tail = work / "head.ts", work / "middle.ts", work / "tail.ts"
    sound, listing = work / "sound.m4a", work / "pieces.txt"
    seconds = plan.seconds_of(plan.frames)
    pieces = [
        (head, plan.head_frames, plan.time_of(plan.first)),
        (middle, plan.copy_frames, None),
        (tail, plan.tail_frames, plan.time_of(plan.tail_first)),
    ]
    pieces = [piece for piece in pieces if piece[1] > 0]
    jobs = [
        _ffmpeg_job(
            "sound",
            _sound_args(audio_input, sound, fmt, seconds),
            seconds,
            plan.frames * SOUND_COST,
            what,
        )
    ]
    for path, frames, start in pieces:
        if start is None:
            args, weight = _copy_args(source, path, plan), frames * COPY_COST
        else:
            args, weight = _encode_args(source, path, start, frames, fmt), frames
        jobs.append(_ffmpeg_job(path.stem, args, plan.seconds_of(frames), weight, what))
    parallel = sum(job.weight for job in jobs)
    share = parallel / (parallel + plan.frames * COPY_COST)
    try:
        run_jobs(jobs, workers=len(jobs), report=lambda f: on_progress(share * f), cancel=cancel)
        with ThreadPoolExecutor(max_workers=len(pieces)) as pool:
            delay = max(pool.map(lambda piece: _piece_delay(piece[0], piece[1]), pieces))
        lines = ["ffconcat version 1.0"]
        for path, frames, _ in pieces:
            lines += [f"file '{path.name}'", f"duration {plan.seconds_of(frames):.6f}"]
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run_ffmpeg(
            _join_args(listing, sound, out, plan.fps, delay),
            duration=seconds,
            on_progress=lambda f: on_progress(share + (1 - share) * f),
            cancel=cancel,
            what=f"{what} (join)",
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
