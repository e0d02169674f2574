"""Clipcast: `create_app()` builds the Flask app; `python app.py` serves it."""

from __future__ import annotations

# Only the standard library, python-dotenv and config.settings (both stdlib-only) are imported
# here: with SOCKETIO_ASYNC_MODE=eventlet, main() monkey-patches before Flask is loaded.
import argparse
import ipaddress
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import load_dotenv

from config.settings import ServeSettings  # the standard library only

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: object | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, the pipeline controller, the CLI."""
    from flask import Flask

    from config.settings import Config
    from models import db
    from models.base import tune_sqlite
    from models.schema import ensure_schema
    from routes import register_blueprints
    from routes.guards import install_request_guards
    from routes.sockets import install_socket_guard, socketio
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
    install_socket_guard(app)
    register_blueprints(app)

    with app.app_context():
        tune_sqlite(db.engine, app.config["DB_BUSY_TIMEOUT"])
        _open_database(db.engine, ensure_schema)
        recover_orphaned_sessions(Path(app.config["DATA_DIR"]))

    sink = SocketIOSink(socketio)
    controller = PipelineController(app, sink, _executor(app, sink))
    app.extensions["clipcast.pipeline"] = controller
    with app.app_context():
        controller.restart_queued()  # sessions a stopped server left waiting in its queue

    from cli.pipeline import pipeline_cli

    app.cli.add_command(pipeline_cli)
    return app


def _open_database(engine: object, ensure_schema: object) -> None:
    """Create the tables and check the database; a SetupError says what is wrong and what to do."""
    from sqlalchemy.exc import SQLAlchemyError

    from services.pipeline.celery.queue_settings import SetupError
    from services.server.database_health import database_problem, opening_problem

    try:
        ensure_schema(engine)
    except SQLAlchemyError as exc:
        raise SetupError(opening_problem(exc, engine)) from exc
    problem = database_problem(engine)
    if problem:
        raise SetupError(problem)


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
    serve = ServeSettings.from_env()
    parser = argparse.ArgumentParser(description="Serve Clipcast")
    parser.add_argument("--host", default=serve.host)
    parser.add_argument("--port", type=int, default=serve.port)
    args = parser.parse_args(argv)
    if not _is_loopback(args.host) and not serve.has_token_and_key:
        print(
            f"Refusing to listen on {args.host}: set API_TOKEN and SECRET_KEY first "
            "(see docs/SECURITY.md), or bind to 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if serve.async_mode == "eventlet":
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
