"""Clipcast: `create_app()` builds the Flask app; `python app.py` serves it."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
import warnings
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask


def create_app(config: object | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, the pipeline controller, the CLI."""
    from config.settings import Config
    from models import db
    from models.base import tune_sqlite
    from models.schema import ensure_schema
    from routes import register_blueprints
    from routes.guards import install_request_guards
    from routes.sockets import socketio
    from services.pipeline.celery.queue_settings import check_redis_url
    from services.pipeline.controller import PipelineController
    from services.pipeline.events import SocketIOSink
    from services.pipeline.recovery import recover_orphaned_sessions

    load_dotenv()
    app = Flask(__name__)
    settings = config if config is not None else Config()
    app.config.from_mapping(settings.as_dict())
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)

    check_redis_url(app.config["SOCKETIO_MESSAGE_QUEUE"], "SOCKETIO_MESSAGE_QUEUE")
    db.init_app(app)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        cors_allowed_origins=None,  # same origin only
        max_http_buffer_size=1_000_000,
    )
    install_request_guards(app)
    register_blueprints(app)

    with app.app_context():
        tune_sqlite(db.engine)
        ensure_schema(db.engine)
        recover_orphaned_sessions(Path(app.config["DATA_DIR"]))

    sink = SocketIOSink(socketio)
    app.extensions["clipcast.pipeline"] = PipelineController(app, sink, _executor(app, sink))

    from cli.pipeline import pipeline_cli

    app.cli.add_command(pipeline_cli)
    return app


def _executor(app: Flask, sink: object) -> object:
    """Return the executor PIPELINE_EXECUTOR names: local (the default) or celery."""
    from services.pipeline.celery.queue_settings import SetupError

    mode = app.config["PIPELINE_EXECUTOR"]
    if mode == "celery":
        from services.pipeline.celery.executor import CeleryExecutor

        return CeleryExecutor(app, sink)
    if mode != "local":
        raise SetupError(f"PIPELINE_EXECUTOR must be local or celery, not {mode!r}")
    from services.pipeline.local.executor import LocalExecutor

    return LocalExecutor(app, sink)


def _is_loopback(host: str) -> bool:
    """Tell whether a bind address is loopback only."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Serve the dashboard (default http://127.0.0.1:5000)."""
    load_dotenv()
    parser = argparse.ArgumentParser(description="Serve Clipcast")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    if not _is_loopback(args.host) and not (
        os.environ.get("API_TOKEN") and os.environ.get("SECRET_KEY")
    ):
        print(
            f"Refusing to listen on {args.host}: set API_TOKEN and SECRET_KEY first "
            "(see docs/SECURITY.md), or bind to 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    mode = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
    if mode == "eventlet":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import eventlet

            eventlet.monkey_patch()
    from routes.sockets import socketio
    from services.pipeline.celery.queue_settings import SetupError

    try:
        app = create_app()
    except SetupError as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr)
        return 2
    print(f"Clipcast on http://{args.host}:{args.port} (data in {app.config['DATA_DIR']})")
    socketio.run(
        app,
        host=args.host,
        port=args.port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
