"""What `benchmarks.live` watches a server with: listener processes, HTTP polls, /proc."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import requests

from tests.support.processes import wait_for
from tests.support.server import answers

ROOT = Path(__file__).resolve().parents[1]
# Settings that would send the bench server elsewhere (a queue, another database, a token).
FOREIGN_SETTINGS = ("API_TOKEN", "SOCKETIO_MESSAGE_QUEUE", "CELERY_BROKER_URL", "DATABASE_URL")


class BenchServer:
    """A `benchmarks.live_server` process on a free port and its own temporary DATA_DIR."""

    def __init__(self, data_dir: Path, *extra_args: str) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "benchmarks.live_server", "--port", str(self.port)]
        self.args += list(extra_args)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> BenchServer:
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
        env.update(
            DATA_DIR=str(self.data_dir),
            ALLOW_PRIVATE_URLS="1",
            PIPELINE_EXECUTOR="local",
            SOCKETIO_ASYNC_MODE="threading",
        )
        with open(self.log_path, "ab") as log:
            # Its own session, as a service has: the simulated browsers run on this machine too,
            # and should not share the server's scheduling group.
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(lambda: answers(self.base) or self.process.poll() is not None, timeout=30)
        except TimeoutError:
            self.__exit__()
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"bench server exited: {self.log_path.read_text()[-2000:]}")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        """Return the server's process id."""
        assert self.process is not None
        return self.process.pid


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


Received = list[tuple[float, str, dict]]  # one listener's (receive time, event, payload)


class Listeners:
    """`benchmarks.live_listener` processes, one a simulated browser, connected to a server."""

    def __init__(self, base: str, count: int) -> None:
        command = [sys.executable, "-m", "benchmarks.live_listener", base]
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for _ in range(count)
        ]

    def __enter__(self) -> Listeners:
        for process in self.processes:
            if process.stdout.readline().strip() != b"ready":
                self.__exit__()
                raise RuntimeError("a listener could not connect")
        return self

    def __exit__(self, *_exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()

    def collect(self, session_id: str) -> list[Received]:
        """Return each listener's events of a session (after its completion arrived)."""
        for process in self.processes:
            process.stdin.write(session_id.encode() + b"\n")
            process.stdin.flush()
        return [
            [(at, name, payload) for at, name, payload in json.loads(process.stdout.readline())]
            for process in self.processes
        ]


def of(received: Received, event: str) -> Received:
    """Return one event name's arrivals."""
    return [r for r in received if r[1] == event]


def emit_delays(clients: list[Received]) -> list[float]:
    """Return, in seconds, receive time minus the server's `emitted_at` of every event seen."""
    return [at - p["emitted_at"] for c in clients for at, _name, p in c if "emitted_at" in p]


def fanout_spreads(clients: list[Received]) -> list[float]:
    """Return, per event emitted once to several clients, last minus first receive time."""
    arrivals: dict[tuple[str, float], list[float]] = defaultdict(list)
    for c in clients:
        for at, name, p in c:
            if "emitted_at" in p:
                arrivals[(name, p["emitted_at"])].append(at)
    return [max(times) - min(times) for times in arrivals.values() if len(times) > 1]


def log_delays(clients: list[Received]) -> list[float]:
    """Return, in seconds, receive time minus the worker's own time of every log line seen."""
    return [at - unix_time(p["timestamp"]) for c in clients for at, _n, p in of(c, "log_stream")]


def relay_delays(clients: list[Received]) -> list[float]:
    """Return, in seconds, the server's emit minus the worker's own time of each log line."""
    return [
        p["emitted_at"] - unix_time(p["timestamp"]) for _at, _n, p in of(clients[0], "log_stream")
    ]


def unix_time(iso: str) -> float:
    """Return the unix time of an ISO 8601 timestamp with an offset."""
    return datetime.fromisoformat(iso).timestamp()


def percentile(values: list[float], pct: float) -> float:
    """Return the nearest-rank percentile of values (NaN when there are none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class HttpPoller:
    """Polls GET paths in turn every `interval` s from a thread; notes each answer's time."""

    def __init__(self, base: str, paths: list[str], interval: float = 0.025) -> None:
        self.base, self.paths, self.interval = base, paths, interval
        self.answers: list[tuple[str, float, float, int]] = []  # path, done at, took, status
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="http-poller", daemon=True)

    def __enter__(self) -> HttpPoller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _poll(self) -> None:
        http = requests.Session()
        turn = 0
        while not self._stop.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            started = time.monotonic()
            try:
                status = http.get(self.base + path, timeout=10).status_code
            except requests.RequestException:
                status = 0
            done = time.monotonic()
            self.answers.append((path, done, done - started, status))
            self._stop.wait(self.interval)

    def slowest(self, path: str) -> float:
        """Return the longest answer time of one path, in seconds."""
        return max((took for p, _done, took, _s in self.answers if p == path), default=math.nan)

    def longest_gap(self) -> float:
        """Return the longest time between two consecutive answers, in seconds."""
        done = [d for _p, d, _t, _s in self.answers]
        return max((b - a for a, b in zip(done, done[1:], strict=False)), default=math.nan)

    def failures(self) -> int:
        """Return how many polls did not answer 200."""
        return sum(1 for *_rest, status in self.answers if status != 200)


def rss_mb(pid: int) -> float:
    """Return a process's resident set size (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for pid {pid}")


class ServerWatch:
    """Samples a process from a thread: peak RSS, and CPU used and waited for by all its threads.

    The CPU figures come from /proc/<pid>/task/<tid>/schedstat (time running, time runnable
    but waiting for a CPU), so a slow answer can be told apart: busy server, or busy machine.
    """

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval, self.peak_rss = pid, interval, 0.0
        self._start: dict[int, tuple[int, int]] = self._schedstat()
        self._last: dict[int, tuple[int, int]] = dict(self._start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="server-watch", daemon=True)

    def __enter__(self) -> ServerWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._last.update(self._schedstat())

    def _schedstat(self) -> dict[int, tuple[int, int]]:
        found = {}
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                running, waiting, _slices = (task / "schedstat").read_text().split()
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
            found[int(task.name)] = (int(running), int(waiting))
        return found

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, rss_mb(self.pid))
            self._last.update(self._schedstat())
            self._stop.wait(self.interval)

    def cpu_seconds(self) -> tuple[float, float]:
        """Return (seconds running, seconds waiting for a CPU) of all threads while watched."""
        running = waiting = 0
        for tid, (run, wait) in self._last.items():
            run0, wait0 = self._start.get(tid, (0, 0))  # a thread born while watched: all of it
            running, waiting = running + run - run0, waiting + wait - wait0
        return running / 1e9, waiting / 1e9
