"""An hour-long talk through all seven stages (`make bench BENCH_ARGS=--long`).

A generated 60-minute 720p H.264 talk, once with its captions and once without them (the
default speech recognition), to the default target length: wall time, real-time factor,
per-stage times, peak memory of the worker process group and of the server process, and
the disk the episode folder uses at the end. Run alone: .venv/bin/python -m benchmarks.long_source
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.end_to_end import run_once
from benchmarks.memory import PeakMemory
from benchmarks.report import Row, markdown_table
from benchmarks.samples import CACHE
from services.media.ffmpeg import media_duration
from services.sources.sample import generate_sample
from services.stages.registry import STAGES

GROUP = "Hour-long source (720p H.264)"
TARGETS = {"captions": "≤ 0.06x", "auto": "≤ 0.15x"}
MB = 1024 * 1024


def long_sample(minutes: float = 60) -> Path:
    """Return the cached 720p talk of `minutes` (with its .en.vtt), made once."""
    path = CACHE / f"talk-{minutes:g}min-720p.mp4"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        generate_sample(path, minutes=minutes, size="1280x720")
    return path


def without_captions(video: Path) -> Path:
    """Return a copy of `video` with no captions beside it (speech recognition decides)."""
    folder = Path(tempfile.mkdtemp(prefix="clipcast-bench-nocap-"))
    copy = folder / video.name
    shutil.copy(video, copy)
    return copy


def run_long(minutes: float = 60) -> list[Row]:
    """Run the hour with captions and without; return one row per figure."""
    video = long_sample(minutes)
    length = media_duration(video)
    rows = []
    for label, source, engine in (
        ("with captions", video, "captions"),
        ("without captions", without_captions(video), "auto"),
    ):
        with PeakMemory() as memory:
            result = run_once(source, engine)
        per_stage = " · ".join(
            f"{n} {STAGES[n].key} {result['stages'].get(n, 0):.0f} s" for n in sorted(STAGES)
        )
        rtf = result["wall"] / length
        rows += [
            Row(
                GROUP,
                f"{minutes:g} min {label} ({result['status']}, final {result['final']:.0f} s)",
                f"{result['wall']:.0f} s = {rtf:.3f}x real time",
                f"{TARGETS[engine]}; {per_stage}",
            ),
            Row(
                GROUP,
                f"{label}: peak memory, worker process group (PSS) / server (RSS)",
                f"{memory.worker_peak / MB:.0f} MB / {memory.server_peak / MB:.0f} MB",
                f"worker ≤ 1 GB (at its peak: {memory.describe_peak()}); server "
                f"{memory.server_start / MB:.0f} MB at start, {memory.server_end / MB:.0f} MB "
                "at the end",
            ),
            Row(GROUP, f"{label}: episode folder on disk", f"{result['disk_bytes'] / MB:.0f} MB"),
        ]
        for error in result["errors"]:
            rows.append(Row(GROUP, f"{label}: error", error[:300]))
        for row in rows[-3 - len(result["errors"]) :]:
            print(row, flush=True)
    return rows


if __name__ == "__main__":
    print(markdown_table(run_long()))
