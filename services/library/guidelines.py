"""Analysis guidelines: TOML files naming what to look for (categories, cue phrases, severity).

A guideline is read by the heuristic engine (categories and cues) and sent verbatim to an LLM
by an `llm` engine (its comments and `instructions` are written for a reader).
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from services.episodes.segments import SEVERITIES

TOP_KEYS = {
    "name",
    "description",
    "instructions",
    "severity",
    "segments",
    "categories",
    "fallback",
}
FALLBACK_KEYS = {"name", "description", "title", "severity", "fill"}
CATEGORY_KEYS = {"name", "description", "weight", "severity", "title", "cues"}
THRESHOLD_KEYS = ("critical", "high", "medium")
SEGMENT_KEYS = {"min_seconds", "max_seconds"}
TITLE_FIELDS = {"category", "cue", "topic"}
DEFAULT_TITLE = "{category}: {topic}"
# What a passage without any cue phrase is called; see `Guideline.fallback`.
DEFAULT_FALLBACK = {
    "name": "Key passage",
    "description": "A passage the talk dwells on, chosen for its content, not for a cue phrase.",
    "title": "{topic}",
    "severity": "MEDIUM",
}
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class GuidelineError(ValueError):
    """A guideline file does not parse or misses something; `line` points at the cause."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path.name}, line {line}" if line else self.path.name
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Category:
    """One thing the guideline looks for, with the phrases that signal it."""

    name: str
    description: str
    weight: float
    severity: str
    cues: tuple[str, ...]
    title: str = DEFAULT_TITLE


@dataclass(frozen=True)
class SeverityThresholds:
    """Scores at which a segment rates CRITICAL, HIGH or MEDIUM (below medium: LOW)."""

    critical: float = 12.0
    high: float = 6.0
    medium: float = 3.0

    def rate(self, score: float, ceiling: str = "CRITICAL") -> str:
        """Return the severity of `score`, never above the category's `ceiling`."""
        if score >= self.critical:
            level = "CRITICAL"
        elif score >= self.high:
            level = "HIGH"
        elif score >= self.medium:
            level = "MEDIUM"
        else:
            level = "LOW"
        return max(level, ceiling, key=SEVERITIES.index)


@dataclass(frozen=True)
class Guideline:
    """A parsed guideline; `text` is the file as written (what an LLM engine sends)."""

    name: str
    description: str
    instructions: str
    categories: tuple[Category, ...]
    thresholds: SeverityThresholds = field(default_factory=SeverityThresholds)
    min_seconds: float = 20.0
    max_seconds: float = 120.0
    path: Path | None = None
    text: str = ""
    # The category of passages chosen by content alone (no cue phrase): used for every
    # passage when none carries a cue, and alongside cue passages when `fill` is true.
    fallback: Category = field(
        default_factory=lambda: Category(weight=1.0, cues=(), **DEFAULT_FALLBACK)
    )
    fill: bool = False

    def category(self, name: str) -> Category:
        """Return the category called `name`."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(name)


class _Locator:
    """Find the line of a key in the TOML text, for messages about values that parse."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self, table: str) -> list[int]:
        """Return the 0-based line numbers of `[table]` or `[[table]]` headers."""
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        return [n for n, line in enumerate(self.lines) if pattern.match(line)]

    def line(self, key: str | None, table: str | None = None, index: int = 0) -> int | None:
        """Return the 1-based line of `key` (in the `index`-th `table`), else the header's."""
        start = 0
        if table:
            headers = self._headers(table)
            if index >= len(headers):
                return headers[-1] + 1 if headers else None
            start = headers[index]
            if key is None:
                return start + 1
        key_pattern = re.compile(rf"^\s*[\"']?{re.escape(key or '')}[\"']?\s*=")
        for n in range(start + (1 if table else 0), len(self.lines)):
            text = self.lines[n]
            if re.match(r"^\s*\[", text):
                break
            if key and key_pattern.match(text):
                return n + 1
        return start + 1 if table else None


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> GuidelineError:
    """Turn tomllib's error (which names line and column in its text) into a GuidelineError."""
    message = str(exc)
    match = _TOML_POSITION.search(message)
    line = int(match.group(1)) if match else getattr(exc, "lineno", None)
    reason = _TOML_POSITION.sub("", message).strip()
    if match:
        reason += f" (column {match.group(2)})"
    return GuidelineError(path, line, f"not valid TOML: {reason}")


