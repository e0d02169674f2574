"""Request parsing for every route: one JSON-object body reader and typed field getters."""

from __future__ import annotations

import json

from flask import request

from services.run.errors import ClientError

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 20
MAX_QUERY_INT = 2**53


def parse_json_object(raw: bytes, field: str = "body") -> dict:
    """Return `raw` parsed as a JSON object; raise ClientError (400) naming `field` otherwise."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ClientError(f"{field} is not UTF-8 text", field) from exc
    except RecursionError as exc:
        raise ClientError(f"{field} is nested too deeply", field) from exc
    except ValueError as exc:  # JSONDecodeError, and integers of more than 4300 digits
        raise ClientError(f"{field} is not valid JSON: {exc}", field) from exc
    if not isinstance(data, dict):
        raise ClientError(f"{field} must be a JSON object, not {_json_type(data)}", field)
    if _depth(data) > MAX_JSON_DEPTH:
        raise ClientError(f"{field} is nested too deeply (at most {MAX_JSON_DEPTH})", field)
    return data


def json_body() -> dict:
    """Return the request's JSON object body ({} when empty); raise a 4xx naming the problem."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ClientError("the JSON body is larger than 1 MB", "body", status=413)
    raw = request.stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ClientError("the JSON body is larger than 1 MB", "body", status=413)
    if not raw.strip():
        return {}
    if not request.is_json:
        raise ClientError("send the body as Content-Type: application/json", "body", status=415)
    return parse_json_object(raw)


def text_field(data: dict, name: str, max_length: int = 2048) -> str | None:
    """Return a string field of a body (None when absent or null); refuse other types."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ClientError(f"{name} must be a string, not {_json_type(value)}", name)
    if len(value) > max_length:
        raise ClientError(f"{name} is longer than {max_length} characters", name)
    return value


def query_int(name: str, default: int, low: int = 0, high: int = MAX_QUERY_INT) -> int:
    """Return an integer query parameter within [low, high]; raise ClientError otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ClientError(f"{name} must be a whole number from {low} to {high}", name)
    return value


def _json_type(value: object) -> str:
    """Return the JSON name of a value's type ("an array", "a string"...)."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _depth(value: object) -> int:
    """Return how deeply arrays and objects nest in a parsed JSON value (iteratively)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest
