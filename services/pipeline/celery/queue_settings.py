"""Settings of the distributed mode: Celery options, per-stage queues and the Redis safety check."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

REDIS_SCHEMES = ("redis", "rediss", "valkey", "valkeys")
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Sending a task to Redis: a web request gives up fast; a worker queuing the next stage rides
# out a Redis restart (about a minute) rather than dropping the session.
SUBMIT_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
NEXT_STAGE_RETRY_POLICY = {
    "max_retries": 15,
    "interval_start": 0,
    "interval_step": 1,
    "interval_max": 5,
}


class SetupError(RuntimeError):
    """The distributed mode is misconfigured or would be unsafe; the message says how to fix it."""


def host_is_loopback(host: str) -> bool:
    """Tell whether a host name or address is loopback only."""
    if host.lower() in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_redis_url(url: str | None, setting: str) -> None:
    """Refuse a Redis URL on a non-loopback host without a password (anyone could queue work)."""
    if not url:
        return
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme not in REDIS_SCHEMES:
        return  # unix sockets and other transports are not reachable over the network this way
    host = parts.hostname or "localhost"
    if host_is_loopback(host) or parts.password:
        return
    raise SetupError(
        f"{setting} points at Redis on {host} without a password: anyone who can reach it could "
        "inject pipeline tasks or events and read every event. Set `requirepass` in redis.conf "
        f"and put the password in the URL (redis://:PASSWORD@{host}:{parts.port or 6379}/0), "
        "or use a loopback address."
    )


def parse_stage_queues(text: str) -> dict[int, str]:
    """Parse "2=asr,6=ffmpeg,7=ffmpeg" into {2: "asr", 6: "ffmpeg", 7: "ffmpeg"}."""
    queues: dict[int, str] = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        stage, sep, queue = (s.strip() for s in item.partition("="))
        if not (sep and stage.isdigit() and 1 <= int(stage) <= 7 and QUEUE_NAME.fullmatch(queue)):
            raise SetupError(
                f"CELERY_STAGE_QUEUES: {item!r} is not STAGE=QUEUE with a stage from 1 to 7 and "
                "a queue name of letters, digits, _ . - (example: 2=asr,6=ffmpeg,7=ffmpeg)"
            )
        queues[int(stage)] = queue
    return queues


def stage_queue(config: Mapping, stage: int) -> str:
    """Return the queue of a stage's task: its own (CELERY_STAGE_QUEUES), else CELERY_QUEUE."""
    return parse_stage_queues(config.get("CELERY_STAGE_QUEUES", "")).get(
        stage, config.get("CELERY_QUEUE", "clipcast")
    )


def all_queues(config: Mapping) -> list[str]:
    """Return every configured queue: the default one first, then the per-stage ones."""
    queues = [config.get("CELERY_QUEUE", "clipcast")]
    for queue in parse_stage_queues(config.get("CELERY_STAGE_QUEUES", "")).values():
        if queue not in queues:
            queues.append(queue)
    return queues


def celery_settings(config: Mapping) -> dict:
    """Return the Celery configuration of the distributed mode (see docs/DISTRIBUTED.md)."""
    broker = config.get("CELERY_BROKER_URL")
    if not broker:
        raise SetupError(
            "the distributed mode needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0"
        )
    check_redis_url(broker, "CELERY_BROKER_URL")
    parse_stage_queues(config.get("CELERY_STAGE_QUEUES", ""))  # fail at start, not mid-run
    return {
        "broker_url": broker,
        # JSON only on the wire: a message can never carry code to unpickle.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "event_serializer": "json",
        "task_ignore_result": True,  # state lives in the database, not in a result backend
        # A message is acknowledged only once its stage ended; a worker lost mid-task puts it
        # back, and the database claim makes sure a stage never runs twice (see claims.py).
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": config.get("CELERY_QUEUE", "clipcast"),
        # Longer than the longest stage, or Redis hands a running stage's message to another worker.
        "broker_transport_options": {
            "visibility_timeout": int(config.get("CELERY_VISIBILITY_TIMEOUT", 43200))
        },
        "broker_connection_retry_on_startup": True,
        # A Redis restart must not kill running stages: they finish and record to the database.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
    }
