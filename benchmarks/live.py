"""Live monitoring figures: event latency, HTTP answers during a run, and a log flood.

Everything runs against a real server process (`benchmarks.live_server`: `python app.py`
with a stamping Socket.IO sink) on a temporary DATA_DIR, watched by python-socketio clients
over websocket, each in its own process as browsers are (`benchmarks.live_listener`).
Latency is defined as follows:

- server emit → client receive: the client's `time.time()` when its event handler runs,
  minus `emitted_at`, the server's `time.time()` taken in the Socket.IO sink just before
  `socketio.emit` (same machine, same clock). It covers Socket.IO encoding, the per-client
  send queue and writer thread, loopback TCP and the client's decoding; it leaves out the
  recorder's log batching and progress coalescing, which are deliberate.
- worker log line → client receive: the client's receive time minus the log record's own
  time in the worker (`timestamp` of `log_stream`). It adds the event pipe, the relay thread,
  the database commit and the up-to-100 ms batching of recorder.LOG_FLUSH_SECONDS.

With 20 clients, the fan-out row (first → last client to receive the same emit) shows how
much of that is delivering one event to twenty sockets in turn. Each figure comes with the
server's CPU time and run-queue wait (schedstat), to tell a busy server from a busy machine.

Run alone with `.venv/bin/python -m benchmarks.live`.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.live_probes import (
    BenchServer,
    HttpPoller,
    Listeners,
    ServerWatch,
    emit_delays,
    fanout_spreads,
    log_delays,
    of,
    percentile,
    relay_delays,
    rss_mb,
    unix_time,
)
from benchmarks.report import Row, markdown_table
from services.pipeline.recorder import LOG_FLUSH_SECONDS
from services.sources.sample import generate_sample
from tests.support.processes import wait_for
from tests.support.server import upload_sample

GROUP = "Live monitoring"
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MINUTES = 1
RUN_STAGES = [1, 2, 3, 4, 5, 6, 7]
CLIENT_COUNTS = (1, 20)
RUN_TIMEOUT = 150.0
POLL_SECONDS = 0.025
FLOOD_RATE = 2000
FLOOD_SECONDS = 30
FRAME_RATE = 60  # a browser's usual animation frames a second


def say(message: str) -> None:
    """Tell the person waiting what is being measured (stderr, so the table stays clean)."""
    print(f"[live {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    """Return the machine's 1-minute load average and core count, as context for a figure."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def cpu_row(watch: ServerWatch, wall: float, during: str) -> Row:
    """Return how much CPU the server used and how long its threads waited for one."""
    running, waiting = watch.cpu_seconds()
    return Row(
        GROUP,
        f"Server process {during}: CPU used / run-queue wait, summed over its threads",
        f"{running:.1f} s / {waiting:.1f} s over {wall:.0f} s (schedstat)",
        "waiting ≈ 0 on an idle machine",
    )


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f} ms"


def p50_p99(delays: list[float], count: bool = True) -> str:
    """Format the median and 99th percentile of delays, with the sample size."""
    text = f"{ms(percentile(delays, 50))} / {ms(percentile(delays, 99))}"
    return f"{text} (n = {len(delays):,})" if count else text


def execute(base: str, episode_id: str, stages: list[int]) -> str:
    """Start a session over HTTP; return its id."""
    answer = requests.post(
        f"{base}/pipeline/execute",
        json={"episode_id": episode_id, "selected_stages": stages},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["session_id"]


def await_end(base: str, session_id: str, timeout: float) -> dict:
    """Poll a session's status until it has ended; interrupt it if it takes too long."""

    def ended() -> dict | None:
        status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=10).json()
        return status if status["status"] in ("completed", "failed", "interrupted") else None

    try:
        return wait_for(ended, timeout, interval=0.25)
    except TimeoutError:
        requests.post(f"{base}/pipeline/interrupt/{session_id}", timeout=10)
        raise


