"""Process inspection and polling helpers for end-to-end tests."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def processes_in_group(pgid: int) -> list[tuple[int, str]]:
    """Return (pid, command name) of every live process in a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if os.getpgid(pid) != pgid:
                continue
            stat = (entry / "stat").read_text()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        if state != "Z":
            found.append((pid, stat.split("(", 1)[1].split(")", 1)[0]))
    return found


def wait_for(
    predicate: Callable[[], object],
    timeout: float,
    interval: float = 0.05,
    pause: Callable[[float], object] = time.sleep,
) -> object:
    """Poll until `predicate()` is truthy; return its value or raise TimeoutError.

    `pause(seconds)` waits between polls (a Playwright page waits through its own loop).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        pause(interval)
