"""Fixtures of the distributed suite: a private PostgreSQL database, a private Redis db, and real
web and worker processes using them. Skipped with the reason when either service is down."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.support.processes import wait_for
from tests.support.server import ROOT, answers, server_log, start_server

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = 13  # this suite's own db number: only it is flushed


def _listening(host: str, port: int) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _postgres_user() -> str:
    """Return a role that may log in to the `test` database (trust auth)."""
    import psycopg

    for user in ("postgres", "root", os.environ.get("USER") or "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test"):
                return user
        except psycopg.OperationalError:
            continue
    pytest.skip("PostgreSQL on 127.0.0.1:5432 accepts neither postgres nor root on database test")


@pytest.fixture(scope="module")
def dist_database_url() -> Iterator[str]:
    """Create a PostgreSQL database for this test module; drop it afterwards."""
    if not _listening(PG_HOST, PG_PORT):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (scripts/services.sh start)")
    import psycopg

    user = _postgres_user()
    name = f"clipcast_test_{uuid.uuid4().hex[:12]}"
    admin = {"host": PG_HOST, "port": PG_PORT, "user": user, "dbname": "test", "autocommit": True}
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(**admin) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dist_redis_url() -> Iterator[str]:
    """Return the URL of this suite's Redis db, flushed before and after."""
    if not _listening(REDIS_HOST, REDIS_PORT):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (scripts/services.sh start)")
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    client.flushdb()
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    client.flushdb()
    client.close()


def end_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a worker: SIGTERM its main process (a warm shutdown), then SIGKILL its group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # pool processes left behind, if any
    except ProcessLookupError:
        pass
    process.wait(timeout=timeout)


@dataclass
class Cluster:
    """A web process and named Celery worker processes sharing DATA_DIR, PostgreSQL and Redis."""

    base: str
    data_dir: Path
    env: dict
    web: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_worker(self, name: str, queues: str) -> subprocess.Popen:
        """Start `flask --app app pipeline worker` as its own process group."""
        log = open(self.data_dir.parent / f"worker-{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "pipeline", "worker"]
            + ["--concurrency", "1", "--queues", queues, "--name", f"{name}@%h"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.workers[name] = process
        return process

    def connected_workers(self) -> dict[str, dict]:
        """Return the workers `GET /api/workers` lists, by their short name."""
        answer = requests.get(f"{self.base}/api/workers", timeout=10).json()
        return {w["name"].partition("@")[0]: w for w in answer["workers"]}

    def logs(self) -> str:
        """Return the tail of every process log (for assertion messages)."""
        parts = []
        for path in sorted(self.data_dir.parent.glob("*.log")):
            parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


@contextmanager
def running_cluster(data_dir: Path, database_url: str, redis_url: str) -> Iterator[Cluster]:
    """Serve `python app.py` with PIPELINE_EXECUTOR=celery; workers are started by the tests."""
    env = {
        "PIPELINE_EXECUTOR": "celery",
        "CELERY_BROKER_URL": redis_url,
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "CELERY_QUEUE": "clipcast",
        "CELERY_STAGE_QUEUES": "6=media,7=media",
        "WORKER_HEARTBEAT_TIMEOUT": "12",
        "SECRET_KEY": "distributed-test",
        "ALLOW_PRIVATE_URLS": "1",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The web process creates the tables before any worker starts (no create_all race).
    web = start_server(data_dir, port, **env)
    running = Cluster(base=base, data_dir=data_dir, env=env, web=web)
    try:
        wait_for(lambda: answers(base) or web.poll() is not None, timeout=60, interval=0.2)
        assert web.poll() is None, server_log(data_dir).read_text()
        yield running
    finally:
        for process in running.workers.values():
            end_group(process)
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, dist_database_url: str, dist_redis_url: str
) -> Iterator[Cluster]:
    """Return a running web process on the suite's PostgreSQL database and Redis db."""
    data_dir = tmp_path_factory.mktemp("cluster") / "data"
    with running_cluster(data_dir, dist_database_url, dist_redis_url) as running:
        yield running


@pytest.fixture(scope="module")
def dist_sample(sample_talk: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a module's own copy of the 1-minute sample talk and its captions."""
    target = tmp_path_factory.mktemp("dist-input") / sample_talk.name
    for path in sample_talk.parent.glob(f"{sample_talk.stem}*"):
        shutil.copy(path, target.parent / path.name)
    return target
