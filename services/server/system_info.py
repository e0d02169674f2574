"""What this machine offers Clipcast: tool versions, engines and free disk space."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from services.engines.bundled_models import describe_models
from services.engines.registry import engine_kinds, list_engines

# Tool -> the argument that prints its version on the first line.
TOOLS = {"ffmpeg": "-version", "ffprobe": "-version", "espeak-ng": "--version"}
VERSION = re.compile(r"\d+(?:\.\d+)+[\w.+~-]*")


@cache
def tool_version(name: str) -> dict:
    """Return `{name, found, version, path}` for one external tool (cached per process)."""
    path = shutil.which(name)
    if path is None:
        return {"name": name, "found": False, "version": None, "path": None}
    try:
        result = subprocess.run(
            [path, TOOLS.get(name, "--version")],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        first_line = (result.stdout or result.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return {"name": name, "found": True, "version": None, "path": path}
    match = VERSION.search(first_line)
    return {
        "name": name,
        "found": True,
        "version": match.group(0) if match else first_line,
        "path": path,
    }


def disk_space(directory: Path) -> dict:
    """Return the free and total bytes of the file system holding `directory`."""
    usage = shutil.disk_usage(directory)
    return {"free_bytes": usage.free, "total_bytes": usage.total}


def system_info(data_dir: Path, executor: str = "local") -> dict:
    """Return the tools, the engines of every kind, the bundled models and DATA_DIR's free disk."""
    return {
        "tools": [tool_version(name) for name in TOOLS],
        "engines": {kind: list_engines(kind, data_dir) for kind in engine_kinds()},
        "models": describe_models(),
        "disk": disk_space(Path(data_dir)),
        "executor": executor,
    }
