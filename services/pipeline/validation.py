"""Stage dependency checks: every selected stage's inputs exist or come from an earlier one."""

from __future__ import annotations

from services.episodes.artifacts import ARTIFACTS, artifact_exists
from services.episodes.files import EpisodeFiles
from services.run.options import RunOptions
from services.stages.registry import STAGES

NEW_EPISODE_HAS = "source"  # the artifact an episode has from the moment it is created


def producer_of(artifact_key: str) -> int | None:
    """Return the number of the stage that writes an artifact."""
    return next((n for n, s in sorted(STAGES.items()) if artifact_key in s.outputs), None)


def stage_dependency_errors(
    files: EpisodeFiles, options: RunOptions, new_episode: bool = False
) -> list[dict]:
    """Return `[{stage, field, message}]` for every selected stage that would lack an input.

    A `new_episode` (not created yet) has its source and nothing else.
    """
    errors: list[dict] = []
    produced: set[str] = set()
    for number in options.selected_stages:
        stage = STAGES[number]
        for key in stage.inputs:
            if new_episode:
                present = key == NEW_EPISODE_HAS
            else:
                present = artifact_exists(key, files, options)
            if key in produced or present:
                continue
            producer = producer_of(key)
            if producer is None or producer == number:
                message = f"stage {number} needs {ARTIFACTS[key].label}"
            else:
                message = (
                    f"stage {number} needs {ARTIFACTS[key].label}: "
                    f"select stage {producer} or run it first"
                )
            errors.append({"stage": number, "field": "selected_stages", "message": message})
        produced.update(stage.outputs)
    return errors
