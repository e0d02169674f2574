"""Presets API: list, create, read, update, delete, export, import."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from routes.request_data import json_body, parse_json_object
from services.library import presets

bp = Blueprint("presets", __name__)


def _data_dir():  # noqa: ANN202
    return current_app.config["DATA_DIR"]


@bp.get("/")
def presets_page():  # noqa: ANN201
    """Render the presets page."""
    return render_template("presets/presets.html")


@bp.get("/api/presets")
def list_presets():  # noqa: ANN201
    """List system and custom presets."""
    return {"presets": presets.list_presets(_data_dir())}


@bp.post("/api/presets")
def create_preset():  # noqa: ANN201
    """Create a custom preset."""
    return jsonify(presets.create_preset(_data_dir(), json_body())), 201


@bp.get("/api/presets/<preset_id>")
def get_preset(preset_id: str):  # noqa: ANN201
    """Show one preset."""
    return presets.get_preset(_data_dir(), preset_id)


@bp.put("/api/presets/<preset_id>")
def update_preset(preset_id: str):  # noqa: ANN201
    """Overwrite a custom preset."""
    return presets.update_preset(_data_dir(), preset_id, json_body())


@bp.delete("/api/presets/<preset_id>")
def delete_preset(preset_id: str):  # noqa: ANN201
    """Delete a custom preset."""
    presets.delete_preset(_data_dir(), preset_id)
    return "", 204


@bp.get("/api/presets/<preset_id>/export")
def export_preset(preset_id: str):  # noqa: ANN201
    """Download a preset as a JSON file."""
    preset = presets.get_preset(_data_dir(), preset_id)
    response = jsonify({k: preset[k] for k in ("name", "description", "configuration")})
    response.headers["Content-Disposition"] = f'attachment; filename="{preset["id"]}.json"'
    return response


@bp.post("/api/presets/import")
def import_preset():  # noqa: ANN201
    """Create a custom preset from an uploaded JSON file."""
    upload = request.files.get("file")
    if upload is None:
        raise presets.PresetError("attach the preset file as `file`", "file")
    raw = upload.read(64 * 1024 + 1)
    if len(raw) > 64 * 1024:
        raise presets.PresetError("a preset file is at most 64 KB", "file", status=413)
    parse_json_object(raw, "file")  # refuses what is not a JSON object, naming `file`
    return jsonify(presets.import_preset(_data_dir(), raw)), 201
