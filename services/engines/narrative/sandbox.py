"""User templates rendered in a child process with a time, memory and output-size limit.

Jinja's sandbox stops a template from reaching Python's internals, not from looping for
minutes or building a 400 MB string. Checking (on save) and rendering (stage 4) therefore
run `python -m services.engines.narrative.sandbox` with limits set by the kernel
(RLIMIT_AS, RLIMIT_CPU) and a wall-clock deadline kept here: a hostile template costs one
child process for a few seconds, never a request thread of the server.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services.engines.narrative.template import (
    SAMPLE_SEGMENTS,
    TemplateCheckError,
    TemplateNarrativeEngine,
    compile_template,
    render_sections,
)
from services.run.call import EngineCall
from services.run.options import setting

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_EPISODE = {"episode_id": "sample", "title": "A sample talk"}
OUTPUT_LIMIT_BYTES = 2 * 1024 * 1024
# At most this many templates render at once; others wait for a slot up to the time limit.
_SLOTS = threading.BoundedSemaphore(2)


def limits() -> tuple[float, int]:
    """Return (seconds, megabytes) a template may use: TEMPLATE_TIME_LIMIT, TEMPLATE_MEMORY_MB."""
    return float(setting("TEMPLATE_TIME_LIMIT", "10")), int(setting("TEMPLATE_MEMORY_MB", "512"))


def check_template_sandboxed(source: str, name: str) -> None:
    """Check template text (compile and render on sample data) in the sandbox."""
    _run({"mode": "check", "source": source, "name": name}, name)


def render_template_sandboxed(
    source: str,
    name: str,
    segments: list[dict],
    episode: dict,
    report: Callable[[float, str], None] | None = None,
) -> dict:
    """Render the script of `segments` with template text in the sandbox; return the script."""
    request = {
        "mode": "render",
        "source": source,
        "name": name,
        "segments": segments,
        "episode": episode,
    }
    return _run(request, name, report)


class SandboxedTemplateEngine(TemplateNarrativeEngine):
    """The template engine, rendering in the sandboxed child process."""

    def write(
        self, segments: list[dict], prompt_path: Path, episode: dict, call: EngineCall
    ) -> dict:
        """Render the template at `prompt_path` around `segments`; raise TemplateCheckError."""
        path = Path(prompt_path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateCheckError(None, f"cannot be read: {exc}", path.name) from exc
        call.report(0.0, f"template {path.name}: rendering in the sandbox")
        return render_template_sandboxed(source, path.name, segments, episode, call.report)


def _run(request: dict, name: str, report: Callable[[float, str], None] | None = None) -> dict:
    """Run one request in a child under the limits; return its result or raise."""
    seconds, megabytes = limits()
    deadline = time.monotonic() + seconds
    if not _SLOTS.acquire(timeout=seconds):
        raise TemplateCheckError(None, "the server is busy rendering other templates; retry", name)
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "services.engines.narrative.sandbox"],
            cwd=ROOT,
            env=_child_env(seconds, megabytes),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.stdin.write(json.dumps(request).encode("utf-8"))
            child.stdin.close()
            message = _read_result(child, deadline, report)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
    finally:
        _SLOTS.release()
    if message is None:
        reason = (
            f"took longer than {seconds:g} s (a loop too large?)"
            if time.monotonic() >= deadline
            else f"was stopped: it used more than {megabytes} MB or {OUTPUT_LIMIT_BYTES} bytes"
        )
        raise TemplateCheckError(None, reason, name)
    if "error" in message:
        raise TemplateCheckError(message["error"].get("line"), message["error"]["reason"], name)
    return message.get("result") or {}


def _read_result(
    child: subprocess.Popen, deadline: float, report: Callable[[float, str], None] | None
) -> dict | None:
    """Read the child's lines until its result; None when it died, overran or ran too long."""
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    buffer, total = b"", 0
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=left):
                continue
            chunk = os.read(child.stdout.fileno(), 65536)
            if not chunk:
                return None
            total += len(chunk)
            if total > OUTPUT_LIMIT_BYTES:
                return None
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                if "progress" not in message:
                    return message
                if report:
                    report(*message["progress"])
        return None
    finally:
        selector.close()


def _child_env(seconds: float, megabytes: int) -> dict:
    """Return the child's environment: no secrets, just what Python needs and the limits."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        CLIPCAST_SANDBOX_SECONDS=f"{seconds:g}",
        CLIPCAST_SANDBOX_MB=str(megabytes),
    )
    return env


def _emit(message: dict) -> None:
    """Write one JSON line to the parent."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _limit_self() -> None:
    """Apply the memory and CPU limits to this (child) process and lower its priority."""
    megabytes = int(os.environ.get("CLIPCAST_SANDBOX_MB", "512"))
    cpu = int(float(os.environ.get("CLIPCAST_SANDBOX_SECONDS", "10"))) + 1
    resource.setrlimit(resource.RLIMIT_AS, (megabytes * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    os.nice(10)


def _child() -> None:
    """Serve one request from standard input (run as `python -m ...sandbox`)."""
    _limit_self()
    request = json.load(sys.stdin)
    name = request["name"]
    try:
        template = compile_template(request["source"], name)
        if request["mode"] == "check":  # check_template_text's samples, with the size limit
            batches = [(SAMPLE_SEGMENTS, SAMPLE_EPISODE), (SAMPLE_SEGMENTS[:1], SAMPLE_EPISODE)]
            report = None
        else:
            batches = [(request["segments"], request["episode"])]
            report = _report_progress
        for segments, episode in batches:
            result = render_sections(template, segments, episode, report, name)
            if len(json.dumps(result)) > OUTPUT_LIMIT_BYTES // 2:
                raise TemplateCheckError(
                    None, f"renders more than {OUTPUT_LIMIT_BYTES // 2} bytes", name
                )
        _emit({"result": result if report else {}})
    except TemplateCheckError as exc:
        _emit({"error": {"line": exc.line, "reason": _reason(exc.reason)}})
    except MemoryError:
        _emit({"error": {"line": None, "reason": "uses too much memory"}})


def _report_progress(fraction: float, text: str) -> None:
    """Send a rendering progress report to the parent."""
    _emit({"progress": [fraction, text]})


def _reason(reason: str) -> str:
    """Say a memory failure plainly, else return the reason, shortened."""
    if "MemoryError" in reason:
        return "uses too much memory"
    return reason[:2000]


if __name__ == "__main__":
    _child()
