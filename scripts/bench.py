"""`make bench`: time all seven stages on synthetic talks and write docs/BENCHMARKS.md.

Not part of the test suite: it reports figures, it asserts nothing. Usage:
    .venv/bin/python scripts/bench.py [--minutes 2 10 30] [--pocketsphinx 2 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from config.settings import TestConfig  # noqa: E402
from models import PipelineSession, db  # noqa: E402
from services.episodes.store import create_from_local_file  # noqa: E402
from services.media import media_duration  # noqa: E402
from services.pipeline.controller import PipelineController  # noqa: E402
from services.pipeline.events import RecordingSink  # noqa: E402
from services.pipeline.local_executor import LocalExecutor  # noqa: E402
from services.sample import generate_sample  # noqa: E402
from services.stages.registry import STAGES  # noqa: E402

CACHE = ROOT / ".bench"


def sample(minutes: float) -> Path:
    """Return a cached synthetic talk of `minutes` (generated once)."""
    path = CACHE / f"talk-{minutes:g}min.mp4"
    if not path.exists():
        generate_sample(path, minutes=minutes)
    return path


def run_once(video: Path, transcript_engine: str) -> dict:
    """Run stages 1-7 on a copy of `video`; return wall time and per-stage seconds."""
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-"))
    try:
        app = create_app(TestConfig(data_dir))
        sink = RecordingSink()
        controller = PipelineController(app, sink, LocalExecutor(app, sink))
        with app.app_context():
            episode = create_from_local_file(data_dir, video)
            options = controller.options_for(
                episode, {"selected_stages": list(STAGES), "transcript_engine": transcript_engine}
            )
            started = time.monotonic()
            session = controller.start(episode, options)
            controller.executor.wait(session.id)
            wall = time.monotonic() - started
            db.session.expire_all()
            row = db.session.get(PipelineSession, session.id)
            stages = {
                r.stage: (r.finished_at - r.started_at).total_seconds()
                for r in row.stage_runs
                if r.started_at and r.finished_at
            }
            return {"status": row.status, "wall": wall, "stages": stages}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def machine() -> str:
    """Describe the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{ffmpeg.splitlines()[0] if ffmpeg else 'ffmpeg ?'}"
    )


def main() -> int:
    """Run the benchmark and print/write the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="*", default=[2, 10, 30])
    parser.add_argument("--pocketsphinx", type=float, nargs="*", default=[2, 10])
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    header = (
        "| sample | transcript | status | wall | real-time factor | "
        + " | ".join(f"{n} {STAGES[n].key}" for n in sorted(STAGES))
        + " |"
    )
    rows = [header, "|" + "---|" * (5 + len(STAGES))]
    plan = [(m, "captions") for m in args.minutes] + [
        (m, "pocketsphinx") for m in args.pocketsphinx
    ]
    for minutes, engine in plan:
        video = sample(minutes)
        length = media_duration(video)
        result = run_once(video, engine)
        per_stage = " | ".join(f"{result['stages'].get(n, 0):.1f} s" for n in sorted(STAGES))
        rows.append(
            f"| {minutes:g} min ({length:.0f} s) | {engine} | {result['status']} | "
            f"{result['wall']:.1f} s | {result['wall'] / length:.3f}x | {per_stage} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"# Benchmarks\n\nMeasured {stamp} on {machine()} by `make bench`.\n"
        f"Real-time factor = wall time of all seven stages / video length (lower is better).\n\n"
        f"{table}\n"
    )
    (ROOT / "docs" / "BENCHMARKS.md").write_text(report)
    print("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