def http_rows(poller: HttpPoller, session_id: str, during: str) -> list[Row]:
    """Return the slowest answers and the longest gap the poller saw."""
    status_path = f"/pipeline/status/{session_id}"
    failed = f", {poller.failures()} not 200" if poller.failures() else ""
    return [
        Row(
            GROUP,
            f"Slowest HTTP answer {during}: GET /pipeline/status/<id> / GET /",
            f"{ms(poller.slowest(status_path))} / {ms(poller.slowest('/'))} "
            f"({len(poller.answers)} requests{failed})",
            "≤ 100 ms",
        ),
        Row(
            GROUP,
            f"Longest gap between HTTP answers {during} (polled every {ms(POLL_SECONDS)})",
            ms(poller.longest_gap()),
            "≤ 100 ms",
        ),
    ]


def measure_run(server: BenchServer, episode_id: str, count: int) -> list[Row]:
    """Run the stages with `count` listeners connected and an HTTP poller; return their rows."""
    base, who = server.base, f"{count} client{'s' if count > 1 else ''}"
    say(f"stages {RUN_STAGES[0]}-{RUN_STAGES[-1]} watched by {who}")
    with Listeners(base, count) as listeners:
        load = load_average()
        started = time.monotonic()
        with ServerWatch(server.pid) as watch:
            session_id = execute(base, episode_id, RUN_STAGES)
            paths = [f"/pipeline/status/{session_id}", "/"]
            with HttpPoller(base, paths, POLL_SECONDS) as poller:
                done = await_end(base, session_id, RUN_TIMEOUT)
        wall = time.monotonic() - started
        clients = listeners.collect(session_id)
    lines = [[p["seq"] for _at, _n, p in of(c, "log_stream")] for c in clients]
    relay = p50_p99(relay_delays(clients), count=False)
    complete = all(seqs == list(range(1, len(lines[0]) + 1)) for seqs in lines)
    fanout = Row(
        GROUP,
        f"Fan-out of one event to {who}: first → last client receive, p50 / p99",
        p50_p99(fanout_spreads(clients)),
    )
    return [
        Row(
            GROUP,
            f"Run watched by {who}: stages {RUN_STAGES[0]}-{RUN_STAGES[-1]}, "
            f"{SAMPLE_MINUTES}-min sample",
            f"{done['status']} in {wall:.1f} s ({load} at start); {len(lines[0])} log lines, "
            + ("gap-free at every client" if complete else "GAPS at some client"),
        ),
        Row(
            GROUP,
            f"Server emit → client receive, {who}: p50 / p99",
            p50_p99(emit_delays(clients)),
            "p99 ≤ 50 ms",
        ),
        *([fanout] if count > 1 else []),
        Row(
            GROUP,
            f"Worker log line → client receive, {who}: p50 / p99",
            f"{p50_p99(log_delays(clients))}; worker → server emit {relay}",
            f"includes ≤ {ms(LOG_FLUSH_SECONDS)} batching",
        ),
        *http_rows(poller, session_id, f"during the run ({who})"),
        cpu_row(watch, wall, f"during the run ({who})"),
    ]


def stored_seqs(base: str, session_id: str) -> list[int]:
    """Return every stored log seq of a session, paging GET /pipeline/logs."""
    seqs: list[int] = []
    while True:
        page = requests.get(
            f"{base}/pipeline/logs/{session_id}",
            params={"after": seqs[-1] if seqs else 0, "limit": 10000},
            timeout=30,
        ).json()["logs"]
        if not page:
            return seqs
        seqs += [r["seq"] for r in page]


