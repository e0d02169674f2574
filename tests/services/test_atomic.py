"""Atomic writes: the final name appears only with complete content."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.atomic import atomic_output, read_json, remove_partials, write_json_atomic

pytestmark = pytest.mark.unit


def test_write_json_atomic_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    write_json_atomic(target, {"x": [1, 2], "t": "é"})
    assert read_json(target) == {"x": [1, 2], "t": "é"}
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]


def test_failure_keeps_previous_version_and_leaves_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_remove_partials_after_a_crash(tmp_path: Path) -> None:
    (tmp_path / "Output").mkdir()
    (tmp_path / "Output" / ".final.1234abcd.partial.mp4").write_bytes(b"x")
    (tmp_path / "Output" / "final.mp4").write_bytes(b"ok")
    assert remove_partials(tmp_path) == 1
    assert [p.name for p in (tmp_path / "Output").iterdir()] == ["final.mp4"]
