"""WorkerSpec: what a worker process is told to run, from the controller to the runner."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from services.run.options import RunOptions


@dataclass(frozen=True)
class WorkerSpec:
    """One session's run as the worker process receives it (JSON on its stdin, or a task arg)."""

    session_id: str
    episode_id: str
    data_dir: str
    options: RunOptions
    allow_private_urls: bool = False
    # None: the worker reads PARALLEL_JOBS from its own machine's environment.
    parallel_jobs: int | None = None
    skip_unchanged: bool = False
    previous_fingerprints: dict[str, str] = field(default_factory=dict)
    # When each stage's previous fingerprint was last computed for real (ISO 8601 UTC).
    previous_times: dict[str, str] = field(default_factory=dict)

    @property
    def selected_stages(self) -> list[int]:
        """Return the stages to run, in order."""
        return list(self.options.selected_stages)

    def settings(self) -> dict:
        """Return the server settings a stage reads (`StageContext.settings`), as given."""
        values: dict = {"allow_private_urls": self.allow_private_urls}
        if self.parallel_jobs is not None:
            values["parallel_jobs"] = self.parallel_jobs
        return values

    def for_stage(self, stage: int, data_dir: Path) -> WorkerSpec:
        """Return the spec of one stage, on this machine's mount of DATA_DIR."""
        options = dataclasses.replace(self.options, selected_stages=[stage])
        return dataclasses.replace(self, data_dir=str(data_dir), options=options)

    def previous_fingerprint(self, stage: int) -> str | None:
        """Return the fingerprint of the stage's last completed (or reused) run."""
        return self.previous_fingerprints.get(str(stage))

    def previous_time(self, stage: int) -> str | None:
        """Return when the stage last completed with its previous fingerprint, if known."""
        return self.previous_times.get(str(stage))

    def to_json(self) -> dict:
        """Return the spec as JSON-able data (the wire format of the pipe and the task queue)."""
        return {
            "session_id": self.session_id,
            "episode_id": self.episode_id,
            "data_dir": self.data_dir,
            "options": self.options.to_dict(),
            "settings": self.settings(),
            "skip_unchanged": self.skip_unchanged,
            "previous_fingerprints": dict(self.previous_fingerprints),
            "previous_times": dict(self.previous_times),
        }

    @classmethod
    def from_json(cls, data: dict) -> WorkerSpec:
        """Build a spec from `to_json` data; raise ValueError (OptionsError) when malformed."""
        settings = data.get("settings") or {}
        jobs = settings.get("parallel_jobs")
        return cls(
            session_id=str(data["session_id"]),
            episode_id=str(data["episode_id"]),
            data_dir=str(data["data_dir"]),
            options=RunOptions.from_dict(data.get("options") or {}),
            allow_private_urls=bool(settings.get("allow_private_urls", False)),
            parallel_jobs=int(jobs) if jobs is not None else None,
            skip_unchanged=bool(data.get("skip_unchanged", False)),
            previous_fingerprints={
                str(k): str(v) for k, v in (data.get("previous_fingerprints") or {}).items()
            },
            previous_times={str(k): str(v) for k, v in (data.get("previous_times") or {}).items()},
        )