def measure_flood(server: BenchServer, video: Path) -> list[Row]:
    """Stream FLOOD_RATE lines a second for FLOOD_SECONDS through the server; return its rows."""
    base, sent = server.base, FLOOD_RATE * FLOOD_SECONDS
    say(f"log flood: {FLOOD_RATE:,} lines a second for {FLOOD_SECONDS} s")
    episode_id = upload_sample(base, video)
    with Listeners(base, 1) as listeners:
        for path in ("/", "/pipeline/", f"/episodes/api/episodes/{episode_id}"):
            requests.get(base + path, timeout=10)  # warm up before the baseline
        time.sleep(0.5)
        rss_before, load = rss_mb(server.pid), load_average()
        started = time.monotonic()
        with ServerWatch(server.pid) as watch:
            session_id = execute(base, episode_id, [1])
            paths = [f"/pipeline/status/{session_id}", "/"]
            with HttpPoller(base, paths, POLL_SECONDS) as poller:
                await_end(base, session_id, FLOOD_SECONDS + 90)
        wall = time.monotonic() - started
        rss_after = rss_mb(server.pid)
        clients = listeners.collect(session_id)
    logs = of(clients[0], "log_stream")
    seqs = [p["seq"] for _at, _n, p in logs]
    stored = stored_seqs(base, session_id)
    first, last = unix_time(logs[0][2]["timestamp"]), unix_time(logs[-1][2]["timestamp"])
    caught_up = max(at for at, _n, _p in logs) - last
    gap_free = "gap-free 1..N" if seqs == list(range(1, sent + 1)) else "NOT gap-free"
    return [
        Row(
            GROUP,
            f"Log flood: lines received by the client / sent ({FLOOD_RATE:,}/s for "
            f"{FLOOD_SECONDS} s)",
            f"{len(seqs):,} / {sent:,}, {gap_free} (sent at "
            f"{(len(logs) - 1) / (last - first):,.0f}/s; {load} at start)",
            "all, no loss",
        ),
        Row(
            GROUP,
            "Log flood: lines in the database (GET /pipeline/logs pages)",
            f"{len(stored):,}"
            + (", gap-free" if stored == list(range(1, len(stored) + 1)) else ", NOT gap-free"),
            f"{sent:,}",
        ),
        Row(
            GROUP,
            "Log flood: server RSS growth, after - before (peak during)",
            f"{rss_after - rss_before:+.1f} MB ({rss_before:.0f} → {rss_after:.0f} MB, "
            f"peak {watch.peak_rss:.0f} MB)",
            "< 50 MB",
        ),
        Row(
            GROUP,
            "Log flood: client has every line, after the worker logged the last",
            ms(caught_up),
            f"≈ {ms(LOG_FLUSH_SECONDS)} batching",
        ),
        Row(
            GROUP,
            "Log flood: server emit → client receive / worker line → client receive, p99",
            f"{ms(percentile(emit_delays(clients), 99))} / "
            f"{ms(percentile(log_delays(clients), 99))}",
        ),
        *http_rows(poller, session_id, "during the flood"),
        cpu_row(watch, wall, "during the flood"),
    ]


def browser_row() -> Row:
    """Describe how the browser's log console keeps up, from the JS constants themselves."""
    console = (ROOT / "static/js/logconsole.js").read_text()
    dom = (ROOT / "static/js/dom.js").read_text()
    max_lines = int(re.search(r"maxLines = (\d+)", console)[1])
    earlier = int(re.search(r"EARLIER_BATCH = (\d+)", console)[1])
    batcher = re.search(r"export function frameBatcher\(.*?\n}\n", dom, re.S)[0]
    per_frame = "requestAnimationFrame" in batcher
    return Row(
        GROUP,
        "Browser log console (static/js/logconsole.js, dom.js frameBatcher)",
        f"lines appended {'once per animation frame' if per_frame else 'UNBATCHED'} "
        f"(≈ {FLOOD_RATE / FRAME_RATE:.0f} lines a frame at {FLOOD_RATE:,}/s, {FRAME_RATE} Hz); "
        f"at most {max_lines:,} lines in the DOM, older ones {earlier} at a time on demand",
        "bounded DOM, one layout a frame",
    )


def run_live() -> list[Row]:
    """Measure live monitoring against real server processes; return the rows."""
    with tempfile.TemporaryDirectory(prefix="clipcast-live-") as scratch_name:
        scratch = Path(scratch_name)
        say(f"generating a {SAMPLE_MINUTES}-minute sample talk")
        video = generate_sample(scratch / "talk.mp4", minutes=SAMPLE_MINUTES, size="320x180")
        rows: list[Row] = []
        with BenchServer(scratch / "run") as server:
            episode_id = upload_sample(server.base, video)
            for count in CLIENT_COUNTS:
                rows += measure_run(server, episode_id, count)
        flood = ("--flood-rate", str(FLOOD_RATE), "--flood-seconds", str(FLOOD_SECONDS))
        with BenchServer(scratch / "flood", *flood) as server:
            rows += measure_flood(server, video)
        rows.append(browser_row())
        return rows


if __name__ == "__main__":
    print(markdown_table(run_live()))
