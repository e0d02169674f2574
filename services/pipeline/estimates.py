"""How long each stage is expected to take on this machine, learned from its finished runs.

A stage's cost is measured in seconds of work per second of source. The figure is the median
of the last runs that completed on this machine (waits for the user left out), else a default
until there is history. The monitor weighs its overall bar and its ETA by these figures.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import median

from sqlalchemy import select

from models import Episode, PipelineSession, StageRun, db
from services.episodes.files import EpisodeFiles
from services.episodes.selection import media_seconds
from services.stages.registry import STAGES

# Seconds of work per second of source before this machine has finished the stage once.
DEFAULT_RATES: dict[int, float] = {1: 0.05, 2: 0.5, 3: 0.05, 4: 0.03, 5: 0.1, 6: 0.15, 7: 0.15}
# How many recent runs of a stage the median is taken over.
RECENT_RUNS = 20
# A stage is never expected to take less than this (start-up, file writes).
MIN_SECONDS = 2.0
# How many finished stage runs are read at most.
ROWS_READ = 2000
# Options under which a stage waits for the user: its wall time is not the machine's work.
WAITS_FOR_USER = {4: ("segment_mode", "manual"), 5: ("audio_method", "manual")}


def waited_for_user(stage: int, options: dict | None) -> bool:
    """Tell whether a run of `stage` with these options paused for the user."""
    rule = WAITS_FOR_USER.get(stage)
    return bool(rule and (options or {}).get(rule[0]) == rule[1])


def learned_rates(limit: int = RECENT_RUNS) -> dict[int, tuple[float, int]]:
    """Return `{stage: (median seconds per source second, runs counted)}` of finished runs."""
    rows = db.session.execute(
        select(
            StageRun.stage,
            StageRun.started_at,
            StageRun.finished_at,
            Episode.duration,
            PipelineSession.options,
        )
        .join(PipelineSession, StageRun.session_id == PipelineSession.id)
        .join(Episode, PipelineSession.episode_id == Episode.id)
        .where(
            StageRun.status == "completed",
            StageRun.started_at.is_not(None),
            StageRun.finished_at.is_not(None),
            Episode.duration > 0,
        )
        .order_by(StageRun.finished_at.desc())
        .limit(ROWS_READ)
    )
    samples: dict[int, list[float]] = defaultdict(list)
    for stage, started, finished, source, options in rows:
        if len(samples[stage]) >= limit or waited_for_user(stage, options):
            continue
        seconds = (finished - started).total_seconds()
        if seconds >= 0:
            samples[stage].append(seconds / source)
    return {stage: (median(values), len(values)) for stage, values in samples.items() if values}


def stage_estimates(source_seconds: float | None) -> dict:
    """Return every stage's expected cost, and its seconds for a source of that length."""
    learned = learned_rates()
    known = source_seconds if source_seconds and source_seconds > 0 else None
    stages = {}
    for number in sorted(STAGES):
        rate, runs = learned.get(number, (DEFAULT_RATES.get(number, 0.1), 0))
        seconds = max(MIN_SECONDS, rate * known) if known else None
        stages[str(number)] = {
            "per_source_second": round(rate, 5),
            "expected_seconds": None if seconds is None else round(seconds, 1),
            "runs": runs,
        }
    return {"source_seconds": known, "min_seconds": MIN_SECONDS, "stages": stages}


def session_estimates(session_id: str, data_dir: Path) -> dict | None:
    """Return the expected stage durations for a session's episode, or None for no session.

    The source's length is the episode's, else stage 1's metadata file (written before the
    episode's row learns it).
    """
    session = db.session.get(PipelineSession, session_id)
    if session is None:
        return None
    episode = db.session.get(Episode, session.episode_id)
    seconds = episode.duration if episode else None
    if not seconds:
        seconds = media_seconds(EpisodeFiles.for_episode(data_dir, session.episode_id))
    return {"session_id": session_id, **stage_estimates(seconds)}
