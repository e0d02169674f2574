"""TerminalSink: shows a session's events in a terminal (progress bar per stage and the log)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

BAR_WIDTH = 28


class TerminalSink:
    """Renders progress on one redrawn line (a TTY) or as sub-stage lines, plus log lines."""

    def __init__(self, stream: TextIO | None = None, verbose: bool = True) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.verbose = verbose
        self._lock = threading.Lock()
        self._last_line: tuple | None = None
        self._bar_shown = False

    def emit(self, event: str, payload: dict) -> None:
        """Render one event."""
        with self._lock:
            if event == "pipeline_progress":
                self._progress(payload)
            elif event == "log_stream" and self.verbose:
                self._print(f"  {payload['level'][:4]:<4} {payload['message']}")
            elif event == "pipeline_error":
                self._print(
                    f"✗ Stage {payload['stage']} {payload['stage_name']}: {payload['error']}"
                )
            elif event == "pipeline_completion":
                self._print(f"Session {payload['status']} in {payload['duration_seconds']:.1f} s")

    def _progress(self, p: dict) -> None:
        filled = int(BAR_WIDTH * p["progress"] / 100)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        eta = f" ETA {p['eta_seconds']:.0f}s" if p.get("eta_seconds") else ""
        sub = p.get("sub_stage") or ""
        line = (
            f"[{p['stage']}/7] {p['stage_name']:<22} {bar} {p['progress']:5.1f}% "
            f"{sub}{eta}  (overall {p['overall_progress']:.0f}%)"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self._bar_shown = True
            if p["status"] != "running":
                self.stream.write("\n")
                self._bar_shown = False
            self.stream.flush()
            return
        key = (p["stage"], p.get("sub_stage"), p["status"])
        if key != self._last_line:
            self._last_line = key
            self.stream.write(line + (f" {p['status']}" if p["status"] != "running" else "") + "\n")
            self.stream.flush()

    def _print(self, text: str) -> None:
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()