def _text(value: object, where: str, required: bool = True) -> str:
    """Return a string value or raise ValueError naming what it should be."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{where} must be {'non-empty ' if required else ''}text")
    return value.strip()


def _number(value: object, where: str, low: float, high: float) -> float:
    """Return a number in [low, high] or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{where} must be a number from {low:g} to {high:g}")
    return float(value)


def _unknown(data: dict, allowed: set[str]) -> str | None:
    """Return the first key of `data` not in `allowed`."""
    return next((k for k in data if k not in allowed), None)


def _title_pattern(value: object) -> str:
    """Check a title pattern's placeholders ({category}, {cue}, {topic})."""
    pattern = _text(value, "title")
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise ValueError(f"title pattern is malformed: {exc}") from exc
    extra = names - TITLE_FIELDS
    if extra:
        raise ValueError(
            f"title may only use {{category}}, {{cue}}, {{topic}}; not {{{sorted(extra)[0]}}}"
        )
    return pattern


def _category(data: object, n: int, where: _Locator, path: Path) -> Category:
    """Parse the `n`-th (0-based) [[categories]] table."""

    def fail(key: str | None, reason: str) -> GuidelineError:
        return GuidelineError(path, where.line(key, "categories", n), reason)

    if not isinstance(data, dict):
        raise fail(None, f"categories entry {n + 1} must be a table")
    unknown = _unknown(data, CATEGORY_KEYS)
    if unknown:
        raise fail(
            unknown,
            f"unknown key {unknown!r} in a category (known: {', '.join(sorted(CATEGORY_KEYS))})",
        )
    for key in ("name", "description", "weight", "severity", "cues"):
        if key not in data:
            raise fail(None, f"category {n + 1} misses the required key {key!r}")
    values: dict = {}
    for key, parse in (
        ("name", lambda v: _text(v, "name")),
        ("description", lambda v: _text(v, "description")),
        ("weight", lambda v: _number(v, "weight", 0.01, 10.0)),
        ("title", _title_pattern),
        ("severity", _severity),
    ):
        if key in data:
            try:
                values[key] = parse(data[key])
            except ValueError as exc:
                raise fail(key, str(exc)) from exc
    cues = data["cues"]
    if not isinstance(cues, list) or not cues:
        raise fail("cues", "cues must be a non-empty list of phrases")
    if any(not isinstance(c, str) or not re.search(r"\w", c) for c in cues):
        raise fail("cues", "every cue must be a phrase with at least one word")
    return Category(cues=tuple(c.strip() for c in cues), **values)


def _thresholds(data: object, where: _Locator, path: Path) -> SeverityThresholds:
    """Parse the optional [severity] table."""
    if data is None:
        return SeverityThresholds()
    if not isinstance(data, dict):
        raise GuidelineError(path, where.line("severity"), "severity must be a table")
    unknown = _unknown(data, set(THRESHOLD_KEYS))
    if unknown:
        raise GuidelineError(
            path,
            where.line(unknown, "severity"),
            f"unknown key {unknown!r} in [severity] (known: critical, high, medium)",
        )
    values = {}
    for key in THRESHOLD_KEYS:
        if key in data:
            try:
                values[key] = _number(data[key], key, 0.0, 1000.0)
            except ValueError as exc:
                raise GuidelineError(path, where.line(key, "severity"), str(exc)) from exc
    thresholds = SeverityThresholds(**values)
    if not thresholds.critical > thresholds.high > thresholds.medium > 0:
        raise GuidelineError(
            path,
            where.line(None, "severity"),
            "thresholds must satisfy critical > high > medium > 0",
        )
    return thresholds


def _segment_limits(data: object, where: _Locator, path: Path) -> tuple[float, float]:
    """Parse the optional [segments] table: min_seconds and max_seconds."""
    if data is None:
        return 20.0, 120.0
    if not isinstance(data, dict):
        raise GuidelineError(path, where.line("segments"), "segments must be a table")
    unknown = _unknown(data, SEGMENT_KEYS)
    if unknown:
        raise GuidelineError(
            path, where.line(unknown, "segments"), f"unknown key {unknown!r} in [segments]"
        )
    limits = []
    for key, default in (("min_seconds", 20.0), ("max_seconds", 120.0)):
        try:
            limits.append(_number(data.get(key, default), key, 1.0, 3600.0))
        except ValueError as exc:
            raise GuidelineError(path, where.line(key, "segments"), str(exc)) from exc
    if limits[0] >= limits[1]:
        raise GuidelineError(
            path,
            where.line("max_seconds", "segments"),
            "max_seconds must be greater than min_seconds",
        )
    return limits[0], limits[1]


