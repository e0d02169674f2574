"""An evaluation episode: a source taken through the seven stages in-process, then measured."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.episodes.files import EpisodeFiles
from services.run.options import RunOptions
from services.stages.base import StageContext
from services.stages.registry import STAGES


@dataclass
class StageTimes:
    """Wall seconds per stage number, and the stage that failed (with its message), if any."""

    seconds: dict[int, float] = field(default_factory=dict)
    failed: int | None = None
    error: str = ""

    @property
    def completed(self) -> int:
        """Return how many stages completed."""
        return len(self.seconds) - (1 if self.failed else 0)


def talk_video(audio: Path, out: Path, title: str = "") -> Path:
    """Write an mp4 of `audio` over a plain dark picture (a recorded talk without a camera)."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part.mp4")
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", "color=c=0x1d2733:s=640x360:r=25", "-i", str(audio)]
    command += ["-shortest", "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage"]
    command += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"]
    command += ["-metadata", f"title={title}", str(tmp)]
    subprocess.run(command, check=True)
    tmp.replace(out)
    return out


def run_all_stages(
    video: Path, data_dir: Path, episode: str, options: dict | None = None
) -> tuple[EpisodeFiles, StageTimes]:
    """Upload `video` as a new episode and run stages 1-7 on it with default options."""
    files = EpisodeFiles.for_episode(data_dir, episode)
    shutil.rmtree(files.root, ignore_errors=True)
    files.source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(video, files.source_dir / f"video{video.suffix}")
    values = {"source_kind": "upload", "source": f"Input/Source/video{video.suffix}"}
    run_options = RunOptions.from_dict({**values, **(options or {})})
    times = StageTimes()
    for number in range(1, 8):
        ctx = StageContext(
            stage=STAGES[number](),
            files=files,
            data_dir=data_dir,
            options=run_options,
            episode_id=episode,
            session_id=f"eval-{episode}",
            emit=lambda event: None,
            settings={"allow_private_urls": True},
        )
        started = time.monotonic()
        try:
            ctx.stage.run(ctx)
        except Exception as exc:  # noqa: BLE001 - the report names the stage that failed
            times.seconds[number] = time.monotonic() - started
            times.failed, times.error = number, f"{type(exc).__name__}: {exc}"
            break
        times.seconds[number] = time.monotonic() - started
    return files, times


def read_json(path: Path) -> dict:
    """Return a JSON file's object, or {} when it is missing."""
    return json.loads(path.read_text()) if path.exists() else {}
