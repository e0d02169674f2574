"""What every stage is (a small class with sub-stages, inputs, outputs and `run`) and what it sees.

`StageContext` is the per-run handle a stage gets: files, options, measured progress,
interrupt, and the `EngineCall` it lends its engines.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from services.episodes.files import EpisodeFiles
from services.run.call import EngineCall
from services.run.errors import StageInterrupted
from services.run.options import RunOptions


class Stage:
    """Base class of the seven stages; subclasses declare the class attributes and `run`."""

    number: ClassVar[int]
    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    sub_stages: ClassVar[tuple[str, ...]]
    # Relative cost of each sub-stage, used to turn sub-stage fractions into stage progress.
    weights: ClassVar[tuple[float, ...] | None] = None
    # Artifact keys (see services.episodes.artifacts) this stage reads and writes.
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: StageContext) -> dict | None:
        """Do the stage's work; return a small dict of output paths (episode-relative)."""
        raise NotImplementedError

    @classmethod
    def outputs_untouched(cls, files: EpisodeFiles, options: RunOptions) -> bool:
        """Tell whether the outputs are still the files this stage wrote (checked before reuse)."""
        return True

    @classmethod
    def sub_stage_weights(cls) -> tuple[float, ...]:
        """Return one positive weight per sub-stage."""
        weights = cls.weights or tuple(1.0 for _ in cls.sub_stages)
        if len(weights) != len(cls.sub_stages):
            raise ValueError(f"{cls.__name__}: weights and sub_stages differ in length")
        return weights

    @classmethod
    def describe(cls) -> dict:
        """Return the stage's public description (the UI reads names from here only)."""
        return {
            "number": cls.number,
            "key": cls.key,
            "name": cls.name,
            "description": cls.description,
            "sub_stages": list(cls.sub_stages),
            "inputs": list(cls.inputs),
            "outputs": list(cls.outputs),
        }


EventEmitter = Callable[[dict], None]


@dataclass
class StageContext:
    """Per-stage handle given to `Stage.run`: report progress, read options, check cancel."""

    stage: Stage
    files: EpisodeFiles
    data_dir: Path
    options: RunOptions
    episode_id: str
    session_id: str
    emit: EventEmitter
    # Server-side settings the stage may need (never user input): allow_private_urls,
    # parallel_jobs (PARALLEL_JOBS, the cap of cpu_count), ...
    settings: dict = field(default_factory=dict)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _progress: float = 0.0
    _started: float = field(default_factory=time.monotonic)
    _sub_stage: str | None = None

    @property
    def logger(self) -> logging.Logger:
        """Return the stage's logger; its records reach the session log."""
        return logging.getLogger(f"clipcast.stages.{self.stage.key}")

    @property
    def cpu_count(self) -> int:
        """Return how many parallel jobs to run: the cores, capped by settings' parallel_jobs."""
        cores = max(1, os.cpu_count() or 1)
        cap = self.settings.get("parallel_jobs")
        return max(1, min(cores, int(cap))) if cap else cores

    @property
    def progress_value(self) -> float:
        """Return the stage progress reported so far (0..100)."""
        return self._progress

    @property
    def cancelled(self) -> bool:
        """Tell whether the user asked to stop the run."""
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise StageInterrupted if the run was interrupted."""
        if self.cancel_event.is_set():
            raise StageInterrupted("interrupted by the user")

    def progress(
        self,
        sub_stage: str,
        fraction: float,
        message: str = "",
        eta_seconds: float | None = None,
    ) -> None:
        """Report that `sub_stage` is `fraction` (0..1) done; stage progress never goes back."""
        names = self.stage.sub_stages
        if sub_stage not in names:
            raise ValueError(f"{self.stage.name} has no sub-stage {sub_stage!r}")
        index = names.index(sub_stage)
        weights = self.stage.sub_stage_weights()
        fraction = min(1.0, max(0.0, float(fraction)))
        done = sum(weights[:index]) + weights[index] * fraction
        value = max(self._progress, 100.0 * done / sum(weights))
        self._progress = value
        if eta_seconds is None:
            eta_seconds = self._estimate_eta(value)
        self._sub_stage = sub_stage
        self.emit(
            {
                "type": "progress",
                "stage": self.stage.number,
                "sub_stage": sub_stage,
                "sub_stage_index": index,
                "sub_stage_count": len(names),
                "progress": round(value, 2),
                "message": message,
                "eta_seconds": None if eta_seconds is None else round(eta_seconds, 1),
            }
        )

    def _estimate_eta(self, value: float) -> float | None:
        """Extrapolate the time left from the measured progress rate of this stage."""
        elapsed = time.monotonic() - self._started
        if value < 2.0 or elapsed < 1.0:
            return None
        return elapsed * (100.0 - value) / value

    def wait_until(self, condition: Callable[[], bool], reason: str, poll: float = 0.5) -> None:
        """Pause the run (status waiting_for_selection) until `condition()` holds or interrupt."""
        if condition():
            return
        self.emit({"type": "waiting", "stage": self.stage.number, "reason": reason})
        self.logger.info("Waiting: %s", reason)
        while not condition():
            self.check_cancelled()
            time.sleep(poll)
        self.emit({"type": "resumed", "stage": self.stage.number})
        self.logger.info("Continuing: the wait is over")

    def record_usage(self, usage: dict) -> None:
        """Report the token usage of one model request (the session adds it up)."""
        self.emit({**usage, "type": "usage", "stage": self.stage.number})

    def engine_call(self, sub_stage: str, message: str = "") -> EngineCall:
        """Return the engine call context of this stage: progress lands on `sub_stage`."""

        def on_progress(named: str | None, fraction: float, text: str) -> None:
            self.progress(named or sub_stage, fraction, text or message)

        return EngineCall(
            logger=self.logger,
            on_progress=on_progress,
            cancel=self.cancel_event,
            on_usage=self.record_usage,
            parallel_jobs=self.cpu_count,
        )

    def sub_progress(self, sub_stage: str, message: str = "") -> Callable[[float], None]:
        """Return a callback that reports fractions of one sub-stage (for media helpers)."""
        return lambda fraction: self.progress(sub_stage, fraction, message)
