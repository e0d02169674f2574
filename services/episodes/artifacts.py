"""Artifacts: the named things stages read and write, and whether an episode has them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.episodes.files import EpisodeFiles
from services.episodes.script import clip_sections, load_script, narration_sections
from services.run.options import RunOptions


@dataclass(frozen=True)
class Artifact:
    """A named input/output; `exists` checks the episode folder for it."""

    key: str
    label: str  # how an error message names it: "stage 6 needs <label>"
    exists: Callable[[EpisodeFiles, RunOptions], bool]


def _script_files_exist(files: EpisodeFiles, pick, path_of) -> bool:
    """Tell whether every section picked from the script has its file."""
    if not files.script.exists():
        return False
    try:
        sections = pick(load_script(files.script))
    except (OSError, ValueError):
        return False
    return bool(sections) and all(path_of(s).exists() for s in sections)


def _has_source(files: EpisodeFiles, options: RunOptions) -> bool:
    """Tell whether the run has a URL or an uploaded file to extract from."""
    if options.source_kind == "url":
        return bool(options.source)
    return bool(options.source) and (files.root / options.source).exists()


def _has_segments(files: EpisodeFiles, options: RunOptions) -> bool:
    """Tell whether stage 4 has segments to narrate (manual mode may wait for a selection)."""
    return files.analysis.exists() or files.selected_segments.exists()


ARTIFACTS: dict[str, Artifact] = {
    a.key: a
    for a in (
        Artifact("source", "a source URL or uploaded video", _has_source),
        Artifact("original_video", "the source video", lambda f, o: f.original_video.exists()),
        Artifact("original_audio", "the extracted audio", lambda f, o: f.original_audio.exists()),
        Artifact("transcript", "a transcript", lambda f, o: f.transcript.exists()),
        Artifact("analysis", "analysed segments", lambda f, o: f.analysis.exists()),
        Artifact("segments", "analysed or selected segments", _has_segments),
        Artifact("script", "a script", lambda f, o: f.script.exists()),
        Artifact(
            "narration",
            "narration audio for every script section",
            lambda f, o: _script_files_exist(
                f, narration_sections, lambda s: f.section_audio(s["section_id"])
            ),
        ),
        Artifact(
            "clips",
            "a video clip for every script clip",
            lambda f, o: _script_files_exist(f, clip_sections, lambda s: f.clip(s["clip_id"])),
        ),
        Artifact("final", "the final video", lambda f, o: f.final_video.exists()),
    )
}


def artifact_exists(key: str, files: EpisodeFiles, options: RunOptions) -> bool:
    """Tell whether the episode has an artifact."""
    return ARTIFACTS[key].exists(files, options)
