"""The pipeline page at a laptop's size, and the small things a first user tripped on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import ChromiumHolder, WatchedPage, upload_episode

pytestmark = [pytest.mark.browser]

VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Draw a monitor in the page from a store in a given state; return what it shows.
DRAW_MONITOR = """async ({events, pickerLink, estimates = null, now = Date.now()}) => {
    const { MonitorView } = await import('/static/js/monitorview.js');
    const { SessionStore } = await import('/static/js/sessionstore.js');
    const { loadStages } = await import('/static/js/api.js');
    const root = document.createElement('section');
    document.body.append(root);
    const view = new MonitorView(root, await loadStages(), { pickerLink });
    const store = new SessionStore();
    store.watch('s1');
    store.request();
    store.applyState({ session: { session_id: 's1', episode_id: 'ep1', status: 'running',
        selected_stages: [4, 5, 6, 7], stages: {} } });
    for (const [name, payload] of events) {
        store.applyEvent(name, { session_id: 's1', ...payload }, now);
    }
    if (estimates) store.applyEstimates({ session_id: 's1', ...estimates });
    view.draw(store, now);
    return { waiting: view.waitingPanel.hidden ? null : view.waitingPanel.textContent,
             done: view.donePanel.hidden ? null : view.donePanel.textContent,
             overall: view.overallBar.value, eta: view.etaText.textContent };
}"""


@pytest.fixture
def laptop(browser: ChromiumHolder, live_server: str):  # noqa: ANN201
    """Return a page the size of a 1280x800 laptop screen."""
    context = browser.get().new_context(base_url=live_server, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def in_view(page, selector: str) -> bool:  # noqa: ANN001
    """Tell whether an element lies wholly inside the viewport and is the one seen there."""
    return page.eval_on_selector(
        selector,
        """node => {
            const box = node.getBoundingClientRect();
            const inside = box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight
                && box.right <= innerWidth && box.height > 0;
            const x = box.left + box.width / 2;
            const seen = document.elementFromPoint(x, box.top + box.height / 2);
            return inside && (seen === node || node.contains(seen));
        }""",
    )


def test_start_and_the_target_length_are_in_view_without_scrolling(laptop) -> None:  # noqa: ANN001
    laptop.goto("/pipeline/")
    laptop.locator("#stage-options input").first.wait_for()
    laptop.locator("#engine-fields select").first.wait_for(state="attached")
    assert laptop.evaluate("window.scrollY") == 0
    assert in_view(laptop, "#start-button")
    assert in_view(laptop, "#run-target")
    # No scroll box of its own: the form is as tall as its content.
    assert laptop.eval_on_selector("#run-form", "f => f.scrollHeight <= f.clientHeight + 1")
    # Developer set-up notes (install commands, settings) are in docs, not in the form.
    form_text = laptop.inner_text("#run-form")
    assert "pip install" not in form_text and "huggingface-cli" not in form_text
    if os.environ.get("SCREENSHOTS") or not (SCREENSHOTS / "pipeline.png").exists():
        laptop.mouse.move(0, 0)
        laptop.screenshot(path=str(SCREENSHOTS / "pipeline.png"))


def test_stage_problems_are_separate_sentences(
    watched: WatchedPage, live_server: str, sample_copy: Path
) -> None:
    episode = upload_episode(live_server, sample_copy)
    page = watched.page
    page.goto(f"/pipeline/?episode={episode['episode_id']}&stages=7")
    lines = page.locator("#stage-7-error .error-line")
    lines.first.wait_for()
    texts = lines.all_inner_texts()
    assert len(texts) >= 2, texts
    assert all(t[0].isupper() and t.endswith(".") for t in texts), texts
    assert watched.page_errors == []


def test_the_monitor_never_shows_null(watched: WatchedPage) -> None:
    page = watched.page
    page.goto("/pipeline/")
    page.locator("#monitor .stage-card").first.wait_for()
    waiting = page.evaluate(
        DRAW_MONITOR,
        {
            "events": [["pipeline_waiting", {"stage": 4, "reason": "Pick the segments"}]],
            "pickerLink": False,
        },
    )
    assert "manual segment selection" in waiting["waiting"]
    assert "null" not in waiting["waiting"]
    done = page.evaluate(
        DRAW_MONITOR,
        {
            "events": [
                [
                    "pipeline_completion",
                    {"status": "completed", "outputs": {"final_video": "/media/ep1/final.mp4"}},
                ]
            ],
            "pickerLink": True,
        },
    )
    assert "Download the video" in done["done"]
    assert "null" not in done["done"]


def test_the_overall_bar_is_weighted_by_expected_time(watched: WatchedPage) -> None:
    page = watched.page
    page.goto("/pipeline/")
    page.locator("#monitor .stage-card").first.wait_for()
    t0 = 1_767_261_600_000  # 2026-01-01T10:00:00Z, in ms

    def progress(stage: int, status: str, value: float, at: int) -> list:
        stamp = f"2026-01-01T10:00:{at // 1000:02d}Z"
        payload = {"stage": stage, "status": status, "progress": value, "timestamp": stamp}
        return ["pipeline_progress", payload]

    events = [
        progress(4, "running", 0, 0),
        progress(4, "completed", 100, 10_000),
        progress(5, "running", 0, 10_000),
        progress(5, "running", 50, 20_000),
    ]
    seconds = {"4": 10, "5": 20, "6": 60, "7": 10}
    estimates = {
        "source_seconds": 100,
        "stages": {k: {"expected_seconds": v} for k, v in seconds.items()},
    }
    shown = page.evaluate(
        DRAW_MONITOR,
        {"events": events, "pickerLink": True, "estimates": estimates, "now": t0 + 20_000},
    )
    # By stage count: (1 + 0.5) / 4 = 37.5 %; by expected time: (10 + 10) / 100 = 20 %.
    assert shown["overall"] == 20
    # Stage 5 has 10 s left at its measured rate; stages 6 and 7 are expected to take 70 s.
    assert shown["eta"] == "about 1:20 left"
