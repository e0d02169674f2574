"""A Redis restart in the middle of a run loses no finished work, and the run still finishes.

Uses a private `redis-server` on a free port (append-only, as docs/DISTRIBUTED.md advises), so the
machine's shared Redis is never stopped.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.distributed.conftest import Cluster, running_cluster
from tests.support.events import EventCollector
from tests.support.processes import wait_for
from tests.support.server import upload_sample

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


class PrivateRedis:
    """A redis-server of this test alone, which it can stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Return its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it on its port and directory; wait until it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), timeout=10, interval=0.05)
        client.close()

    def stop(self) -> None:
        """Stop it (SIGTERM: it writes its append-only file and exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _pings(client) -> bool:  # noqa: ANN001
    """Tell whether Redis answers."""
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - any connection error means not yet
        return False


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    """Start a private redis-server (skip when the binary is missing)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def restart_cluster(
    tmp_path_factory: pytest.TempPathFactory, dist_database_url: str, private_redis: PrivateRedis
) -> Iterator[Cluster]:
    """Serve the web process and one worker on the private Redis."""
    data_dir = tmp_path_factory.mktemp("restart") / "data"
    with running_cluster(data_dir, dist_database_url, private_redis.url) as cluster:
        cluster.start_worker("r1", "clipcast,media")
        wait_for(lambda: "r1" in cluster.connected_workers(), timeout=60, interval=0.5)
        yield cluster


def test_redis_restart_mid_run_loses_no_finished_work(
    restart_cluster: Cluster, private_redis: PrivateRedis, dist_sample: Path
) -> None:
    cluster = restart_cluster
    collector = EventCollector(cluster.base)
    episode_id = upload_sample(cluster.base, dist_sample)
    started = requests.post(
        f"{cluster.base}/pipeline/execute",
        json={"episode_id": episode_id, "selected_stages": [1, 2, 3, 4, 5]},
        timeout=30,
    )
    assert started.status_code == 202, started.text
    session_id = started.json()["session_id"]

    def status() -> dict:
        return requests.get(f"{cluster.base}/pipeline/status/{session_id}", timeout=10).json()

    wait_for(lambda: status()["stages"]["2"]["status"] == "running", timeout=60, interval=0.05)
    private_redis.stop()
    time.sleep(2)
    during = status()
    assert during["stages"]["1"]["status"] == "completed"  # in PostgreSQL, not in Redis
    private_redis.start()

    final = wait_for(
        lambda: (answer := status())["status"] not in ("queued", "running") and answer,
        timeout=120,
        interval=0.5,
    )
    assert final["status"] == "completed", (final, cluster.logs())
    assert {final["stages"][str(n)]["status"] for n in range(1, 6)} == {"completed"}
    logs = requests.get(f"{cluster.base}/pipeline/logs/{session_id}?limit=10000", timeout=10)
    seqs = [r["seq"] for r in logs.json()["logs"]]
    assert seqs == list(range(1, len(seqs) + 1))
    # The web process reconnected to the message queue: browsers still hear the end of the run.
    completions = wait_for(
        lambda: collector.of("pipeline_completion", session_id), timeout=30, interval=0.2
    )
    collector.close()
    assert completions[0]["status"] == "completed"
    assert completions[0]["completed_stages"] == [1, 2, 3, 4, 5]