def _fallback_title(value: object) -> str:
    """Check the title pattern of content-only passages (no {cue}: they have none)."""
    pattern = _title_pattern(value)
    if "{cue}" in pattern:
        raise ValueError("the [fallback] title cannot use {cue}: its passages have no cue")
    return pattern


def _severity(value: object) -> str:
    """Return a severity name in capitals or raise ValueError."""
    if not isinstance(value, str) or value.upper() not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    return value.upper()


def _flag(value: object) -> bool:
    """Return a TOML boolean or raise ValueError."""
    if not isinstance(value, bool):
        raise ValueError("fill must be true or false")
    return value


def _fallback(data: object, where: _Locator, path: Path) -> tuple[Category, bool]:
    """Parse the optional [fallback] table: the category of content-only passages."""
    if data is None:
        return Category(weight=1.0, cues=(), **DEFAULT_FALLBACK), False
    if not isinstance(data, dict):
        raise GuidelineError(path, where.line("fallback"), "fallback must be a table")
    unknown = _unknown(data, FALLBACK_KEYS)
    if unknown:
        raise GuidelineError(
            path,
            where.line(unknown, "fallback"),
            f"unknown key {unknown!r} in [fallback] (known: {', '.join(sorted(FALLBACK_KEYS))})",
        )
    values: dict = dict(DEFAULT_FALLBACK)
    for key, parse in (
        ("name", lambda v: _text(v, "name")),
        ("description", lambda v: _text(v, "description")),
        ("title", _fallback_title),
        ("severity", _severity),
        ("fill", _flag),
    ):
        if key in data:
            try:
                values[key] = parse(data[key])
            except ValueError as exc:
                raise GuidelineError(path, where.line(key, "fallback"), str(exc)) from exc
    fill = values.pop("fill", False)
    return Category(weight=1.0, cues=(), **values), fill


def parse_guideline(text: str, path: Path | str = "guideline.toml") -> Guideline:
    """Parse guideline TOML text; raise GuidelineError with the line of the problem."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc) from exc
    where = _Locator(text)
    unknown = _unknown(data, TOP_KEYS)
    if unknown:
        raise GuidelineError(
            path,
            where.line(unknown) or where.line(None, unknown),
            f"unknown key {unknown!r} (known: {', '.join(sorted(TOP_KEYS))})",
        )
    for key in ("name", "description", "categories"):
        if key not in data:
            raise GuidelineError(path, 1, f"the required key {key!r} is missing")
    texts = {}
    for key in ("name", "description", "instructions"):
        try:
            texts[key] = _text(data.get(key), key, required=key != "instructions")
        except ValueError as exc:
            raise GuidelineError(path, where.line(key), str(exc)) from exc
    raw = data["categories"]
    if not isinstance(raw, list) or not raw:
        raise GuidelineError(
            path,
            where.line("categories") or where.line(None, "categories"),
            "categories must be at least one [[categories]] table",
        )
    categories = tuple(_category(c, n, where, path) for n, c in enumerate(raw))
    names = [c.name for c in categories]
    for n, category_name in enumerate(names):
        if category_name in names[:n]:
            raise GuidelineError(
                path,
                where.line("name", "categories", n),
                f"category name {category_name!r} is used twice",
            )
    min_seconds, max_seconds = _segment_limits(data.get("segments"), where, path)
    fallback, fill = _fallback(data.get("fallback"), where, path)
    if fallback.name in names:
        raise GuidelineError(
            path, where.line("name", "fallback"), f"[fallback] name {fallback.name!r} is a category"
        )
    return Guideline(
        name=texts["name"],
        description=texts["description"],
        instructions=texts["instructions"],
        categories=categories,
        thresholds=_thresholds(data.get("severity"), where, path),
        min_seconds=min_seconds,
        max_seconds=max_seconds,
        path=path,
        text=text,
        fallback=fallback,
        fill=fill,
    )


def load_guideline(path: Path) -> Guideline:
    """Read and parse a guideline file; raise GuidelineError with the line of the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuidelineError(path, None, f"cannot be read: {exc}") from exc
    return parse_guideline(text, path)
