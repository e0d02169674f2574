"""Atomic file writes: a file appears under its final name only when complete.

Scratch folders likewise never outlive the work that needed them (`scratch_folder`).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTIAL_MARKER = ".partial"


def partial_path(final: Path) -> Path:
    """Return a unique temporary sibling of `final` that keeps its extension."""
    return final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}{PARTIAL_MARKER}{final.suffix}")


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a rename survives a crash."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_partial(tmp: Path, final: Path) -> None:
    """Fsync `tmp` and rename it over `final`."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to `final`, else removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        commit_partial(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(final: Path, data: bytes) -> None:
    """Write bytes to `final` atomically."""
    with atomic_output(final) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(final: Path, text: str) -> None:
    """Write UTF-8 text to `final` atomically."""
    write_bytes_atomic(final, text.encode("utf-8"))


def write_json_atomic(final: Path, data: Any) -> None:
    """Write `data` as pretty UTF-8 JSON to `final` atomically."""
    write_text_atomic(final, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def remove_partials(directory: Path) -> int:
    """Delete leftover partial files under `directory` (after a crash); return how many."""
    removed = 0
    if not directory.exists():
        return 0
    for path in directory.rglob(f".*{PARTIAL_MARKER}*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@contextmanager
def scratch_folder(path: Path) -> Iterator[Path]:
    """Yield `path` as a new empty folder; remove it afterwards, also when the block fails."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
