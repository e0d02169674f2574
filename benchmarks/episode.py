"""A bench episode: a sample uploaded and taken through stages in-process, no server."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from services.episodes.files import EpisodeFiles
from services.run.options import RunOptions
from services.stages.base import Stage, StageContext
from services.stages.registry import STAGES

EPISODE = "bench"


def run_stage(
    stage: type[Stage], data_dir: Path, options: dict | None = None, jobs: int | None = None
) -> float:
    """Run one stage on the bench episode (capped to `jobs` cores); return its wall time."""
    ctx = StageContext(
        stage=stage(),
        files=EpisodeFiles.for_episode(data_dir, EPISODE),
        data_dir=data_dir,
        options=RunOptions.from_dict(options or {}),
        episode_id=EPISODE,
        session_id="bench",
        emit=lambda event: None,
        settings={"allow_private_urls": True, **({"parallel_jobs": jobs} if jobs else {})},
    )
    started = time.monotonic()
    ctx.stage.run(ctx)
    return time.monotonic() - started


def prepare_episode(video: Path, data_dir: Path, last_stage: int = 5) -> EpisodeFiles:
    """Upload `video` (and its captions) and run stages 1..`last_stage` on it."""
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(video, files.source_dir / "video.mp4")
    captions = video.with_suffix(".en.vtt")
    if captions.exists():
        shutil.copy(captions, files.source_dir / "subtitles.en.vtt")
    options = {"source_kind": "upload", "source": "Input/Source/video.mp4"}
    for number in range(1, last_stage + 1):
        run_stage(STAGES[number], data_dir, options)
    return files


@contextmanager
def keeping_compile_dir() -> Iterator[None]:
    """Keep stage 7's work folder and stage 6's smart-cut folders, for replays and comparisons.

    The stages remove them when done; a replay of their ffmpeg commands reads lists there.
    """
    real_rmtree = shutil.rmtree

    def rmtree_but_compile(path, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        name = Path(path).name
        if name != "compile" and not name.startswith(".smartcut-"):
            real_rmtree(path, *args, **kwargs)

    with mock.patch.object(shutil, "rmtree", rmtree_but_compile):
        yield
