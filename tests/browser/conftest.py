"""Browser fixtures: Debian's Chromium driven by Playwright, a watched page on the live server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.processes import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):  # noqa: ANN001, ANN201
    """Launch the system Chromium (never a downloaded one)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class ChromiumHolder:
    """One Chromium for the suite, launched again if it went away (say, killed for memory)."""

    def __init__(self, playwright) -> None:  # noqa: ANN001
        self.playwright = playwright
        self.chromium = launch_chromium(playwright)

    def get(self):  # noqa: ANN201
        """Return a connected Chromium."""
        if not self.chromium.is_connected():
            self.chromium = launch_chromium(self.playwright)
        return self.chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[ChromiumHolder]:
    """Return the suite's Chromium holder."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed: apt-get install chromium (or make setup-test)")
    with sync_api.sync_playwright() as playwright:
        holder = ChromiumHolder(playwright)
        yield holder
        if holder.chromium.is_connected():
            holder.chromium.close()


@dataclass
class WatchedPage:
    """A page plus everything it asked for and complained about."""

    page: object
    base: str
    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    frames_sent: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed_responses: list[tuple[int, str]] = field(default_factory=list)

    def state_requests(self) -> list[str]:
        """Return the `request_state` packets the page sent (websocket or polling)."""
        return [f for f in self.frames_sent if "request_state" in f]

    def foreign_requests(self) -> list[str]:
        """Return every request that left the app's own origin."""
        urls = self.requests + [w.replace("ws://", "http://", 1) for w in self.websockets]
        return [
            u
            for u in urls
            if not (u == self.base or u.startswith(self.base + "/"))
            and not u.startswith(("data:", "blob:"))
        ]


@pytest.fixture
def watched(browser: ChromiumHolder, live_server: str) -> Iterator[WatchedPage]:
    """Return a fresh page on the live server that records requests, errors and dialogs."""
    context = browser.get().new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = WatchedPage(page=page, base=live_server)

    def on_request(request) -> None:  # noqa: ANN001
        watch.requests.append(request.url)
        if request.method == "POST" and "/socket.io/" in request.url:
            watch.frames_sent.append(request.post_data or "")  # Socket.IO over long-polling

    page.on("request", on_request)

    def on_websocket(ws) -> None:  # noqa: ANN001
        watch.websockets.append(ws.url)
        ws.on("framesent", lambda payload: watch.frames_sent.append(str(payload)))

    page.on("websocket", on_websocket)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: watch.failed_responses.append((r.status, r.url)) if r.status >= 400 else None,
    )

    def on_dialog(dialog) -> None:  # noqa: ANN001
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    yield watch
    context.close()


@pytest.fixture
def page(watched: WatchedPage):  # noqa: ANN201
    """Return the watched page itself."""
    return watched.page


def upload_episode(base: str, video: Path, filename: str | None = None) -> dict:
    """Upload a video and its sidecar captions through the API; return the episode."""
    captions = video.with_suffix(".en.vtt")
    with open(video, "rb") as v, open(captions, "rb") as s:
        response = requests.post(
            f"{base}/episodes/api/episodes",
            files={"file": (filename or video.name, v), "subtitles": ("talk.en.vtt", s)},
            timeout=30,
        )
    assert response.status_code == 201, response.text
    return response.json()


def wait_until(
    check: Callable[[], object], timeout: float, interval: float = 0.2, page=None
) -> object:  # noqa: ANN001
    """Return the first truthy result of `check`, or fail after `timeout` seconds.

    With `page`, wait through Playwright so the page's events keep being recorded meanwhile
    (the sync API only dispatches them inside its own calls).
    """
    if page is None:
        return wait_for(check, timeout, interval)
    return wait_for(check, timeout, interval, pause=lambda s: page.wait_for_timeout(s * 1000))


def session_status(base: str, session_id: str) -> dict:
    """Return a session's status from the API."""
    return requests.get(f"{base}/pipeline/status/{session_id}", timeout=5).json()


def server_seqs(base: str, session_id: str) -> list[int]:
    """Return the seq of every stored log line of a session."""
    logs = requests.get(f"{base}/pipeline/logs/{session_id}?limit=10000", timeout=5).json()["logs"]
    return [r["seq"] for r in logs]


INLINE_CODE_SCAN = """() => {
    const found = [];
    for (const node of document.querySelectorAll('*')) {
        if (node.hasAttribute('style')) found.push(`${node.tagName} style`);
        for (const attr of node.getAttributeNames()) {
            if (attr.startsWith('on')) found.push(`${node.tagName} ${attr}`);
        }
        if (node.tagName === 'SCRIPT' && !node.src && node.type !== 'application/json') {
            found.push('inline SCRIPT');
        }
        if (node.tagName === 'SCRIPT' && node.src && node.type !== 'module') {
            found.push('classic SCRIPT');
        }
    }
    return found;
}"""


def inline_code(page) -> list[str]:  # noqa: ANN001
    """Return what in the live DOM a CSP without 'unsafe-inline' would block (should be none)."""
    return page.evaluate(INLINE_CODE_SCAN)


def page_seqs(page) -> list[int]:  # noqa: ANN001
    """Return the seq of every log line the page's monitor shows."""
    return page.eval_on_selector_all(
        "#monitor .log-line, #episode-monitor .log-line",
        "lines => lines.map(l => Number(l.dataset.seq))",
    )
