"""Distributed-mode settings: per-stage queues, JSON-only Celery, no passwordless remote Redis."""

from __future__ import annotations

import pytest

from services.pipeline.celery.queue_settings import (
    SetupError,
    all_queues,
    celery_settings,
    check_redis_url,
    parse_stage_queues,
    stage_queue,
)

CONFIG = {
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CELERY_QUEUE": "clipcast",
    "CELERY_STAGE_QUEUES": "2=asr, 6=ffmpeg,7=ffmpeg",
    "CELERY_VISIBILITY_TIMEOUT": 43200,
}


def test_stage_queues_route_each_stage() -> None:
    assert parse_stage_queues("2=asr, 6=ffmpeg,7=ffmpeg") == {2: "asr", 6: "ffmpeg", 7: "ffmpeg"}
    assert parse_stage_queues("") == {}
    assert [stage_queue(CONFIG, n) for n in range(1, 8)] == [
        "clipcast",
        "asr",
        "clipcast",
        "clipcast",
        "clipcast",
        "ffmpeg",
        "ffmpeg",
    ]
    assert all_queues(CONFIG) == ["clipcast", "asr", "ffmpeg"]


@pytest.mark.parametrize("text", ["2", "8=gpu", "two=asr", "2=", "=asr", "2=asr;6=ffmpeg"])
def test_malformed_stage_queues_are_refused(text: str) -> None:
    with pytest.raises(SetupError, match="CELERY_STAGE_QUEUES"):
        parse_stage_queues(text)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://localhost:6379/0",
        "redis://[::1]:6379/0",
        "redis://:s3cret@10.0.0.5:6379/0",
        "rediss://user:s3cret@redis.example.org:6380/0",
        "unix:///run/redis.sock",
        None,
    ],
)
def test_loopback_or_password_protected_redis_is_accepted(url: str | None) -> None:
    check_redis_url(url, "CELERY_BROKER_URL")


@pytest.mark.parametrize(
    "url", ["redis://10.0.0.5:6379/0", "redis://redis.internal/0", "rediss://user@db.example/1"]
)
def test_remote_redis_without_password_is_refused(url: str) -> None:
    with pytest.raises(SetupError, match="without a password") as caught:
        check_redis_url(url, "SOCKETIO_MESSAGE_QUEUE")
    assert "SOCKETIO_MESSAGE_QUEUE" in str(caught.value)


def test_celery_settings_are_json_only_with_late_acks() -> None:
    settings = celery_settings(CONFIG)
    assert settings["task_serializer"] == settings["result_serializer"] == "json"
    assert settings["accept_content"] == ["json"] == settings["result_accept_content"]
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["broker_transport_options"]["visibility_timeout"] == 43200
    assert settings["task_default_queue"] == "clipcast"


def test_celery_settings_need_a_safe_broker() -> None:
    with pytest.raises(SetupError, match="CELERY_BROKER_URL"):
        celery_settings({**CONFIG, "CELERY_BROKER_URL": None})
    with pytest.raises(SetupError, match="without a password"):
        celery_settings({**CONFIG, "CELERY_BROKER_URL": "redis://192.168.1.9:6379/0"})
