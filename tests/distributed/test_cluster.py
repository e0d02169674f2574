"""The distributed mode for real: `python app.py` with PIPELINE_EXECUTOR=celery, two
`flask --app app pipeline worker` processes, PostgreSQL, Redis, and a Socket.IO client.

Worker w1 takes the default queue and the media queue, w2 only the media queue, and stages 6 and
7 go to the media queue (CELERY_STAGE_QUEUES=6=media,7=media).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.distributed.conftest import Cluster
from tests.support.events import EventCollector
from tests.support.processes import processes_in_group, wait_for
from tests.support.server import upload_sample

pytestmark = [pytest.mark.distributed, pytest.mark.slow]
ACTIVE = ("queued", "running", "waiting_for_selection")


def status(cluster: Cluster, session_id: str) -> dict:
    """Return a session's status from the web process."""
    return requests.get(f"{cluster.base}/pipeline/status/{session_id}", timeout=10).json()


def finished(cluster: Cluster, session_id: str) -> dict | None:
    """Return the status once the session has ended."""
    answer = status(cluster, session_id)
    return None if answer["status"] in ACTIVE else answer


def execute(cluster: Cluster, body: dict) -> str:
    """Start a session over HTTP; return its id."""
    started = requests.post(f"{cluster.base}/pipeline/execute", json=body, timeout=30)
    assert started.status_code == 202, started.text
    return started.json()["session_id"]


def placements(cluster: Cluster, session_id: str) -> dict[str, tuple[str, str]]:
    """Return {stage name: (worker, queue)} from the session's "runs on worker" log lines."""
    logs = requests.get(f"{cluster.base}/pipeline/logs/{session_id}?limit=10000", timeout=10)
    found = {}
    for record in logs.json()["logs"]:
        name, sep, where = record["message"].partition(" runs on worker ")
        if sep:
            node, _, queue = where.partition(" (queue ")
            found[name] = (node.partition("@")[0], queue.rstrip(")"))
    return found


@pytest.fixture(scope="module")
def two_workers(cluster: Cluster) -> Cluster:
    """Start w1 (clipcast, media) and w2 (media) and wait until both answer."""
    cluster.start_worker("w1", "clipcast,media")
    cluster.start_worker("w2", "media")
    wait_for(lambda: {"w1", "w2"} <= set(cluster.connected_workers()), timeout=60, interval=0.5)
    return cluster


@pytest.fixture(scope="module")
def full_run(two_workers: Cluster, dist_sample: Path) -> dict:
    """Run stages 1-7 on the sample while a Socket.IO client watches; return what it saw."""
    cluster = two_workers
    collector = EventCollector(cluster.base)
    try:
        episode_id = upload_sample(cluster.base, dist_sample)
        started = time.monotonic()
        session_id = execute(cluster, {"episode_id": episode_id, "selected_stages": [*range(1, 8)]})
        wait_for(lambda: collector.of("pipeline_completion", session_id), timeout=240, interval=0.2)
        duration = time.monotonic() - started
        # The last log lines follow the completion on the same channel.
        collector.await_stored_logs(cluster.base, session_id)
    finally:
        collector.close()
    return {
        "episode_id": episode_id,
        "session_id": session_id,
        "events": {name: collector.of(name, session_id) for name in collector.events},
        "duration": duration,
    }


def test_full_run_on_two_workers_streams_every_event(two_workers: Cluster, full_run: dict) -> None:
    cluster, session_id, events = two_workers, full_run["session_id"], full_run["events"]
    completions = events["pipeline_completion"]
    assert len(completions) == 1, completions
    assert completions[0]["status"] == "completed", cluster.logs()
    assert completions[0]["completed_stages"] == [1, 2, 3, 4, 5, 6, 7]
    assert completions[0]["outputs"]["final_video"].endswith("Output/Final/final.mp4")

    progress = events["pipeline_progress"]
    assert len(events["pipeline_update"]) == len(progress)
    for stage in range(1, 8):
        values = [p["progress"] for p in progress if p["stage"] == stage]
        assert values == sorted(values) and values[-1] == 100.0, (stage, values)
    transitions = events["pipeline_transition"]
    assert [t["to_stage"] for t in transitions] == [1, 2, 3, 4, 5, 6, 7]
    assert [t["from_stage"] for t in transitions] == [None, 1, 2, 3, 4, 5, 6]

    logs = events["log_stream"]
    assert [r["seq"] for r in logs] == list(range(1, len(logs) + 1))
    stored = requests.get(f"{cluster.base}/pipeline/logs/{session_id}?limit=10000", timeout=10)
    assert [r["seq"] for r in stored.json()["logs"]] == [r["seq"] for r in logs]

    # Routing: stages 1-5 from the default queue (only w1 takes it), 6-7 from the media queue.
    where = placements(cluster, session_id)
    assert len(where) == 7, where
    queues = [queue for _worker, queue in where.values()]
    assert queues == ["clipcast"] * 5 + ["media"] * 2, where
    assert {worker for worker, _queue in where.values()} == {"w1", "w2"}, where

    final = status(cluster, session_id)
    assert final["status"] == "completed" and final["worker_host"].split("@")[0] in ("w1", "w2")
    media = requests.get(
        f"{cluster.base}{completions[0]['outputs']['final_video']}",
        headers={"Range": "bytes=0-99"},
        timeout=10,
    )
    assert media.status_code == 206 and len(media.content) == 100
    workers = cluster.connected_workers()
    assert workers["w2"]["queues"] == ["media"] and workers["w1"]["concurrency"] == 1
    print(f"full distributed run: {full_run['duration']:.1f} s")


