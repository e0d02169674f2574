"""Stage fingerprints: what a stage's result depends on, so a run can skip unchanged work.

A fingerprint digests the options a stage reads and the content of every file it reads. For
stages 5 and 6 only their part of the script counts (the narration's text, the clips' ranges),
so editing a sentence leaves stage 6 reused and moving a clip leaves stage 5 reused.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from services.atomic import read_json
from services.episodes.files import EpisodeFiles
from services.episodes.script import clip_sections, load_script, narration_sections
from services.library.prompts import PromptNotFound, find_prompt
from services.run.options import RunOptions

# The options each stage's output depends on.
STAGE_OPTIONS: dict[int, tuple[str, ...]] = {
    1: ("source", "source_kind", "caption_language"),
    2: ("transcript_engine", "caption_language", "diarization", "word_alignment"),
    3: ("analysis_engine", "analysis_prompt", "max_segments", "target_seconds"),
    4: ("segment_mode", "narrative_engine", "narrative_prompt", "target_seconds"),
    5: ("audio_method", "tts_engine", "tts_voice", "tts_rate"),
    6: ("output_settings",),
    7: ("output_settings",),
}
HASH_CONTENT_BELOW = 16 * 1024 * 1024  # small files by content, media by size and mtime
# The script fields each stage reads, per section ("" for stages reading the whole script).
NARRATION_FIELDS = ("section_id", "section_type", "script_content")
CLIP_FIELDS = ("section_id", "clip_id", "start_time", "end_time")


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


def _guideline_kind(files: EpisodeFiles) -> str:
    """Return the guideline the analysis was made with, as a prompt name ("" if unknown)."""
    try:
        name = read_json(files.analysis).get("guideline_name")
    except (OSError, ValueError, AttributeError):
        return ""
    return re.sub(r"[^a-z0-9]+", "_", str(name or "").lower()).strip("_")


def _narrative_prompts(files: EpisodeFiles, data_dir: Path, name: str) -> list[Path]:
    """Return the narrative templates stage 4 may use: the guideline's own for `default`."""
    kind = _guideline_kind(files) if name == "default" else ""
    own = _prompt(data_dir, "narrative", kind) if kind and kind != "default" else []
    return [*own, *_prompt(data_dir, "narrative", name)]


def stage_inputs(
    number: int, files: EpisodeFiles, data_dir: Path, options: RunOptions
) -> list[Path]:
    """Return the files whose content decides stage `number`'s result."""
    if number == 1:
        return [files.root / options.source] if options.source_kind == "upload" else []
    if number == 2:
        return [files.original_audio, *files.caption_files()]
    if number == 3:
        prompts = _prompt(data_dir, "analysis", options.analysis_prompt)
        return [files.transcript, files.metadata, *prompts]
    if number == 4:
        manual = options.segment_mode == "manual"
        segments = [files.analysis, files.selected_segments] if manual else [files.analysis]
        prompts = _narrative_prompts(files, data_dir, options.narrative_prompt)
        return [*segments, files.transcript, files.metadata, *prompts]
    if number == 5:
        if options.audio_method != "manual":
            return []  # the narration's text is fingerprinted as a part of the script
        return _script_files(
            files, narration_sections, lambda s: files.section_audio(s["section_id"])
        )
    if number == 6:
        return [files.original_video]
    return [
        files.script,
        files.original_video,
        files.transcript,
        files.video_dir / "clips.json",
        *_script_files(files, narration_sections, lambda s: files.section_audio(s["section_id"])),
        *_script_files(files, clip_sections, lambda s: files.clip(s["clip_id"])),
    ]


def script_part(number: int, files: EpisodeFiles) -> list[dict] | str | None:
    """Return the part of the script stage `number` reads (None: the stage reads none of it)."""
    parts: dict[int, tuple[Callable[[dict], list[dict]], tuple[str, ...]]] = {
        5: (narration_sections, NARRATION_FIELDS),
        6: (clip_sections, CLIP_FIELDS),
    }
    if number not in parts:
        return None
    pick, names = parts[number]
    try:
        sections = pick(load_script(files.script))
    except (OSError, ValueError, AttributeError):
        return "missing"
    return [{name: section.get(name) for name in names} for section in sections]


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
        "script": script_part(number, files),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
