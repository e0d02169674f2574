"""Speech work on all cores: tasks in worker processes, each with its own decoder, cancellable."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

# Why a pool may not start: e.g. a daemonic Celery worker may not have children.
POOL_UNAVAILABLE = (OSError, AssertionError, BrokenProcessPool)


def pool_context() -> multiprocessing.context.BaseContext:
    """Return the fork context where there is one, else spawn.

    Fork starts workers without re-running the parent's `__main__` (which spawn does, and an
    unguarded script would run its work again); a worker only decodes, takes no locks the
    parent's threads hold, and builds its own decoder.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_in_pool(
    task: Callable[..., Any],
    items: Iterable[Any],
    *,
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple,
    on_result: Callable[[Any, Any], None],
    check_cancelled: Callable[[], None],
) -> None:
    """Run `task(item)` for every item in `workers` processes; call `on_result(item, result)`.

    Results arrive as tasks finish; `check_cancelled` runs between them (and raises to stop).
    On any exception queued tasks are dropped and the pool is not waited for.
    """
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=pool_context(),
        initializer=initializer,
        initargs=initargs,
    )
    stopped = False
    try:
        futures: dict[Future, Any] = {executor.submit(task, item): item for item in items}
        for future in as_completed(futures):
            check_cancelled()
            on_result(futures[future], future.result())
    except BaseException:
        stopped = True
        raise
    finally:
        executor.shutdown(wait=not stopped, cancel_futures=True)
