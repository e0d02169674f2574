"""EngineCall: what an engine of any kind is lent for one call.

Every engine kind is called the same way, `engine.<verb>(what, call)`: the engine reports
measured progress with `call.report(fraction, message)` (an analysis engine also names its
sub-stage), logs with `call.logger`, stops at safe points with `call.checkpoint()` (which
raises StageInterrupted once the user interrupted the run), waits with `call.sleep` so that an
interrupt cuts the wait short, and reports each model request's token counts with
`call.usage(record)`. A stage makes one with `StageContext.engine_call`; a test or a tool may
use `EngineCall()` as it is: it reports nowhere and never stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.run.errors import StageInterrupted

# on_progress(sub_stage or None for the call's own, fraction 0..1, message)
ProgressSink = Callable[[str | None, float, str], None]


def _engine_logger() -> logging.Logger:
    """Return the logger of engines called outside a run."""
    return logging.getLogger("clipcast.engines")


@dataclass
class EngineCall:
    """Progress, log, interrupt and usage of one engine call."""

    logger: logging.Logger = field(default_factory=_engine_logger)
    on_progress: ProgressSink | None = None
    cancel: threading.Event | None = None
    on_usage: Callable[[dict], None] | None = None
    parallel_jobs: int = 1

    @property
    def cancelled(self) -> bool:
        """Tell whether the user asked to stop the run."""
        return self.cancel is not None and self.cancel.is_set()

    def checkpoint(self) -> None:
        """Raise StageInterrupted when the user stopped the run."""
        if self.cancelled:
            raise StageInterrupted("interrupted by the user")

    def report(self, fraction: float, message: str = "", sub_stage: str | None = None) -> None:
        """Report the measured share of the work done (0..1); stops here when interrupted."""
        self.checkpoint()
        if self.on_progress is not None:
            self.on_progress(sub_stage, fraction, message)

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, returning early (by raising) when the run is stopped."""
        if self.cancel is None:
            time.sleep(max(0.0, seconds))
        elif self.cancel.wait(max(0.0, seconds)):
            raise StageInterrupted("interrupted by the user")

    def usage(self, record: dict) -> None:
        """Pass on the token counts of one model request."""
        if self.on_usage is not None:
            self.on_usage(record)
