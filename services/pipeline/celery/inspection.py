"""Which Celery workers are connected: asked over the broker with a short timeout."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from services.pipeline.celery.queue_settings import all_queues, stage_queue

INSPECT_TIMEOUT_SECONDS = 1.0
INSPECTIONS = ("stats", "active_queues", "active")


def _task_summary(task: dict) -> dict:
    """Return the session and stage a running `clipcast.run_stage` task works on."""
    args = task.get("args") or []
    summary = {"task_id": task.get("id"), "session_id": None, "stage": None}
    if len(args) >= 3 and isinstance(args[2], dict):
        stages = (args[2].get("options") or {}).get("selected_stages") or []
        summary["session_id"] = args[0]
        if isinstance(args[1], int) and 0 <= args[1] < len(stages):
            summary["stage"] = stages[args[1]]
    return summary


def list_workers(app: Flask, timeout: float = INSPECT_TIMEOUT_SECONDS) -> dict:
    """Return the executor, the configured queues and each connected worker's state."""
    config = app.config
    if config.get("PIPELINE_EXECUTOR") != "celery":
        return {"executor": config.get("PIPELINE_EXECUTOR", "local"), "workers": [], "queues": {}}
    from services.pipeline.celery.app import celery_init_app

    celery_app = celery_init_app(app)
    queues = {
        "default": config.get("CELERY_QUEUE", "clipcast"),
        "stages": {str(n): stage_queue(config, n) for n in range(1, 8)},
        "all": all_queues(config),
    }

    def ask(what: str) -> dict:
        return getattr(celery_app.control.inspect(timeout=timeout), what)() or {}

    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)  # a broker that is down answers at once
        with ThreadPoolExecutor(len(INSPECTIONS)) as pool:  # the replies take `timeout` each
            stats, active_queues, active = pool.map(ask, INSPECTIONS)
    except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike
        return {"executor": "celery", "workers": [], "queues": queues, "error": str(exc)}
    workers = []
    for name in sorted(set(stats) | set(active_queues)):
        info = stats.get(name, {})
        workers.append(
            {
                "name": name,
                "host": name.partition("@")[2] or name,
                "pid": info.get("pid"),
                "concurrency": (info.get("pool") or {}).get("max-concurrency"),
                "uptime_seconds": info.get("uptime"),
                "tasks_done": sum((info.get("total") or {}).values()),
                "queues": [q.get("name") for q in active_queues.get(name, [])],
                "running": [_task_summary(t) for t in active.get(name, [])],
            }
        )
    return {"executor": "celery", "workers": workers, "queues": queues}
