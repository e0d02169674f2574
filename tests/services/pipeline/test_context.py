"""StageContext.cpu_count: all cores by default, capped by PARALLEL_JOBS where the work runs."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pytest

from config.settings import TestConfig, parallel_jobs
from services.episodes.files import EpisodeFiles
from services.pipeline import runner as worker
from services.pipeline.spec import WorkerSpec
from services.run.options import RunOptions
from services.stages.base import Stage, StageContext

pytestmark = pytest.mark.unit


class _CountingStage(Stage):
    """A stage that only records how many parallel jobs its context allows."""

    number = 1
    key = "counting"
    name = "Counting"
    description = "Records ctx.cpu_count."
    sub_stages = ("work",)
    seen: list[int] = []

    def run(self, ctx: StageContext) -> dict:
        """Record the context's cpu_count."""
        self.seen.append(ctx.cpu_count)
        return {}


@pytest.fixture(autouse=True)
def eight_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the machine has 8 cores, with PARALLEL_JOBS unset."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv("PARALLEL_JOBS", raising=False)


def _context(tmp_path: Path, settings: dict) -> StageContext:
    """Return a context for the counting stage with the given server settings."""
    return StageContext(
        stage=_CountingStage(),
        files=EpisodeFiles.for_episode(tmp_path, "ep1"),
        data_dir=tmp_path,
        options=RunOptions.from_dict({}),
        episode_id="ep1",
        session_id="s1",
        emit=lambda event: None,
        settings=settings,
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({}, 8), ({"parallel_jobs": None}, 8), ({"parallel_jobs": 2}, 2), ({"parallel_jobs": 32}, 8)],
)
def test_cpu_count_is_the_cores_capped_by_parallel_jobs(
    tmp_path: Path, settings: dict, expected: int
) -> None:
    assert _context(tmp_path, settings).cpu_count == expected


@pytest.mark.parametrize(("value", "expected"), [(None, 8), ("0", 8), ("3", 3), ("12", 12)])
def test_parallel_jobs_setting_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int
) -> None:
    if value is not None:
        monkeypatch.setenv("PARALLEL_JOBS", value)
    assert parallel_jobs() == expected
    assert TestConfig(tmp_path).PARALLEL_JOBS == expected


def test_worker_gives_stages_the_cap_from_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "STAGES", {1: _CountingStage})
    monkeypatch.setattr(_CountingStage, "seen", [])
    monkeypatch.setenv("PARALLEL_JOBS", "2")
    spec = WorkerSpec(
        session_id="s1", episode_id="ep1", data_dir=str(tmp_path), options=RunOptions([1])
    )
    assert worker.run_session(spec, lambda event: None, threading.Event()) == "completed"
    # A value the server passes in the spec wins over the worker's environment.
    spec = dataclasses.replace(spec, parallel_jobs=1)
    assert worker.run_session(spec, lambda event: None, threading.Event()) == "completed"
    assert _CountingStage.seen == [2, 1]
