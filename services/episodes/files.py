"""EpisodeFiles: the one place that knows the layout of an episode folder (API.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_safe_id(value: str) -> bool:
    """Tell whether a string is usable as an episode, section or clip id in a file name."""
    return bool(SAFE_ID.match(value or ""))


@dataclass(frozen=True)
class EpisodeFiles:
    """Paths of every artifact of one episode."""

    root: Path

    @classmethod
    def for_episode(cls, data_dir: Path, episode_id: str) -> EpisodeFiles:
        """Return the files of `episode_id` under `DATA_DIR/episodes/`."""
        if not is_safe_id(episode_id):
            raise ValueError(f"invalid episode id: {episode_id!r}")
        return cls(Path(data_dir) / "episodes" / episode_id)

    # Input
    @property
    def input_dir(self) -> Path:
        return self.root / "Input"

    @property
    def source_dir(self) -> Path:
        """Where uploaded or imported source files are kept under generated names."""
        return self.input_dir / "Source"

    @property
    def original_video(self) -> Path:
        return self.input_dir / "original_video.mp4"

    @property
    def original_audio(self) -> Path:
        return self.input_dir / "original_audio.wav"

    @property
    def metadata(self) -> Path:
        return self.input_dir / "metadata.json"

    def captions(self, language: str) -> Path:
        """Return the WebVTT caption path for one language."""
        return self.input_dir / f"captions.{language}.vtt"

    def caption_files(self) -> list[Path]:
        """Return every caption file present, sorted by name."""
        return sorted(self.input_dir.glob("captions.*.vtt"))

    # Processing
    @property
    def processing_dir(self) -> Path:
        return self.root / "Processing"

    @property
    def transcript(self) -> Path:
        return self.processing_dir / "transcript.json"

    @property
    def analysis(self) -> Path:
        return self.processing_dir / "analysis_results.json"

    @property
    def selected_segments(self) -> Path:
        return self.processing_dir / "selected_segments.json"

    # Output
    @property
    def script(self) -> Path:
        return self.root / "Output" / "Scripts" / "unified_podcast_script.json"

    @property
    def audio_dir(self) -> Path:
        return self.root / "Output" / "Audio"

    def section_audio(self, section_id: str) -> Path:
        """Return the narration file of one script section."""
        return self.audio_dir / f"{section_id}.wav"

    @property
    def video_dir(self) -> Path:
        return self.root / "Output" / "Video"

    def clip(self, clip_id: str) -> Path:
        """Return the stage 6 clip file of one clip id."""
        return self.video_dir / f"{clip_id}.mp4"

    @property
    def final_dir(self) -> Path:
        return self.root / "Output" / "Final"

    @property
    def final_video(self) -> Path:
        return self.final_dir / "final.mp4"

    @property
    def final_srt(self) -> Path:
        return self.final_dir / "final.srt"

    @property
    def work_dir(self) -> Path:
        """Scratch space for intermediate files (cards, concat lists); safe to delete."""
        return self.root / "Work"

    def page_paths(self) -> dict[str, str]:
        """Return the files the pages read, relative to the folder (`{name}`: a per-item part)."""
        return {
            "original_video": self.relative(self.original_video),
            "transcript": self.relative(self.transcript),
            "analysis": self.relative(self.analysis),
            "selected_segments": self.relative(self.selected_segments),
            "script": self.relative(self.script),
            "section_audio": self.relative(self.section_audio("{section_id}")),
            "clip": self.relative(self.clip("{clip_id}")),
            "final_video": self.relative(self.final_video),
            "final_srt": self.relative(self.final_srt),
        }

    def relative(self, path: Path) -> str:
        """Return `path` relative to the episode folder, with forward slashes."""
        return Path(path).relative_to(self.root).as_posix()

    def ensure_dirs(self) -> None:
        """Create the standard folders."""
        for directory in (
            self.source_dir,
            self.processing_dir,
            self.script.parent,
            self.audio_dir,
            self.video_dir,
            self.final_dir,
        ):
            directory.mkdir(parents=True, exist_ok=True)
