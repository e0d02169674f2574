"""The narration page tells a TTS take from a recording, and an upload can be undone."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Episode, db
from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from tests.browser.conftest import WatchedPage
from tests.support.media import make_speech_wav

pytestmark = [pytest.mark.browser]

SCRIPT = {
    "narrative_theme": "t",
    "podcast_sections": [
        {"section_id": "intro", "section_type": "intro", "script_content": "Hello there."},
        {"section_id": "outro", "section_type": "outro", "script_content": "Goodbye."},
    ],
    "script_metadata": {},
}


@pytest.fixture
def spoken(app, data_dir: Path) -> EpisodeFiles:  # noqa: ANN001
    """An episode whose stage 5 spoke both sections with text to speech."""
    with app.app_context():
        db.session.add(Episode(id="ep_tts", title="Talk", source="x", source_kind="upload"))
        db.session.commit()
    files = EpisodeFiles.for_episode(data_dir, "ep_tts")
    write_json_atomic(files.script, SCRIPT)
    files.audio_dir.mkdir(parents=True, exist_ok=True)
    for section in ("intro", "outro"):
        make_speech_wav(files.section_audio(section), f"This is the {section}.")
    return files


def test_upload_then_use_the_tts_take_again(
    watched: WatchedPage, spoken: EpisodeFiles, tmp_path: Path
) -> None:
    page = watched.page
    take = spoken.section_audio("intro").read_bytes()
    page.goto("/audio/ep_tts")
    row = page.locator('tr[data-section="intro"]')
    badge = row.locator(".audio-source")
    badge.wait_for()
    assert badge.inner_text() == "text to speech"
    assert "Your recording" not in page.inner_text("thead")
    again = row.get_by_role("button", name="Use the text-to-speech take of intro again")
    assert again.is_hidden()

    recording = make_speech_wav(tmp_path / "me.wav", "My own voice reads this intro.")
    row.locator("input[type=file]").set_input_files(str(recording))
    page.wait_for_function(
        """() => document.querySelector('tr[data-section="intro"] .audio-source')
            ?.dataset.source === 'recording'"""
    )
    assert badge.inner_text() == "your recording"
    assert spoken.section_audio("intro").read_bytes() != take

    again.click()
    page.wait_for_function(
        """() => document.querySelector('tr[data-section="intro"] .audio-source')
            ?.dataset.source === 'tts'"""
    )
    assert spoken.section_audio("intro").read_bytes() == take
    assert again.is_hidden()
    assert watched.page_errors == []
    assert watched.console_errors == []
