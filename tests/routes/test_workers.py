"""`GET /api/workers` in the default local mode: no Celery, no broker, an empty list."""

from __future__ import annotations


def test_local_mode_lists_no_workers(client) -> None:  # noqa: ANN001
    answer = client.get("/api/workers")
    assert answer.status_code == 200
    assert answer.get_json() == {"executor": "local", "workers": [], "queues": {}}
