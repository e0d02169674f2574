"""Prompts: analysis guidelines (TOML) and narrative templates (Jinja), built-in or the user's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config.settings import BUILTIN_PROMPTS_DIR
from services.atomic import write_text_atomic
from services.episodes.files import is_safe_id
from services.run.errors import ClientError

PROMPT_SUFFIX = {"analysis": ".toml", "narrative": ".j2"}


class PromptNotFound(LookupError):
    """No prompt of that kind and name exists."""


def user_prompts_dir(data_dir: Path, kind: str) -> Path:
    """Return where the user's own prompts of one kind live."""
    return Path(data_dir) / "prompts" / kind


def find_prompt(data_dir: Path, kind: str, name: str) -> Path:
    """Return the file of a prompt: the user's first, then the built-in one."""
    if kind not in PROMPT_SUFFIX:
        raise PromptNotFound(f"unknown prompt kind {kind!r}")
    if not is_safe_id(name):
        raise PromptNotFound(f"invalid prompt name {name!r}")
    suffix = PROMPT_SUFFIX[kind]
    for directory in (user_prompts_dir(data_dir, kind), BUILTIN_PROMPTS_DIR / kind):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    raise PromptNotFound(f"no {kind} prompt named {name!r}")


def list_prompts(data_dir: Path, kind: str) -> list[dict]:
    """Return `[{name, builtin}]` for every prompt of one kind."""
    suffix = PROMPT_SUFFIX[kind]
    found: dict[str, dict] = {}
    for builtin, directory in (
        (True, BUILTIN_PROMPTS_DIR / kind),
        (False, user_prompts_dir(data_dir, kind)),
    ):
        for path in sorted(directory.glob(f"*{suffix}")):
            found.setdefault(path.stem, {"name": path.stem, "builtin": builtin})
    return list(found.values())


class PromptError(ClientError):
    """A prompt request that cannot be carried out; `line` points into the content."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, field, status)
        self.line = line

    def extra(self) -> dict:
        """Return the line of the problem, when known."""
        return {"line": self.line} if self.line else {}


MAX_PROMPT_BYTES = 256 * 1024


def _kind_or_error(kind: str) -> str:
    """Refuse an unknown prompt kind."""
    if kind not in PROMPT_SUFFIX:
        raise PromptError(f"kind must be one of: {', '.join(PROMPT_SUFFIX)}", "kind", status=404)
    return kind


def get_prompt(data_dir: Path, kind: str, name: str) -> dict:
    """Return a prompt with its text."""
    try:
        path = find_prompt(data_dir, _kind_or_error(kind), name)
    except PromptNotFound as exc:
        raise PromptError(str(exc), "name", status=404) from exc
    builtin = path.parent == BUILTIN_PROMPTS_DIR / kind
    return {
        "kind": kind,
        "name": name,
        "builtin": builtin,
        "content": path.read_text(encoding="utf-8"),
    }


def save_prompt(
    data_dir: Path,
    kind: str,
    name: str,
    content: object,
    create: bool,
    check: Callable[[str, str, str], None],
) -> dict:
    """Validate (`check(kind, content, name)` raises PromptError) and write a user prompt."""

    _kind_or_error(kind)
    if not is_safe_id(name):
        raise PromptError("name may use letters, digits, - and _ (at most 64)", "name")
    if not isinstance(content, str) or not content.strip():
        raise PromptError("content is required", "content")
    if len(content.encode("utf-8")) > MAX_PROMPT_BYTES:
        raise PromptError("content is larger than 256 KB", "content", status=413)
    if (BUILTIN_PROMPTS_DIR / kind / f"{name}{PROMPT_SUFFIX[kind]}").exists():
        raise PromptError(
            f"{name!r} is built in and read-only: duplicate it under a new name",
            "name",
            status=403 if not create else 409,
        )
    path = user_prompts_dir(data_dir, kind) / f"{name}{PROMPT_SUFFIX[kind]}"
    if create and path.exists():
        raise PromptError(f"a {kind} prompt named {name!r} already exists", "name", status=409)
    if not create and not path.exists():
        raise PromptError(f"no {kind} prompt named {name!r}", "name", status=404)
    check(kind, content, name)
    write_text_atomic(path, content)
    return get_prompt(data_dir, kind, name)


def delete_prompt(data_dir: Path, kind: str, name: str, used_by: list[str]) -> None:
    """Delete a user prompt unless it is built in or a preset names it."""
    prompt = get_prompt(data_dir, kind, name)
    if prompt["builtin"]:
        raise PromptError(f"{name!r} is built in and read-only", "name", status=403)
    if used_by:
        raise PromptError(
            f"the preset(s) {', '.join(used_by)} use {name!r}: change them first",
            "name",
            status=409,
        )
    (user_prompts_dir(data_dir, kind) / f"{name}{PROMPT_SUFFIX[kind]}").unlink()
