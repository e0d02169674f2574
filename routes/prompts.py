"""Prompts API: analysis guidelines and narrative templates (built-in ones are read-only)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from routes.request_data import json_body, text_field
from services.engines.prompt_check import check_prompt_text
from services.library import prompts
from services.library.presets import presets_using_prompt

bp = Blueprint("prompts", __name__)


def _data_dir():  # noqa: ANN202
    return current_app.config["DATA_DIR"]


@bp.get("/")
def prompts_page():  # noqa: ANN201
    """Render the prompts page."""
    return render_template("prompts/prompts.html")


@bp.get("/api/prompts")
def list_prompts():  # noqa: ANN201
    """List prompts of both kinds."""
    return {kind: prompts.list_prompts(_data_dir(), kind) for kind in prompts.PROMPT_SUFFIX}


@bp.get("/api/prompts/<kind>/<name>")
def get_prompt(kind: str, name: str):  # noqa: ANN201
    """Show one prompt with its text."""
    return prompts.get_prompt(_data_dir(), kind, name)


@bp.post("/api/prompts/<kind>")
def create_prompt(kind: str):  # noqa: ANN201
    """Create a prompt from `{name, content}` or `{name, duplicate_of}`."""
    data = json_body()
    content = text_field(data, "content", prompts.MAX_PROMPT_BYTES)
    duplicate_of = text_field(data, "duplicate_of", 64)
    if duplicate_of and content is None:
        content = prompts.get_prompt(_data_dir(), kind, duplicate_of)["content"]
    name = text_field(data, "name", 64) or ""
    saved = prompts.save_prompt(_data_dir(), kind, name, content, True, check_prompt_text)
    return jsonify(saved), 201


@bp.put("/api/prompts/<kind>/<name>")
def update_prompt(kind: str, name: str):  # noqa: ANN201
    """Replace a user prompt's text."""
    content = text_field(json_body(), "content", prompts.MAX_PROMPT_BYTES)
    return prompts.save_prompt(_data_dir(), kind, name, content, False, check_prompt_text)


@bp.delete("/api/prompts/<kind>/<name>")
def delete_prompt(kind: str, name: str):  # noqa: ANN201
    """Delete a user prompt."""
    prompts.delete_prompt(_data_dir(), kind, name, presets_using_prompt(_data_dir(), kind, name))
    return "", 204
