"""A DATA_DIR that fills up: the run fails saying so, uploads get 507, and after freeing space
the episode runs again. DATA_DIR is a real small file system (a tmpfs mount)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.media import make_video
from tests.support.processes import wait_for

pytestmark = pytest.mark.slow

TMPFS_SIZE = "128m"
LEFT_FREE = 256 * 1024  # room for the database's few writes, not for a final video


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """Return a DATA_DIR on its own small tmpfs (skipped where mounting is not allowed)."""
    path = tmp_path / "small"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def fill(data_dir: Path, name: str, leave: int) -> Path:
    """Take all but about `leave` bytes of DATA_DIR's free space with one file."""
    filler = data_dir / name
    size = shutil.disk_usage(data_dir).free - leave
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while size > 0:
            try:
                os.posix_fallocate(fd, 0, size)
                break
            except OSError:  # the file system's own blocks: ask for a little less
                size -= 64 * 1024
    finally:
        os.close(fd)
    return filler


def upload(client, video: Path):  # noqa: ANN001, ANN201
    """Upload a video and its sidecar captions; return the response."""
    with open(video, "rb") as handle, open(video.with_suffix(".en.vtt"), "rb") as captions:
        return client.post(
            "/episodes/api/episodes",
            data={"file": (handle, video.name), "subtitles": (captions, "talk.en.vtt")},
        )


def start(client, episode_id: str, stages: list[int]) -> str:  # noqa: ANN001
    """Start a session; return its id."""
    started = client.post(
        "/pipeline/execute", json={"episode_id": episode_id, "selected_stages": stages}
    )
    assert started.status_code == 202, started.get_json()
    return started.get_json()["session_id"]


def run(app, client, episode_id: str, stages: list[int]) -> dict:  # noqa: ANN001
    """Run stages to their end; return the session's status."""
    session_id = start(client, episode_id, stages)
    assert app.extensions["clipcast.pipeline"].executor.wait(session_id, timeout=300)
    return client.get(f"/pipeline/status/{session_id}").get_json()


def test_a_full_disk_fails_stage_7_clearly_and_a_new_run_completes(
    app,  # noqa: ANN001
    client,  # noqa: ANN001
    data_dir: Path,
    sample_copy: Path,
    tmp_path: Path,
) -> None:
    executor = app.extensions["clipcast.pipeline"].executor
    answer = upload(client, sample_copy)
    assert answer.status_code == 201, answer.get_json()
    episode_id = answer.get_json()["episode_id"]
    assert run(app, client, episode_id, [1, 2, 3, 4, 5, 6])["status"] == "completed"

    fillers = [fill(data_dir, "filler-1", LEFT_FREE)]
    session_id = start(client, episode_id, [7])
    # Stage 7 fails for want of space. Whether the database could still record that, or the
    # relay stopped the worker and waits for the database to take writes again, the worker
    # ends either way.
    wait_for(lambda: not executor.worker_alive(session_id), timeout=120)

    fillers.append(fill(data_dir, "filler-2", 0))
    other = make_video(tmp_path / "other.mp4", seconds=1)
    with open(other, "rb") as handle:
        refused = client.post("/episodes/api/episodes", data={"file": (handle, other.name)})
    assert refused.status_code == 507
    assert refused.get_json()["error"].startswith("disk full: 0 MB free in DATA_DIR")

    for filler in fillers:
        filler.unlink()
    assert executor.wait(session_id, timeout=60)
    failed = client.get(f"/pipeline/status/{session_id}").get_json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith("disk full: 0 MB free in DATA_DIR"), failed["error"]
    assert failed["stages"]["7"]["status"] == "failed"
    assert failed["stages"]["7"]["error"] == failed["error"]

    again = run(app, client, episode_id, [7])
    assert again["status"] == "completed", again["error"]
    assert (data_dir / "episodes" / episode_id / again["outputs"]["final_video"]).is_file()
