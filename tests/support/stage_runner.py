"""Run one stage directly (no worker process, no Flask) and collect the events it emits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.episodes.files import EpisodeFiles
from services.run.options import RunOptions
from services.stages.base import Stage, StageContext


@dataclass
class StageRun:
    """The result of running one stage: its return value and every event."""

    result: dict | None
    events: list[dict] = field(default_factory=list)

    @property
    def progress(self) -> list[dict]:
        """Return only the progress events."""
        return [e for e in self.events if e["type"] == "progress"]


def run_stage(
    stage_cls: type[Stage],
    data_dir: Path,
    episode_id: str,
    settings: dict | None = None,
    events: list[dict] | None = None,
    **options,
) -> StageRun:
    """Run `stage_cls` on an episode folder under `data_dir` with the given options."""
    files = EpisodeFiles.for_episode(data_dir, episode_id)
    files.ensure_dirs()
    events = [] if events is None else events
    ctx = StageContext(
        stage=stage_cls(),
        files=files,
        data_dir=Path(data_dir),
        options=RunOptions.from_dict(options),
        episode_id=episode_id,
        session_id="test-session",
        emit=events.append,
        settings=settings or {"allow_private_urls": True},
    )
    result = ctx.stage.run(ctx)
    return StageRun(result=result, events=events)


def assert_monotonic_progress(events: list[dict], min_sub_stages: int = 2) -> None:
    """Check progress never decreases, ends at 100 and covers at least N sub-stages."""
    values = [e["progress"] for e in events if e["type"] == "progress"]
    assert values, "no progress reported"
    assert all(b >= a for a, b in zip(values, values[1:], strict=False)), values
    assert values[-1] == 100.0, values[-1]
    subs = {e["sub_stage"] for e in events if e["type"] == "progress"}
    assert len(subs) >= min_sub_stages, subs
