"""Workflow presets: the read-only system presets and the user's own, stored as JSON files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from config.settings import BUILTIN_PRESETS_DIR
from services.atomic import read_json, write_json_atomic
from services.library.run_choices import validate_choices
from services.run.errors import ClientError
from services.run.options import ALL_STAGES, OptionsError, RunOptions

CONFIG_KEYS = (
    "stage_selection",
    "segment_mode",
    "analysis_prompt",
    "narrative_prompt",
    "audio_method",
    "transcript_engine",
    "analysis_engine",
    "narrative_engine",
    "tts_engine",
    "output_settings",
    # Beyond API.md's list: the voice and the stage 2 extras.
    "tts_voice",
    "tts_rate",
    "diarization",
    "word_alignment",
    "target_seconds",
)
PRESET_KEYS = {"id", "name", "description", "category", "configuration"}


class PresetError(ClientError):
    """A preset request that cannot be carried out."""


def presets_dir(data_dir: Path) -> Path:
    """Return where custom presets are stored."""
    return Path(data_dir) / "presets"


def slugify(name: str) -> str:
    """Return a file-name-safe id made from a preset name."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return (slug or "preset")[:48]


def validate_configuration(config: object, data_dir: Path) -> dict:
    """Check a preset configuration with the run options' own rules; raise naming the field."""
    if not isinstance(config, dict):
        raise PresetError("configuration must be an object", "configuration")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise PresetError(
            f"unknown configuration key {unknown[0]!r}", f"configuration.{unknown[0]}"
        )
    stages = config.get("stage_selection", list(ALL_STAGES))
    try:
        options = RunOptions.from_dict({**config, "selected_stages": stages})
        validate_choices(options, data_dir)
    except OptionsError as exc:
        field = (exc.field or "").replace("selected_stages", "stage_selection")
        raise PresetError(str(exc), f"configuration.{field}") from exc
    normalised = {key: getattr(options, key) for key in CONFIG_KEYS if key != "stage_selection"}
    return {"stage_selection": options.selected_stages, **normalised}


def _load(path: Path, category: str) -> dict:
    """Read one preset file and mark its category."""
    data = read_json(path)
    return {
        "id": path.stem,
        "name": data.get("name", path.stem),
        "category": category,
        "description": data.get("description", ""),
        "configuration": data.get("configuration", {}),
    }


def list_presets(data_dir: Path) -> list[dict]:
    """Return system presets first, then custom ones by name."""
    system = [_load(p, "system") for p in sorted(BUILTIN_PRESETS_DIR.glob("*.json"))]
    custom = [_load(p, "custom") for p in sorted(presets_dir(data_dir).glob("*.json"))]
    return system + sorted(custom, key=lambda p: p["name"].lower())


def get_preset(data_dir: Path, preset_id: str) -> dict:
    """Return a preset by id or (case-insensitive) name, or raise a 404 PresetError."""
    for preset in list_presets(data_dir):
        if preset["id"] == preset_id or preset["name"].lower() == str(preset_id).lower():
            return preset
    raise PresetError(f"no preset {preset_id!r}", "preset", status=404)


def _check_fields(data: object, data_dir: Path, exclude_id: str | None = None) -> dict:
    """Validate name, description and configuration of a create/update request."""
    if not isinstance(data, dict):
        raise PresetError("send a JSON object", None)
    unknown = sorted(set(data) - PRESET_KEYS)
    if unknown:
        raise PresetError(f"unknown field {unknown[0]!r}", unknown[0])
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 80:
        raise PresetError("name is required (at most 80 characters)", "name")
    for preset in list_presets(data_dir):
        if preset["name"].lower() == name.lower() and preset["id"] != exclude_id:
            raise PresetError(f"a preset named {name!r} already exists", "name", status=409)
    description = str(data.get("description") or "")[:500]
    configuration = validate_configuration(data.get("configuration"), data_dir)
    return {"name": name, "description": description, "configuration": configuration}


def create_preset(data_dir: Path, data: object) -> dict:
    """Validate and store a new custom preset."""
    fields = _check_fields(data, data_dir)
    base = slugify(fields["name"])
    preset_id, n = base, 2
    existing = {p["id"] for p in list_presets(data_dir)}
    while preset_id in existing:
        preset_id, n = f"{base}_{n}", n + 1
    write_json_atomic(presets_dir(data_dir) / f"{preset_id}.json", fields)
    return get_preset(data_dir, preset_id)


def update_preset(data_dir: Path, preset_id: str, data: object) -> dict:
    """Overwrite a custom preset (system presets: 403)."""
    preset = _custom_or_error(data_dir, preset_id)
    fields = _check_fields(data, data_dir, exclude_id=preset["id"])
    write_json_atomic(presets_dir(data_dir) / f"{preset['id']}.json", fields)
    return get_preset(data_dir, preset["id"])


def delete_preset(data_dir: Path, preset_id: str) -> None:
    """Delete a custom preset (system presets: 403)."""
    preset = _custom_or_error(data_dir, preset_id)
    (presets_dir(data_dir) / f"{preset['id']}.json").unlink()


def import_preset(data_dir: Path, raw: bytes) -> dict:
    """Create a custom preset from an exported JSON file."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PresetError(f"not a preset file: {exc}", "file") from exc
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("id", "category")}
    return create_preset(data_dir, data)


def _custom_or_error(data_dir: Path, preset_id: str) -> dict:
    """Return a custom preset, or raise 403 for a system one."""
    preset = get_preset(data_dir, preset_id)
    if preset["category"] == "system":
        raise PresetError("system presets are read-only: duplicate it to change it", status=403)
    return preset


def run_options_from_preset(preset: dict) -> dict:
    """Translate a preset configuration into RunOptions fields."""
    config = dict(preset["configuration"])
    options = {"selected_stages": config.pop("stage_selection", list(ALL_STAGES))}
    options.update(config)
    return options


def presets_using_prompt(data_dir: Path, kind: str, name: str) -> list[str]:
    """Return the names of presets that name a prompt."""
    key = f"{kind}_prompt"
    return [p["name"] for p in list_presets(data_dir) if p["configuration"].get(key) == name]
