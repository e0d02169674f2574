"""Peak memory while a run goes on: the server process itself and its worker process groups."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from benchmarks.live_probes import rss_mb
from tests.support.processes import processes_in_group

PROC = Path("/proc")
MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Return a process's resident memory in bytes (0 once it is gone)."""
    try:
        return int(rss_mb(pid) * MB)
    except (OSError, LookupError):
        return 0


def _stat_fields(pid: int) -> list[str]:
    """Return the fields of /proc/<pid>/stat after the command name."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[1].split()


def groups_of_children(parent: int) -> set[int]:
    """Return the process groups led by children of `parent` (a worker leads its own)."""
    groups = set()
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if len(fields) > 2 and int(fields[1]) == parent and int(fields[2]) == int(entry.name):
                groups.add(int(entry.name))
    return groups


def pss_bytes(pid: int) -> int:
    """Return a process's proportional set size in bytes: pages it shares count in part.

    A forked child shares its parent's pages until either writes them; summing RSS over a
    process group counts those pages once per process, summing PSS counts them once.
    """
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def group_memory(group: int) -> dict[str, int]:
    """Return the memory (PSS) of a process group's live processes, summed by name."""
    by_name: dict[str, int] = {}
    for pid, name in processes_in_group(group):
        by_name[name] = by_name.get(name, 0) + pss_bytes(pid)
    return by_name


class PeakMemory:
    """Sample the server's RSS and its workers' group PSS every `interval` s, keep the peaks."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.server_start = rss_bytes(os.getpid())
        self.server_peak = self.server_start
        self.worker_peak = 0
        self.worker_peak_parts: dict[str, int] = {}  # what the group held at its peak, by name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.server_end = rss_bytes(os.getpid())

    def describe_peak(self) -> str:
        """Return what the worker group held at its peak: process names and MB, largest first."""
        parts = sorted(self.worker_peak_parts.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {size / MB:.0f} MB" for name, size in parts)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            self.server_peak = max(self.server_peak, rss_bytes(me))
            for group in groups_of_children(me):
                parts = group_memory(group)
                if sum(parts.values()) > self.worker_peak:
                    self.worker_peak, self.worker_peak_parts = sum(parts.values()), parts
