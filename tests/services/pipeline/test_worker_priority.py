"""The worker gives way to the web server: its own nice value and its session's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_worker_yields_the_cpu_to_the_server_with_its_whole_session():
    code = (
        "import os; from services.pipeline.runner import yield_cpu; yield_cpu(); "
        "print(os.nice(0)); print(open('/proc/self/autogroup').read().strip() "
        "if os.path.exists('/proc/self/autogroup') else 'no autogroup')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        start_new_session=True,  # as spawn_worker starts it: its own session
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0] == "10"
    assert out[1] == "no autogroup" or out[1].endswith("nice 10")
