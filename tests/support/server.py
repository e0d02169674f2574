"""Start `python app.py` as a real server process for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def server_log(data_dir: Path) -> Path:
    """Return the file a test server's output goes to."""
    return Path(data_dir).parent / f"{Path(data_dir).name}-server.log"


def start_server(data_dir: Path, port: int, **env: str) -> subprocess.Popen:
    """Start `python app.py` on a port with extra environment; output goes to server_log()."""
    environment = {**os.environ, "DATA_DIR": str(data_dir), "ALLOW_PRIVATE_URLS": "1", **env}
    environment.pop("API_TOKEN", None)
    with open(server_log(data_dir), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def upload_sample(base: str, video: Path) -> str:
    """Upload a video with its sidecar `.en.vtt` captions; return the episode id."""
    with open(video, "rb") as v, open(video.with_suffix(".en.vtt"), "rb") as s:
        response = requests.post(
            f"{base}/episodes/api/episodes",
            files={"file": (video.name, v), "subtitles": (f"{video.stem}.en.vtt", s)},
            timeout=30,
        )
    assert response.status_code == 201, response.text
    return response.json()["episode_id"]


def answers(base: str) -> bool:
    """Tell whether the server at `base` answers its health check."""
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False
