"""The one table `make bench` prints: a row per figure, grouped by what it measures."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Row:
    """One measured figure: its group, what it is, the value, and the target or reference."""

    group: str
    measure: str
    value: str
    target: str = ""


def machine() -> str:
    """Describe the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{ffmpeg.splitlines()[0] if ffmpeg else 'ffmpeg ?'}"
    )


def markdown_table(rows: list[Row]) -> str:
    """Return the rows as one markdown table."""
    lines = ["| group | measure | value | target / reference |", "|---|---|---|---|"]
    lines += [f"| {r.group} | {r.measure} | {r.value} | {r.target} |" for r in rows]
    return "\n".join(lines)


def report(rows: list[Row], notes: list[str]) -> str:
    """Return docs/BENCHMARKS.md: the machine, the table, and notes on method."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(f"- {n}" for n in notes)
    return (
        f"# Benchmarks\n\nMeasured {stamp} on {machine()} by `make bench`.\n\n"
        f"{markdown_table(rows)}\n\n## How\n\n{body}\n"
    )
