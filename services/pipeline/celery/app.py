"""The Celery app of the distributed mode, bound to Flask (Flask's Celery pattern)."""

from __future__ import annotations

import os
import socket

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

from services.pipeline.celery.queue_settings import all_queues, celery_settings


def celery_init_app(app: Flask) -> Celery:
    """Create (once) the Celery app whose tasks run inside an app context of `app`."""
    if "celery" in app.extensions:
        return app.extensions["celery"]

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config))
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    import services.pipeline.celery.tasks  # noqa: F401 - registers the tasks

    def reset_database_pool(**_kwargs: object) -> None:
        # A forked pool process must not share the parent's database connections.
        from models import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    worker_process_init.connect(reset_database_pool, weak=False)
    return celery_app


def default_node_name() -> str:
    """Return a node name unique on this machine (several workers may share a host)."""
    return f"clipcast-{os.getpid()}@{socket.gethostname()}"


def run_worker(
    app: Flask,
    concurrency: int = 1,
    queues: str | None = None,
    name: str | None = None,
    loglevel: str = "INFO",
) -> None:
    """Run a Celery worker in this process until it is stopped (SIGTERM: finish, then exit)."""
    celery_app = celery_init_app(app)
    executor = app.extensions["clipcast.pipeline"].executor
    if hasattr(executor, "close"):
        executor.close()  # the web process sweeps; a worker must not fork with a live thread
    if not app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        # Whatever the web process's mode setting says here, a worker's events go to browsers.
        app.config["SOCKETIO_MESSAGE_QUEUE"] = app.config["CELERY_BROKER_URL"]
    wanted = queues or ",".join(all_queues(app.config))
    celery_app.worker_main(
        [
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={concurrency}",
            f"--queues={wanted}",
            f"--hostname={name or default_node_name()}",
            "--pool=prefork",
            "--without-mingle",
            "--without-gossip",
        ]
    )
