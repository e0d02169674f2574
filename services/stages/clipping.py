"""Stage 6: cut every scripted clip out of the source video, frame-accurately, in one format.

A clip is smart-cut (its ends re-encoded, the whole GOPs between copied: services/media/
smart_cut.py) when the source's picture is already in the uniform format and the clip holds a
whole GOP; otherwise it is re-encoded in full. The choice is per clip and logged;
`output_settings.smart_cut=false` turns smart cutting off.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg

from services.atomic import atomic_output, read_json, write_json_atomic
from services.episodes.files import EpisodeFiles, is_safe_id
from services.episodes.script import clip_sections, load_script
from services.media.ffmpeg import (
    FFmpegError,
    OutputFormat,
    compile_args,
    probe,
    run_ffmpeg,
    stream_of,
)
from services.media.jobs import Job, ProgressCallback, run_jobs
from services.media.smart_cut import (
    SmartCutError,
    SmartPlan,
    audio_input_args,
    format_mismatch,
    list_packets,
    plan_smart_cut,
    smart_cut,
)
from services.run.errors import InputMissingError, InvalidInputError, ToolError
from services.run.options import RunOptions
from services.run.words import plural
from services.stages.base import Stage, StageContext

MANIFEST_NAME = "clips.json"
# A clip may end this far past the probed end of the video (container rounding) and is clamped.
END_SLACK_SECONDS = 0.1
PROBES_AT_ONCE = 4  # packet listings read side by side (they wait on the disk more than the CPU)


@dataclass(frozen=True)
class ClipPlan:
    """One clip to cut: where it starts, and its length rounded to whole frames."""

    clip_id: str
    start: float
    end: float
    duration: float


def plan_clips(sections: list[dict], video_seconds: float, fps: Fraction | int) -> list[ClipPlan]:
    """Check each clip's id and time range against the video; return the cutting plan."""
    plans: list[ClipPlan] = []
    seen: set[str] = set()
    for section in sections:
        clip_id = str(section.get("clip_id") or section.get("section_id") or "")
        if not is_safe_id(clip_id) or clip_id in seen:
            raise InvalidInputError(
                f"Clip id {clip_id!r} in the script is missing, repeated or not a plain name.",
                hint="Give every clip a unique id such as clip_01 (stage 4 does this).",
            )
        seen.add(clip_id)
        try:
            start, end = float(section["start_time"]), float(section["end_time"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"Clip {clip_id} has no valid start_time/end_time in the script.",
                hint="Set both, in seconds.",
            ) from exc
        if end > video_seconds and end - video_seconds <= END_SLACK_SECONDS:
            end = video_seconds
        if start < 0 or end <= start or end > video_seconds:
            raise InvalidInputError(
                f"Clip {clip_id} ({start:.2f}-{end:.2f} s) is outside the video, which is "
                f"{video_seconds:.2f} s long.",
                hint="Fix its start_time/end_time in the script, or rerun stage 4.",
            )
        frames = max(1, round((end - start) * fps))
        plans.append(ClipPlan(clip_id, start, end, float(frames / Fraction(fps))))
    return plans


def cut_args(source: Path, out: Path, plan: ClipPlan, fmt: OutputFormat, has_audio: bool) -> list:
    """Return ffmpeg arguments that cut one clip (input seek, re-encode: frame-accurate)."""
    video_in = ffmpeg.input(str(source), ss=f"{plan.start:.6f}", t=f"{plan.duration:.6f}")
    if has_audio:
        audio = video_in.audio
    else:  # every clip carries audio so the final join has one audio track throughout
        layout = "stereo" if fmt.audio_channels == 2 else "mono"
        audio = ffmpeg.input(
            f"anullsrc=r={fmt.audio_rate}:cl={layout}", f="lavfi", t=f"{plan.duration:.6f}"
        ).audio
    out_stream = ffmpeg.output(
        video_in.video,
        audio,
        str(out),
        vf=fmt.video_filter(),
        af="apad",
        t=f"{plan.duration:.6f}",
        map_metadata=-1,
        map_chapters=-1,
        **fmt.output_kwargs(),
    )
    return compile_args(out_stream)


def smart_plans(
    source: Path, info: dict, fmt: OutputFormat, plans: list[ClipPlan], enabled: bool
) -> dict[str, SmartPlan | str]:
    """Return, per clip id, its smart-cut plan or why it is re-encoded in full."""
    if not enabled:
        return dict.fromkeys((p.clip_id for p in plans), "smart cutting is off")
    mismatch = format_mismatch(info, fmt)
    if mismatch:
        return dict.fromkeys(
            (p.clip_id for p in plans), f"the source is not in the clips' format ({mismatch})"
        )

    def method(plan: ClipPlan) -> SmartPlan | str:
        """Return the clip's smart-cut plan, or why it is re-encoded in full."""
        packets = list_packets(source, info, plan.start, plan.end)
        if not packets:
            return "the source's frame timestamps are irregular there"
        return plan_smart_cut(packets, fmt.fps, plan.start, round(plan.duration * fmt.fps))

    with ThreadPoolExecutor(max_workers=PROBES_AT_ONCE) as pool:  # ffprobe waits on the disk
        return dict(zip((p.clip_id for p in plans), pool.map(method, plans), strict=True))


@dataclass(frozen=True)
class ClipSource:
    """The source video and the format its clips are made in."""

    path: Path
    fmt: OutputFormat
    has_audio: bool


def cut_clip(
    source: ClipSource,
    out: Path,
    plan: ClipPlan,
    method: SmartPlan | str,
    progress: ProgressCallback,
    abort: threading.Event,
    logger: logging.Logger,
) -> None:
    """Write one clip to `out`: smart-cut when planned (in full if that goes wrong)."""
    what = f"Cutting {plan.clip_id}"
    fmt, has_audio = source.fmt, source.has_audio
    if isinstance(method, SmartPlan):
        start = method.time_of(method.first)
        sound = audio_input_args(source.path, start, plan.duration, fmt, has_audio)
        try:
            smart_cut(
                source.path, out, method, fmt, sound, on_progress=progress, cancel=abort, what=what
            )
            return
        except (SmartCutError, FFmpegError) as exc:  # the full re-encode may still work
            logger.warning("%s: smart cut failed (%s); re-encoding it in full", plan.clip_id, exc)
    run_ffmpeg(
        cut_args(source.path, out, plan, fmt, has_audio),
        duration=plan.duration,
        on_progress=progress,
        cancel=abort,
        what=what,
    )


class ClipManifest:
    """`Output/Video/clips.json`: the parameters each finished clip was cut with."""

    def __init__(self, path: Path, signature: dict) -> None:
        self.path = path
        self.signature = signature
        self._lock = threading.Lock()
        try:
            data = read_json(path)
            self.clips: dict = data.get("clips", {}) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            self.clips = {}

    def entry(self, plan: ClipPlan) -> dict:
        """Return what the manifest records for a clip cut by `plan`."""
        return {"start": plan.start, "end": plan.end, "duration": plan.duration, **self.signature}

    def is_current(self, plan: ClipPlan, clip_path: Path) -> bool:
        """Tell whether `clip_path` exists and was cut with exactly these parameters."""
        recorded = self.clips.get(plan.clip_id)
        if not recorded or not clip_path.exists():
            return False
        return recorded == {**self.entry(plan), "size": clip_path.stat().st_size}

    def record(self, plan: ClipPlan, clip_path: Path) -> None:
        """Store a finished clip's parameters (atomically, safe from several threads)."""
        with self._lock:
            self.clips[plan.clip_id] = {**self.entry(plan), "size": clip_path.stat().st_size}
            write_json_atomic(self.path, {"version": 1, "clips": self.clips})


class ClippingStage(Stage):
    """Cut the clips the script names, several at once, into `Output/Video/<clip_id>.mp4`."""

    number = 6
    key = "clipping"
    name = "Video Clipping"
    description = "Cut each scripted clip out of the source video in one uniform format"
    sub_stages = ("check", "cut", "verify")
    weights = (0.03, 0.92, 0.05)
    inputs = ("script", "original_video")
    outputs = ("clips",)

    @classmethod
    def outputs_untouched(cls, files: EpisodeFiles, options: RunOptions) -> bool:
        """Tell whether every scripted clip is still the file clips.json recorded (by size)."""
        try:
            recorded = read_json(files.video_dir / MANIFEST_NAME).get("clips") or {}
            sections = clip_sections(load_script(files.script))
        except (OSError, ValueError, AttributeError):
            return False
        for section in sections:
            clip_id = str(section.get("clip_id") or section.get("section_id") or "")
            entry = recorded.get(clip_id) if isinstance(recorded, dict) else None
            path = files.clip(clip_id)
            if not is_safe_id(clip_id) or not isinstance(entry, dict) or not path.exists():
                return False
            if entry.get("size") != path.stat().st_size:
                return False
        return True

    def run(self, ctx: StageContext) -> dict:
        """Cut every clip not already cut with the same parameters; return their paths."""
        files = ctx.files
        if not files.script.exists():
            raise InputMissingError("There is no script.", hint="Run stage 4 first.")
        if not files.original_video.exists():
            raise InputMissingError("There is no source video.", hint="Run stage 1 first.")
        sections = clip_sections(load_script(files.script))
        if not sections:
            raise InvalidInputError("The script has no video clips.", hint="Rerun stage 4.")
        info = probe(files.original_video)
        if stream_of(info, "video") is None:
            raise InvalidInputError("The source file has no video track.", hint="Rerun stage 1.")
        video_seconds = float(info.get("format", {}).get("duration") or 0)
        has_audio = stream_of(info, "audio") is not None
        fmt = OutputFormat.for_run(info, ctx.options.output_settings)
        plans = plan_clips(sections, video_seconds, fmt.fps)
        source_stat = files.original_video.stat()
        enabled = ctx.options.output_settings.get("smart_cut", True)
        manifest = ClipManifest(
            files.video_dir / MANIFEST_NAME,
            {
                "format": fmt.to_json(),
                "source": {"size": source_stat.st_size, "mtime_ns": source_stat.st_mtime_ns},
                "smart_cut": enabled,
            },
        )
        todo = [p for p in plans if not manifest.is_current(p, files.clip(p.clip_id))]
        for plan in plans:
            if plan not in todo:
                ctx.logger.info("Skipping %s: already cut with the same parameters", plan.clip_id)
        methods = smart_plans(files.original_video, info, fmt, todo, enabled) if todo else {}
        for plan in todo:
            method = methods[plan.clip_id]
            if isinstance(method, SmartPlan):
                ctx.logger.info(
                    "%s: smart cut, copying %.2f of %.2f s (re-encoding %d + %d frames)",
                    plan.clip_id,
                    fmt.seconds_of(method.copy_frames),
                    plan.duration,
                    method.head_frames,
                    method.tail_frames,
                )
            else:
                ctx.logger.info("%s: full re-encode: %s", plan.clip_id, method)
        ctx.logger.info(
            "Cutting %d of %s (%.1f s) at %dx%d %s fps%s, %d at a time",
            len(todo),
            plural(len(plans), "clip"),
            sum(p.duration for p in todo),
            fmt.width,
            fmt.height,
            fmt.rate_label,
            "" if has_audio else ", adding silent audio",
            min(ctx.cpu_count, len(todo)),
        )
        ctx.progress("check", 1.0, f"{plural(len(plans), 'clip')}, {len(todo)} to cut")
        ctx.check_cancelled()

        def job(plan: ClipPlan) -> Job:
            def body(progress: ProgressCallback, abort: threading.Event) -> None:
                if plan not in todo:
                    return
                clip_path = files.clip(plan.clip_id)
                with atomic_output(clip_path) as tmp:
                    cut_clip(
                        ClipSource(files.original_video, fmt, has_audio),
                        tmp,
                        plan,
                        methods[plan.clip_id],
                        progress,
                        abort,
                        ctx.logger,
                    )
                manifest.record(plan, clip_path)
                ctx.logger.info(
                    "Cut %s: %.2f-%.2f s (%.2f s)",
                    plan.clip_id,
                    plan.start,
                    plan.end,
                    plan.duration,
                )

            return Job(key=plan.clip_id, weight=plan.duration, body=body)

        run_jobs(
            [job(p) for p in plans],
            workers=ctx.cpu_count,
            report=ctx.sub_progress("cut", "cutting clips"),
            cancel=ctx.cancel_event,
        )
        for index, plan in enumerate(plans, start=1):
            self._verify(ctx, plan, fmt)
            ctx.progress("verify", index / len(plans), f"checked {plan.clip_id}")
        return {"clips": [files.relative(files.clip(p.clip_id)) for p in plans]}

    def _verify(self, ctx: StageContext, plan: ClipPlan, fmt: OutputFormat) -> None:
        """Check a clip has picture and sound of the expected length."""
        info = probe(ctx.files.clip(plan.clip_id))
        video, audio = stream_of(info, "video"), stream_of(info, "audio")
        seconds = float(info.get("format", {}).get("duration") or 0)
        if video is None or audio is None or abs(seconds - plan.duration) > 0.5:
            raise ToolError(
                f"Clip {plan.clip_id} came out wrong ({seconds:.2f} s instead of "
                f"{plan.duration:.2f} s, video={video is not None}, audio={audio is not None}).",
                hint="Rerun stage 6; if it happens again the source video may be damaged.",
            )
        if (int(video.get("width", 0)), int(video.get("height", 0))) != (fmt.width, fmt.height):
            raise ToolError(f"Clip {plan.clip_id} has the wrong picture size.", hint="Rerun.")
