"""All seven stages through the real controller and worker process, timed per stage."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from app import create_app
from benchmarks.report import Row
from config.settings import TestConfig
from models import PipelineSession, db
from services.media.ffmpeg import media_duration
from services.pipeline.controller import PipelineController
from services.pipeline.episode_store import create_from_local_file
from services.pipeline.events import RecordingSink
from services.pipeline.local.executor import LocalExecutor
from services.stages.registry import STAGES

GROUP = "End to end (all seven stages)"
TARGETS = {"captions": 0.2, "pocketsphinx": 0.6}


def run_once(video: Path, transcript_engine: str, extra: dict | None = None) -> dict:
    """Run stages 1-7 on a copy of `video`; return status, wall, per-stage and disk figures.

    `extra` adds run options (e.g. a transcript engine of `auto`).
    """
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-"))
    try:
        app = create_app(TestConfig(data_dir))
        sink = RecordingSink()
        controller = PipelineController(app, sink, LocalExecutor(app, sink))
        with app.app_context():
            episode = create_from_local_file(data_dir, video)
            choices = {"selected_stages": list(STAGES), "transcript_engine": transcript_engine}
            options = controller.options_for(episode, {**choices, **(extra or {})})
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
            final = data_dir / "episodes" / episode.id / "Output" / "Final" / "final.mp4"
            final_seconds = media_duration(final) if final.exists() else 0.0
            errors = [f"stage {r.stage}: {r.error}" for r in row.stage_runs if r.error]
            return {
                "status": row.status,
                "errors": errors,
                "wall": wall,
                "stages": stages,
                "final": final_seconds,
                "disk_bytes": disk_bytes(data_dir / "episodes" / episode.id),
            }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def disk_bytes(folder: Path) -> int:
    """Return the bytes a folder's files take, each hard-linked file counted once (as du)."""
    seen: dict[tuple[int, int], int] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            seen[(info.st_dev, info.st_ino)] = info.st_size
    return sum(seen.values())


def row_for(video: Path, engine: str) -> tuple[Row, dict]:
    """Run one sample end to end; return its row and the run (with the video's `length`)."""
    length = media_duration(video)
    result = run_once(video, engine)
    per_stage = " · ".join(
        f"{n} {STAGES[n].key} {result['stages'].get(n, 0):.1f} s" for n in sorted(STAGES)
    )
    rtf = result["wall"] / length
    measure = (
        f"{length / 60:.0f}-minute talk, {engine} ({result['status']}, final "
        f"{result['final']:.0f} s): wall {result['wall']:.1f} s"
    )
    row = Row(GROUP, measure, f"{rtf:.3f}x real time", f"≤ {TARGETS[engine]}x; {per_stage}")
    return row, {**result, "length": length}


def fit(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least-squares line y = a + b x through points; return (b, a, R²)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx if sxx else 0.0
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for _, y in points)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in points)
    return slope, intercept, 1 - ss_res / ss_tot if ss_tot else 1.0


def linearity(runs: list[dict]) -> list[Row]:
    """Fit wall time against the video's length and against the final's length."""
    rows = []
    for key, what in (("length", "video"), ("final", "final video")):
        slope, intercept, r2 = fit([(run[key], run["wall"]) for run in runs])
        rows.append(
            Row(
                GROUP,
                f"wall time against the {what}'s length, {len(runs)} caption runs",
                f"{slope * 60:.1f} s per minute of {what} + {intercept:.1f} s",
                f"R² {r2:.4f} (1 = a straight line)",
            )
        )
    return rows


def run_end_to_end(
    videos: dict[float, Path], caption_minutes: list[float], sphinx_minutes: list[float]
) -> list[Row]:
    """Run the caption samples, then the pocketsphinx ones; add the linearity fit."""
    rows, runs = [], []
    for minutes in sorted(caption_minutes):
        row, run = row_for(videos[minutes], "captions")
        rows.append(row)
        runs.append(run)
        print(row, flush=True)
    if len(runs) >= 2:
        rows += linearity(runs)
    for minutes in sorted(sphinx_minutes):
        row, _ = row_for(videos[minutes], "pocketsphinx")
        rows.append(row)
        print(row, flush=True)
    return rows
