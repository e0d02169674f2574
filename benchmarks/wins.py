"""The obvious wins, each measured before and after on the same episode.

- one encoder setting: a clip cut with x264 presets medium (ffmpeg's default), veryfast (ours)
  and ultrafast at CRF 23: time, size and SSIM against the source;
- clips cut in parallel: stage 6 with one job against all cores;
- no second encode: the final picture joined by stream copy against re-encoding it;
- cards drawn once and encoded as repeated GOP pieces against encoding them full length;
- loudness measured by `ebur128` against `loudnorm`'s first pass.
Parallel speech recognition is in benchmarks/asr_parallel.py.
Run alone: .venv/bin/python -m benchmarks.wins
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.episode import keeping_compile_dir, prepare_episode, run_stage
from benchmarks.report import Row, markdown_table
from services.episodes.files import EpisodeFiles
from services.episodes.script import NARRATION_TYPES, clip_sections, load_script
from services.media.ffmpeg import OutputFormat, audio_seconds, media_duration, probe, run_ffmpeg
from services.media.loudness import meter_filter
from services.media.title_cards import card_frames, card_pieces, render_card
from services.stages.clipping import ClippingStage, cut_args, plan_clips
from services.stages.compilation import CompilationStage

GROUP = "Obvious wins (before → after)"


def timed(action: Callable[[], object]) -> float:
    """Return how long `action` takes, in seconds."""
    started = time.monotonic()
    action()
    return time.monotonic() - started


def before_after(measure: str, before: float, after: float) -> Row:
    """Return the row of one win: both timings and the speed-up."""
    return Row(GROUP, measure, f"{before:.2f} s → {after:.2f} s", f"{before / after:.1f}x faster")


def null_filter_seconds(path: Path, audio_filter: str) -> float:
    """Return how long ffmpeg takes to run `audio_filter` over a file's sound."""
    return timed(lambda: ffmpeg_quiet(["-i", str(path), "-af", audio_filter, "-f", "null", "-"]))


def ffmpeg_quiet(args: list[str]) -> str:
    """Run ffmpeg and return its stderr (for filter reports)."""
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-nostats", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stderr


def encoder_presets(files: EpisodeFiles, fmt: OutputFormat, work: Path) -> list[Row]:
    """Cut the first scripted clip with three presets at the same CRF."""
    info = probe(files.original_video)
    seconds = float(info["format"]["duration"])
    plan = plan_clips(clip_sections(load_script(files.script)), seconds, fmt.fps)[0]
    rows = []
    for preset in ("medium", "veryfast", "ultrafast"):
        out = work / f"preset-{preset}.mp4"
        setting = dataclasses.replace(fmt, preset=preset)
        took = timed(
            lambda s=setting, o=out: run_ffmpeg(cut_args(files.original_video, o, plan, s, True))
        )
        report = ffmpeg_quiet(
            ["-i", str(out), "-ss", f"{plan.start:.3f}", "-t", f"{plan.duration:.3f}"]
            + ["-i", str(files.original_video), "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"]
        )
        ssim = re.search(r"All:([\d.]+)", report)
        size = out.stat().st_size * 8 / plan.duration / 1000
        chosen = " (ours)" if preset == fmt.preset else ""
        rows.append(
            Row(
                GROUP,
                f"x264 preset {preset}{chosen}, CRF {fmt.crf}: {plan.duration:.0f} s clip",
                f"{took:.2f} s",
                f"{size:.0f} kb/s, SSIM {ssim.group(1) if ssim else '?'}",
            )
        )
    return rows


def parallel_clips(files: EpisodeFiles, data_dir: Path) -> list[Row]:
    """Stage 6 with one job against all cores."""
    times = {}
    for jobs in (1, os.cpu_count() or 1):
        shutil.rmtree(files.video_dir, ignore_errors=True)
        files.ensure_dirs()
        times[jobs] = run_stage(ClippingStage, data_dir, jobs=jobs)
    one, many = times[1], times[max(times)]
    return [before_after(f"stage 6: 1 clip at a time → {max(times)} at a time", one, many)]


def card_encoding(files: EpisodeFiles, fmt: OutputFormat, work: Path) -> list[Row]:
    """Render every narration card full length against as repeated GOP pieces."""
    script = load_script(files.script)
    sections = [s for s in script["podcast_sections"] if s["section_type"] in NARRATION_TYPES]
    lengths = [
        card_frames(audio_seconds(files.section_audio(s["section_id"])), fmt.fps) for s in sections
    ]

    def render(frame_lists: list[list[int]]) -> None:
        for index, (section, frames) in enumerate(zip(sections, frame_lists, strict=True)):
            for count in dict.fromkeys(frames):
                out = work / f"card-{index}-{count}.mp4"
                render_card(section["script_content"], "bench", out, fmt, count, work / "text")

    full = timed(lambda: render([[n] for n in lengths]))
    pieces = timed(lambda: render([card_pieces(n, fmt.gop_frames) for n in lengths]))
    total = sum(lengths) / fmt.fps
    measure = f"{len(sections)} cards ({total:.0f} s): full length → GOP pieces"
    return [before_after(measure, full, pieces)]


def picture_join(files: EpisodeFiles, fmt: OutputFormat, work: Path) -> list[Row]:
    """Join the final's picture pieces by stream copy against re-encoding them."""
    listing = work / "compile" / "pictures.txt"
    base = ["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v:0"]
    x264 = ["-c:v", "libx264", "-preset", fmt.preset, "-crf", str(fmt.crf), "-pix_fmt", "yuv420p"]
    encode = timed(lambda: ffmpeg_quiet([*base, *x264, str(work / "joined-encoded.mp4")]))
    copy = timed(lambda: ffmpeg_quiet([*base, "-c", "copy", str(work / "joined-copied.mp4")]))
    length = media_duration(work / "joined-copied.mp4")
    return [before_after(f"final picture ({length:.0f} s): re-encoded → copied", encode, copy)]


def loudness_measurement(work: Path) -> list[Row]:
    """Measure the joined sound with loudnorm's first pass against ebur128 (true peak)."""
    sound = work / "compile" / "sound.flac"
    loudnorm = null_filter_seconds(sound, "loudnorm=print_format=json")
    ebur128 = null_filter_seconds(sound, meter_filter(True))
    measure = f"measuring {media_duration(sound):.0f} s of sound: loudnorm → ebur128"
    return [before_after(measure, loudnorm, ebur128)]


def run_wins(video: Path) -> list[Row]:
    """Prepare an episode (stages 1-5) and measure every win on it."""
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-wins-"))
    work = data_dir / "work"
    work.mkdir()
    try:
        files = prepare_episode(video, data_dir)
        fmt = OutputFormat.for_run(probe(files.original_video), {})
        rows = encoder_presets(files, fmt, work)
        rows += parallel_clips(files, data_dir)
        rows += card_encoding(files, fmt, work)
        with keeping_compile_dir():
            run_stage(CompilationStage, data_dir)
        shutil.copytree(files.work_dir / "compile", work / "compile")
        rows += picture_join(files, fmt, work)
        rows += loudness_measurement(work)
        return rows
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    from benchmarks.samples import sample_video

    print(markdown_table(run_wins(sample_video())))
