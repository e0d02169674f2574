"""Shared fixtures: the app on a temporary DATA_DIR, clients, a live server, sample media."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from config.settings import TestConfig


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty DATA_DIR for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def app(data_dir: Path):  # noqa: ANN201
    """Return an app built with TestConfig on the temporary DATA_DIR."""
    application = create_app(TestConfig(data_dir))
    yield application
    controller = application.extensions["clipcast.pipeline"]
    for session_id in list(controller.executor._handles):
        controller.executor.interrupt(session_id)
    with application.app_context():
        from models import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """Return Flask's test client."""
    return app.test_client()


@pytest.fixture
def socketio_client(app, client):  # noqa: ANN001, ANN201
    """Return Flask-SocketIO's test client bound to the test client's session."""
    from routes.sockets import socketio

    test_client = socketio.test_client(app, flask_test_client=client)
    yield test_client
    if test_client.is_connected():
        test_client.disconnect()


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(app) -> Iterator[str]:  # noqa: ANN001
    """Serve the app (threading mode, real websockets) on a loopback port; yield its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def sample_talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate the 1-minute synthetic talk (mp4 + .en.vtt sidecar) once per test run."""
    from services.sources.sample import generate_sample

    out = tmp_path_factory.mktemp("sample") / "talk.mp4"
    return generate_sample(out, minutes=1.0, size="320x180")


@pytest.fixture
def sample_copy(sample_talk: Path, tmp_path: Path) -> Path:
    """Return a private copy of the sample talk and its captions."""
    target = tmp_path / "input" / sample_talk.name
    target.parent.mkdir()
    for path in sample_talk.parent.glob(f"{sample_talk.stem}*"):
        shutil.copy(path, target.parent / path.name)
    return target
