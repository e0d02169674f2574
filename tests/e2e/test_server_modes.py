"""`python app.py` itself: eventlet mode serves events, and a public bind needs a token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import free_port
from tests.support.processes import wait_for
from tests.support.server import ROOT, answers, server_log, start_server, upload_sample


@pytest.mark.slow
def test_eventlet_mode_runs_and_streams(tmp_path: Path, sample_copy: Path) -> None:
    port = free_port()
    server = start_server(tmp_path / "data", port, SOCKETIO_ASYNC_MODE="eventlet")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(base), timeout=30, interval=0.2)
        received: list[dict] = []
        client = socketio.Client(reconnection=False)
        client.on("pipeline_completion", received.append)
        client.connect(base, transports=["websocket"], wait_timeout=10)
        episode_id = upload_sample(base, sample_copy)
        started = requests.post(
            f"{base}/pipeline/execute",
            timeout=10,
            json={"episode_id": episode_id, "selected_stages": [1, 2, 3]},
        )
        assert started.status_code == 202, started.text
        wait_for(lambda: received, timeout=120, interval=0.2)
        client.disconnect()
        assert received[0]["status"] == "completed"
        assert received[0]["completed_stages"] == [1, 2, 3]
    finally:
        server.terminate()
        server.wait(timeout=10)
    output = server_log(tmp_path / "data").read_text()
    assert "EventletDeprecationWarning" not in output
    assert "Eventlet is deprecated" not in output
    # Patched before Flask is imported: no "exception was thrown while monkey_patching".
    assert "Traceback" not in output, output
    assert "monkey_patching" not in output


def test_server_start_does_not_import_pydub(tmp_path: Path) -> None:
    script = (
        "import sys, app; app.create_app(); print(sorted(m for m in sys.modules if 'pydub' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_public_bind_without_token_is_refused(tmp_path: Path) -> None:
    environment = {**os.environ, "DATA_DIR": str(tmp_path)}
    environment.pop("API_TOKEN", None)
    environment.pop("SECRET_KEY", None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "app.py", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "API_TOKEN" in result.stderr
    assert time.monotonic() - started < 30
