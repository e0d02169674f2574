"""Script versions: saving keeps every earlier script, restoring makes a new version."""

from __future__ import annotations

import pytest

from services.atomic import read_json, write_json_atomic
from services.episodes.script_versions import (
    OUTSIDE_NOTE,
    current_version,
    list_versions,
    read_version,
    restore_version,
    save_version,
    versions_dir,
)
from services.run.errors import ClientError
from tests.support.script_episode import script, script_episode


@pytest.fixture
def files(tmp_path):  # noqa: ANN001, ANN201
    return script_episode(tmp_path, "ep1", video=False)


def edited(text: str) -> dict:
    changed = script()
    changed["podcast_sections"][0]["script_content"] = text
    return changed


def test_first_save_keeps_stage_4_script_as_version_1(files) -> None:
    original = read_json(files.script)
    assert current_version(files) is None
    number = save_version(files, edited("Hello tea."), "shorter intro")
    assert number == 2
    assert read_version(files, 1)["script"] == original
    assert read_version(files, 1)["note"] == OUTSIDE_NOTE
    assert read_json(files.script)["podcast_sections"][0]["script_content"] == "Hello tea."
    assert current_version(files) == 2
    rows = list_versions(files)
    assert [r["version"] for r in rows] == [2, 1]
    assert rows[0]["note"] == "shorter intro" and rows[0]["current"]
    assert rows[0]["saved_at"]


def test_restore_writes_a_new_version_with_the_old_script(files) -> None:
    save_version(files, edited("One."))
    save_version(files, edited("Two."))
    number = restore_version(files, 2)
    assert number == 4
    assert read_json(files.script)["podcast_sections"][0]["script_content"] == "One."
    assert read_version(files, 4)["note"] == "back to version 2"
    assert current_version(files) == 4


def test_a_script_changed_outside_is_kept_before_the_next_save(files) -> None:
    save_version(files, edited("Mine."))
    write_json_atomic(files.script, edited("Stage 4 again."))
    assert current_version(files) is None
    save_version(files, edited("Mine again."))
    kept = [
        read_version(files, n)["script"]["podcast_sections"][0]["script_content"]
        for n in (1, 2, 3, 4)
    ]
    assert kept[1:] == ["Mine.", "Stage 4 again.", "Mine again."]


def test_unknown_version_is_404_and_no_partials_left(files) -> None:
    save_version(files, edited("x y"))
    with pytest.raises(ClientError) as caught:
        restore_version(files, 9)
    assert caught.value.status == 404
    assert not [p for p in versions_dir(files).iterdir() if ".partial" in p.name]


def test_note_must_be_text(files) -> None:
    with pytest.raises(ClientError):
        save_version(files, edited("x"), note=["not", "text"])
