"""Take the README screenshots: dashboard, a run in progress, episode page, script editor.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--width 1440]

Runs the app on a temporary DATA_DIR with a generated sample talk, drives Debian's Chromium
with Playwright (never a downloaded browser) and writes PNG files.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def serve(app):  # noqa: ANN001, ANN201
    """Serve the app on a free loopback port in a thread; return (server, base URL)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def upload(base: str, video: Path) -> str:
    """Upload the sample and its captions; return the episode id."""
    import requests

    with open(video, "rb") as v, open(video.with_suffix(".en.vtt"), "rb") as s:
        response = requests.post(
            f"{base}/episodes/api/episodes",
            files={"file": (video.name, v), "subtitles": (f"{video.stem}.en.vtt", s)},
            timeout=60,
        )
    response.raise_for_status()
    return response.json()["episode_id"]


def shoot_episode(page, episode_id: str, at_seconds: float, path: Path) -> Path:  # noqa: ANN001
    """Open an episode page, show its final at `at_seconds` and save the page as `path`."""
    page.goto(f"/episodes/{episode_id}")
    page.wait_for_selector("#final-video")
    page.wait_for_function("() => document.querySelector('#final-video').readyState >= 1")
    page.evaluate(
        """(at) => new Promise((done) => {
            const video = document.querySelector('#final-video');
            video.addEventListener('seeked', done, { once: true });
            video.currentTime = at;
        })""",
        at_seconds,
    )
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)
    return path


def take(base: str, episode_id: str, out: Path, width: int, scheme: str) -> list[Path]:
    """Drive Chromium through a run and save the screenshots; return their paths."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            base_url=base, viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        page.set_default_timeout(30_000)

        page.goto(f"/pipeline/?episode={episode_id}")
        page.wait_for_function(
            "() => document.querySelector('#stages-status').dataset.kind === 'ok'"
        )
        page.get_by_role("button", name="Start").click()
        page.wait_for_selector(
            '#monitor .stage-card[data-stage="6"][data-status="running"]', timeout=180_000
        )
        page.wait_for_function(
            "() => document.querySelector('#monitor .stage-card[data-stage=\"6\"] progress')"
            ".value > 30",
            timeout=60_000,
        )
        page.evaluate(
            "() => { window.scrollTo(0, 0); document.querySelector('#run-form').scrollTop = 0; }"
        )
        page.mouse.move(0, 0)  # no hover highlight in the picture
        shots.append(out / "pipeline-running.png")
        page.screenshot(path=shots[-1], full_page=True)

        page.wait_for_selector('.run-status[data-status="completed"]', timeout=300_000)
        # Show a frame of the narration card rather than the black first frame.
        shots.append(shoot_episode(page, episode_id, 4, out / "episode.png"))

        page.goto(f"/episodes/{episode_id}/script")
        page.wait_for_selector("li.script-section")
        page.wait_for_load_state("networkidle")
        shots.append(out / "script-editor.png")
        page.screenshot(path=shots[-1], full_page=True)

        page.goto("/")
        page.wait_for_selector("#episodes-body tr")
        page.wait_for_selector("#system-body .kv-list")
        page.wait_for_load_state("networkidle")
        shots.append(out / "dashboard.png")
        page.screenshot(path=shots[-1], full_page=True)
        browser.close()
    return shots


def audio_only(video: Path, out: Path) -> Path:
    """Write the sample's sound alone as an mp3 with a title tag (a podcast episode)."""
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vn", "-c:a", "libmp3lame"]
    command += ["-q:a", "4", "-metadata", "title=Garden Talk, episode 12", str(out)]
    subprocess.run(command, check=True)
    return out


def take_audio_episode(base: str, audio: Path, out: Path, width: int, scheme: str) -> Path:
    """Run all seven stages on an audio-only upload; screenshot its episode page."""
    import requests
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with open(audio, "rb") as handle:
        created = requests.post(
            f"{base}/episodes/api/episodes", files={"file": (audio.name, handle)}, timeout=60
        )
    created.raise_for_status()
    episode_id = created.json()["episode_id"]
    started = requests.post(f"{base}/pipeline/execute", json={"episode_id": episode_id}, timeout=30)
    started.raise_for_status()
    session_id = started.json()["session_id"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = requests.get(f"{base}/pipeline/status/{session_id}", timeout=10).json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(1)
    shot = out / "episode-audio-only.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            base_url=base, viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        shoot_episode(page, episode_id, 12, shot)
        browser.close()
    return shot


def main(argv: list[str] | None = None) -> int:
    """Generate a sample, run it through the UI and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--minutes", type=float, default=1.0, help="length of the sample talk")
    parser.add_argument("--voices", type=int, choices=(1, 2), default=2)
    parser.add_argument("--scheme", choices=("light", "dark"), default="light")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="clipcast-shots-") as tmp:
        data_dir = Path(tmp) / "data"
        os.environ["DATA_DIR"] = str(data_dir)
        os.environ.setdefault("SECRET_KEY", "screenshots-only")
        from app import create_app
        from services.sources.sample import generate_sample

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        video = generate_sample(
            Path(tmp) / "sample" / "talk.mp4", minutes=args.minutes, voices=args.voices
        )
        app = create_app()
        server, base = serve(app)
        try:
            episode_id = upload(base, video)
            for path in take(base, episode_id, args.out, args.width, args.scheme):
                print(path)
            podcast = audio_only(video, Path(tmp) / "garden-talk-12.mp3")
            print(take_audio_episode(base, podcast, args.out, args.width, args.scheme))
        finally:
            server.shutdown()
            controller = app.extensions["clipcast.pipeline"]
            for session_id in list(getattr(controller.executor, "_handles", {})):
                controller.executor.interrupt(session_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
