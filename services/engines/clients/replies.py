"""Get the JSON out of a model's reply: code fences, prose around it, small slips."""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


class ReplyError(ValueError):
    """A reply holds no usable JSON; the message says what was wrong (sent back to the model)."""


def _candidates(text: str) -> list[str]:
    """Return the texts that may hold the JSON: the whole reply, fenced blocks, outer braces."""
    found = [text.strip()]
    found += [m.strip() for m in _FENCE.findall(text)]
    for opener, closer in (("{", "}"), ("[", "]")):
        first, last = text.find(opener), text.rfind(closer)
        if 0 <= first < last:
            found.append(text[first : last + 1])
    return [c for c in dict.fromkeys(found) if c]


def _first_value(text: str) -> object:
    """Decode the first JSON value in `text` (the reply may go on after it)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict | list):
            return value
    raise json.JSONDecodeError("no JSON object", text, 0)


def extract_json(text: str | None) -> object:
    """Return the JSON object or list of a reply; raise ReplyError when there is none."""
    if not text or not text.strip():
        raise ReplyError("the reply was empty")
    for candidate in _candidates(text):
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                value = json.loads(attempt)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict | list):
                return value
    try:
        return _first_value(_TRAILING_COMMA.sub(r"\1", text))
    except json.JSONDecodeError:
        pass
    preview = " ".join(text.split())[:80]
    raise ReplyError(f"the reply was not JSON (it began: {preview!r})")
