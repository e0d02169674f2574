"""Run several media jobs at once with one combined, monotonic, measured progress."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from services.run.errors import StageInterrupted

ProgressCallback = Callable[[float], None]
# A job body gets its own progress callback (fractions 0..1) and an abort event to pass to
# run_ffmpeg as `cancel`; it is set when the user interrupts or another job failed.
JobBody = Callable[[ProgressCallback, threading.Event], None]


@dataclass(frozen=True)
class Job:
    """One unit of parallel work; `weight` is its share of the total (e.g. seconds of media)."""

    key: str
    weight: float
    body: JobBody


class CombinedProgress:
    """Sum weighted per-job fractions into one fraction, reported under a lock (never back)."""

    def __init__(self, weights: dict[str, float], report: ProgressCallback) -> None:
        self._weights = {key: max(0.0, w) for key, w in weights.items()}
        self._total = sum(self._weights.values())
        self._done = dict.fromkeys(self._weights, 0.0)
        self._report = report
        self._last = -1.0
        self._lock = threading.Lock()

    def update(self, key: str, fraction: float) -> None:
        """Record that job `key` is `fraction` done and report the combined fraction."""
        with self._lock:
            fraction = min(1.0, max(self._done[key], fraction))
            self._done[key] = fraction
            if self._total > 0:
                value = sum(self._done[k] * w for k, w in self._weights.items()) / self._total
            else:
                value = sum(self._done.values()) / max(1, len(self._done))
            if value > self._last:
                self._last = value
                self._report(value)

    def callback(self, key: str) -> ProgressCallback:
        """Return the progress callback of one job."""
        return lambda fraction: self.update(key, fraction)


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int,
    report: ProgressCallback,
    cancel: threading.Event,
    poll_seconds: float = 0.2,
) -> None:
    """Run `jobs` on up to `workers` threads; stop all on the first failure or on `cancel`."""
    progress = CombinedProgress({job.key: job.weight for job in jobs}, report)
    if not jobs:
        report(1.0)
        return
    abort = threading.Event()

    def execute(job: Job) -> None:
        if abort.is_set():
            raise StageInterrupted("stopped before it started")
        job.body(progress.callback(job.key), abort)
        progress.update(job.key, 1.0)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="media-job") as pool:
        futures: list[Future] = [pool.submit(execute, job) for job in jobs]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=poll_seconds, return_when=FIRST_EXCEPTION)
            failed = any(f.done() and not f.cancelled() and f.exception() for f in futures)
            if cancel.is_set() or failed:
                abort.set()
                for future in pending:
                    future.cancel()
                wait(pending)
                break
    errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
    real = [e for e in errors if not isinstance(e, StageInterrupted)]
    if real:
        raise real[0]
    if cancel.is_set() or errors:
        raise StageInterrupted("interrupted by the user")
