"""Faults of the machine (a full disk, a locked database), told so that a person can act."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.run.errors import ClientError

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
DISK_FULL_TEXTS = ("no space left on device", "database or disk is full", "disk quota exceeded")
LOCKED_TEXTS = ("database is locked", "database table is locked", "lock timeout")


def free_mb(path: Path | str) -> int:
    """Return the free space of the file system holding `path`, in MB (rounded down)."""
    target = Path(path)
    while not target.exists() and target != target.parent:
        target = target.parent
    return shutil.disk_usage(target).free // (1024 * 1024)


def disk_full_message(data_dir: Path | str) -> str:
    """Return "disk full: N MB free in DATA_DIR (...)" with what to do about it."""
    return (
        f"disk full: {free_mb(data_dir)} MB free in DATA_DIR ({data_dir}); "
        "free some space there, then run again"
    )


def locked_message(seconds: float) -> str:
    """Return the message of a database that stayed locked."""
    return (
        f"the database stayed locked for {seconds:g} s (another process holds a write lock "
        "on it: a stuck CLI run or a backup?); end that process, then run again"
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """Return an exception with its causes and contexts (SQLAlchemy wraps the driver's)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_disk_full(exc: BaseException) -> bool:
    """Tell whether an error (or its cause) is a full disk or quota."""
    for error in _chain(exc):
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(error).lower() for text in DISK_FULL_TEXTS):
            return True
    return False


def is_locked(exc: BaseException) -> bool:
    """Tell whether an error (or its cause) is a database lock that did not clear in time."""
    return any(any(t in str(e).lower() for t in LOCKED_TEXTS) for e in _chain(exc))


def describe_fault(exc: BaseException, data_dir: Path | str, waited: float = 0.0) -> str | None:
    """Return a message a person can act on for a disk or lock fault, else None."""
    if is_disk_full(exc):
        return disk_full_message(data_dir)
    if is_locked(exc):
        return locked_message(waited)
    return None


class StorageFault(ClientError):
    """The server cannot store what a request needs: its disk is full (507) or its database
    stays locked (503)."""

    status = 507


@contextmanager
def storage_faults(data_dir: Path | str, busy_timeout: float) -> Iterator[None]:
    """Turn a full disk or a locked database inside the block into a StorageFault."""
    try:
        yield
    except ClientError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise StorageFault(disk_full_message(data_dir)) from exc
        if is_locked(exc):
            raise StorageFault(locked_message(busy_timeout), status=503) from exc
        raise
