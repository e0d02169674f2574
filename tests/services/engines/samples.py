"""Episodes made from the synthetic talk generator (services.sources.sample), for quality tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from services.atomic import read_json
from services.episodes.files import EpisodeFiles

SPEAKER_MARK = re.compile(r"^>> [A-Z]+: ", re.M)


def sample_episode(sample: Path, data_dir: Path, episode_id: str, keep_speakers: bool = True):
    """Make an episode (16 kHz audio + captions) from a generated sample; return its files."""
    files = EpisodeFiles.for_episode(data_dir, episode_id)
    files.ensure_dirs()
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(sample),
            "-vn",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-c:a",
            "pcm_s16le",
            str(files.original_audio),
        ],
        check=True,
    )
    captions = sample.with_name(f"{sample.stem}.en.vtt")
    if keep_speakers:
        shutil.copy(captions, files.captions("en"))
    else:  # captions that do not say who speaks
        text = SPEAKER_MARK.sub("", captions.read_text(encoding="utf-8"))
        files.captions("en").write_text(text, encoding="utf-8")
    return files


def topic_blocks(sample: Path) -> list[dict]:
    """Return the planted topic blocks of a generated sample."""
    return read_json(sample.with_name(f"{sample.stem}.topics.json"))


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the seconds two spans share."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