def test_interrupt_through_the_web_api_ends_the_workers_ffmpeg(
    two_workers: Cluster, full_run: dict
) -> None:
    cluster = two_workers
    # force: stage 7 of the full run is unchanged and would be reused without running ffmpeg
    body = {"episode_id": full_run["episode_id"], "selected_stages": [7], "force": True}
    session_id = execute(cluster, body)

    def compiling() -> dict | None:
        answer = status(cluster, session_id)
        pid = answer.get("worker_pid")
        running = pid and any(name == "ffmpeg" for _pid, name in processes_in_group(pid))
        return answer if running else None

    worker_pid = wait_for(compiling, timeout=120, interval=0.05)["worker_pid"]
    started = time.monotonic()
    answer = requests.post(f"{cluster.base}/pipeline/interrupt/{session_id}", timeout=30)
    assert answer.json() == {"status": "interrupted"}
    wait_for(lambda: not processes_in_group(worker_pid), timeout=3)
    assert time.monotonic() - started < 3.0
    final = wait_for(lambda: finished(cluster, session_id), timeout=10, interval=0.2)
    assert final["status"] == "interrupted", final
    assert final["stages"]["7"]["status"] == "interrupted"
    episode_root = cluster.data_dir / "episodes" / full_run["episode_id"]
    assert not list(episode_root.rglob("*.partial*")), "a partial file was left behind"
    again = requests.post(f"{cluster.base}/pipeline/interrupt/{session_id}", timeout=30)
    assert again.json() == {"status": "not_running"}


def test_killed_worker_leaves_the_session_interrupted_and_resume_finishes_it(
    two_workers: Cluster, full_run: dict
) -> None:
    cluster = two_workers
    episode_id = full_run["episode_id"]
    # Other output settings than the full run's, so that resume has real work left for stage 7.
    body = {"episode_id": episode_id, "selected_stages": [6, 7], "output_settings": {"crf": 30}}
    session_id = execute(cluster, body)

    def compiling() -> dict | None:
        answer = status(cluster, session_id)
        stage = answer["stages"]["7"]
        return answer if stage["status"] == "running" and stage["progress"] > 0 else None

    running = wait_for(compiling, timeout=120, interval=0.1)
    victim = running["worker_host"].partition("@")[0]
    survivor = ({"w1", "w2"} - {victim}).pop()
    os.killpg(cluster.workers[victim].pid, signal.SIGKILL)  # the machine is gone
    killed_at = time.monotonic()
    cluster.workers[victim].wait(timeout=10)

    final = wait_for(lambda: finished(cluster, session_id), timeout=40, interval=0.5)
    noticed = time.monotonic() - killed_at
    assert noticed < 30, f"the lost worker was noticed after {noticed:.1f} s"
    assert final["status"] == "interrupted", final
    assert "heartbeat" in final["error"] and "resume" in final["error"], final["error"]
    assert final["stages"]["6"]["status"] == "completed"
    assert final["stages"]["7"]["status"] == "interrupted"
    # Its worker process noticed that nobody relays its events any more and stopped, ffmpeg too.
    wait_for(lambda: not processes_in_group(running["worker_pid"]), timeout=15)

    resumed = requests.post(f"{cluster.base}/pipeline/resume/{session_id}", timeout=30)
    assert resumed.status_code == 202, resumed.text
    new_id = resumed.json()["session_id"]
    done = wait_for(lambda: finished(cluster, new_id), timeout=180, interval=0.5)
    assert done["status"] == "completed", (done, cluster.logs())
    assert {n: done["stages"][n]["status"] for n in ("6", "7")} == {
        "6": "skipped",
        "7": "completed",
    }
    assert placements(cluster, new_id)["Video Compilation"] == (survivor, "media")
    assert (cluster.data_dir / "episodes" / episode_id / "Output/Final/final.mp4").stat().st_size
    print(f"lost worker noticed after {noticed:.1f} s")
