"""Stage 6 with smart cutting against stage 6 re-encoding the same clips in full.

The source is a generated 720p30 H.264 video as a site like YouTube serves it (High profile,
B-frames, a keyframe every 2 s, AAC), already in the clips' uniform format, so every clip is
smart-cut: only the frames before its first keyframe and from its last one are encoded,
while its sound is encoded in full either way (about 0.05 CPU s per second of AAC). Both
variants cut the same clips from scratch, interleaved, and the medians are compared.
Run alone: .venv/bin/python -m benchmarks.smart_cut
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks.episode import EPISODE, run_stage
from benchmarks.report import Row, markdown_table
from benchmarks.samples import CACHE
from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.media.ffmpeg import run_ffmpeg
from services.stages.clipping import ClippingStage

GROUP = "Stage 6: smart cut vs full re-encode"
SOURCE_SECONDS = 150
# 22-70 s, within the default guideline's 20-120 s; in and out points fall inside GOPs.
CLIPS = [(5.3, 27.8), (30.1, 68.6), (70.45, 140.2)]


def sample_720p() -> Path:
    """Return the cached 720p30 H.264 sample (made once: testsrc2, a tone, 2 s GOPs)."""
    path = CACHE / f"h264-720p-{SOURCE_SECONDS}s.mp4"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        tmp = path.with_suffix(".part.mp4")
        run_ffmpeg(
            ["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SOURCE_SECONDS}"]
            + ["-f", "lavfi", "-i", f"sine=frequency=220:duration={SOURCE_SECONDS}"]
            + ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high"]
            + ["-x264-params", "keyint=60:min-keyint=60:bframes=3", "-pix_fmt", "yuv420p"]
            + ["-c:a", "aac", "-ar", "48000", "-ac", "2", "-shortest", f"file:{tmp}"],
            duration=SOURCE_SECONDS,
            what="the 720p sample",
        )
        tmp.replace(path)
    return path


def _episode(data_dir: Path, source: Path) -> EpisodeFiles:
    """Make an episode holding only the source video and a script naming the clips."""
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.ensure_dirs()
    shutil.copy(source, files.original_video)
    sections = [
        {
            "section_type": "video_clip",
            "section_id": f"clip_{n:02d}",
            "clip_id": f"clip_{n:02d}",
            "start_time": start,
            "end_time": end,
        }
        for n, (start, end) in enumerate(CLIPS, start=1)
    ]
    write_json_atomic(files.script, {"podcast_sections": sections})
    return files


def _children_cpu() -> float:
    """Return the CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cut(files: EpisodeFiles, data_dir: Path, smart: bool) -> tuple[float, float]:
    """Run stage 6 from scratch; return its wall time and its tools' CPU time."""
    shutil.rmtree(files.video_dir, ignore_errors=True)
    files.ensure_dirs()
    cpu = _children_cpu()
    wall = run_stage(ClippingStage, data_dir, {"output_settings": {"smart_cut": smart}})
    return wall, _children_cpu() - cpu


def run_smart_cut(rounds: int = 3) -> list[Row]:
    """Time stage 6 smart-cutting and re-encoding the same clips, interleaved `rounds` times."""
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-smartcut-"))
    try:
        files = _episode(data_dir, sample_720p())
        smart, full = [], []
        for _ in range(rounds):
            smart.append(_cut(files, data_dir, smart=True))
            full.append(_cut(files, data_dir, smart=False))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    seconds = sum(end - start for start, end in CLIPS)
    smart_wall = statistics.median(w for w, _ in smart)
    full_wall = statistics.median(w for w, _ in full)
    smart_cpu = statistics.median(c for _, c in smart)
    full_cpu = statistics.median(c for _, c in full)
    runs = ", ".join(f"{a[0]:.1f}/{b[0]:.1f}" for a, b in zip(smart, full, strict=True))
    runs += f"; load {os.getloadavg()[0]:.1f}"
    return [
        Row(
            GROUP,
            f"{len(CLIPS)} clips ({seconds:.0f} s) of 720p30 H.264, smart cut "
            "(wall, smart/full per round)",
            f"{smart_wall:.1f} s",
            runs,
        ),
        Row(GROUP, "the same clips re-encoded in full (wall)", f"{full_wall:.1f} s"),
        Row(GROUP, "ratio full / smart, wall time", f"{full_wall / smart_wall:.1f}x", "≥ 5x"),
        Row(
            GROUP,
            "ratio full / smart, ffmpeg CPU time (steadier under load)",
            f"{full_cpu / smart_cpu:.1f}x",
            f"{full_cpu:.0f} / {smart_cpu:.0f} CPU s",
        ),
    ]


if __name__ == "__main__":
    print(markdown_table(run_smart_cut()))
