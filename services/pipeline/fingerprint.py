"""Stage fingerprints: what a stage's result depends on, so resume can skip unchanged work."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from services.episodes.files import EpisodeFiles
from services.episodes.script import clip_sections, load_script, narration_sections
from services.library.prompts import PromptNotFound, find_prompt
from services.run.options import RunOptions

# The options each stage's output depends on.
STAGE_OPTIONS: dict[int, tuple[str, ...]] = {
    1: ("source", "source_kind", "caption_language"),
    2: ("transcript_engine", "caption_language", "diarization", "word_alignment"),
    3: ("analysis_engine", "analysis_prompt", "max_segments"),
    4: ("segment_mode", "narrative_engine", "narrative_prompt"),
    5: ("audio_method", "tts_engine", "tts_voice"),
    6: ("output_settings",),
    7: ("output_settings",),
}
HASH_CONTENT_BELOW = 16 * 1024 * 1024  # small files by content, media by size and mtime


def _script_files(files: EpisodeFiles, pick, path_of) -> list[Path]:  # noqa: ANN001
    """Return the files the script's sections point at (empty when there is no script)."""
    try:
        return [path_of(s) for s in pick(load_script(files.script))]
    except (OSError, ValueError):
        return []


def _prompt(data_dir: Path, kind: str, name: str) -> list[Path]:
    """Return the prompt file a stage reads, if it exists."""
    try:
        return [find_prompt(data_dir, kind, name)]
    except PromptNotFound:
        return []


def stage_inputs(
    number: int, files: EpisodeFiles, data_dir: Path, options: RunOptions
) -> list[Path]:
    """Return the files whose content decides stage `number`'s result."""
    if number == 1:
        return [files.root / options.source] if options.source_kind == "upload" else []
    if number == 2:
        return [files.original_audio, *files.caption_files()]
    if number == 3:
        return [files.transcript, *_prompt(data_dir, "analysis", options.analysis_prompt)]
    if number == 4:
        segments = files.selected_segments if options.segment_mode == "manual" else files.analysis
        return [segments, *_prompt(data_dir, "narrative", options.narrative_prompt)]
    if number == 5:
        return [files.script]
    if number == 6:
        return [files.script, files.original_video]
    return [
        files.script,
        *_script_files(files, narration_sections, lambda s: files.section_audio(s["section_id"])),
        *_script_files(files, clip_sections, lambda s: files.clip(s["clip_id"])),
    ]


def _file_digest(path: Path) -> str:
    """Digest a file by content (small) or by size and mtime (large media)."""
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    if stat.st_size >= HASH_CONTENT_BELOW:
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_fingerprint(number: int, files: EpisodeFiles, data_dir: Path, options: RunOptions) -> str:
    """Return a digest of stage `number`'s options and input files."""
    values = options.to_dict()
    payload = {
        "stage": number,
        "options": {name: values.get(name) for name in STAGE_OPTIONS[number]},
        "inputs": {
            files.relative(p) if p.is_relative_to(files.root) else p.name: _file_digest(p)
            for p in stage_inputs(number, files, data_dir, options)
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
