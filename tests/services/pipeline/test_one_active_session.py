"""Simultaneous starts on one episode: the database lets exactly one of them through."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app import create_app
from config.settings import TestConfig
from models import Episode, PipelineSession, db
from models.session import ACTIVE_STATUSES
from services.pipeline.controller import SessionConflict
from services.pipeline.spec import WorkerSpec
from services.run.options import RunOptions
from tests.distributed.conftest import dist_database_url  # noqa: F401 - a fixture

STARTS = 8


class CountingExecutor:
    """Takes sessions without running them; counts what it was given."""

    name = "counting"

    def __init__(self) -> None:
        self.submitted: list[WorkerSpec] = []
        self._lock = threading.Lock()

    def submit(self, _session_id: str, spec: WorkerSpec) -> None:
        """Keep one spec."""
        with self._lock:
            self.submitted.append(spec)

    def is_running(self, _session_id: str) -> bool:
        """Every submitted session counts as running."""
        return True


@pytest.fixture(params=["sqlite", "postgresql"])
def database_app(request: pytest.FixtureRequest, data_dir: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Return an app on SQLite, or on the distributed suite's PostgreSQL when it runs."""
    if request.param == "postgresql":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("dist_database_url"))
    application = create_app(TestConfig(data_dir))
    with application.app_context():
        assert db.engine.dialect.name == request.param
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _episode(app, data_dir: Path) -> str:  # noqa: ANN001
    """Insert an uploaded episode whose source exists; return its id."""
    with app.app_context():
        episode = Episode(id=f"ep{id(app) % 10**8}", source="Input/video.mp4", source_kind="upload")
        source = data_dir / "episodes" / episode.id / "Input" / "video.mp4"
        source.parent.mkdir(parents=True)
        source.write_bytes(b"x")
        db.session.add(episode)
        db.session.commit()
        return episode.id


def test_simultaneous_starts_give_one_session(database_app, data_dir: Path) -> None:  # noqa: ANN001
    controller = database_app.extensions["clipcast.pipeline"]
    controller.executor = CountingExecutor()
    episode_id = _episode(database_app, data_dir)
    barrier = threading.Barrier(STARTS)
    outcomes: list[str] = []

    def start() -> None:
        with database_app.app_context():
            episode = db.session.get(Episode, episode_id)
            options = RunOptions.from_dict({"selected_stages": [1]})
            options.source, options.source_kind = episode.source, episode.source_kind
            barrier.wait()
            try:
                controller.start(episode, options)
                outcomes.append("started")
            except SessionConflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * (STARTS - 1) + ["started"]
    assert len(controller.executor.submitted) == 1
    with database_app.app_context():
        active = db.session.query(PipelineSession).filter(
            PipelineSession.episode_id == episode_id, PipelineSession.status.in_(ACTIVE_STATUSES)
        )
        assert active.count() == 1
        # Once it has ended, the episode takes a new run.
        active.one().status = "completed"
        db.session.commit()
        episode = db.session.get(Episode, episode_id)
        options = RunOptions.from_dict({"selected_stages": [1]})
        options.source, options.source_kind = episode.source, episode.source_kind
        assert controller.start(episode, options).status == "queued"
