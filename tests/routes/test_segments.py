"""Segment picker API: six sort keys both ways; selection written in the analysis format."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import Episode, db
from services.atomic import read_json, write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.segments import load_segments, segments_document

SEVERITY_ORDER = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def make_segment(
    n: int,
    start: float,
    length: float,
    severity: str,
    speaker: str,
    category: str,
    confidence: float,
) -> dict:
    """Return one valid segment."""
    return {
        "segment_id": f"seg_{n:03d}",
        "narrativeSegmentTitle": f"Segment {n}",
        "severityRating": severity,
        "harm_category": category,
        "primary_speaker_of_quote": speaker,
        "confidence_in_classification": confidence,
        "brief_reasoning_for_classification": "because",
        "clipContextDescription": "context",
        "segmentDurationInSeconds": length,
        "fullerContextTimestamps": {"start": start, "end": start + length},
        "suggestedClip": [{"timestamp": start, "quote": "a quote"}],
        "score": confidence,
    }


@pytest.fixture
def episode(app, data_dir: Path) -> str:  # noqa: ANN001
    with app.app_context():
        db.session.add(Episode(id="ep1", title="Talk", source="x", source_kind="upload"))
        db.session.commit()
    files = EpisodeFiles.for_episode(data_dir, "ep1")
    segments = [
        make_segment(1, 10, 30, "HIGH", "Bob", "Conspiracy theory", 0.7),
        make_segment(2, 50, 90, "LOW", "alice", "Financial scam", 0.2),
        make_segment(3, 200, 45, "CRITICAL", "Carol", "Dangerous advice", 0.9),
        make_segment(4, 120, 20, "MEDIUM", "Dave", "Medical misinformation", 0.5),
    ]
    write_json_atomic(
        files.analysis,
        segments_document(segments, episode_id="ep1", guideline="default", engine="heuristic"),
    )
    return "ep1"


KEYS = {
    "severity": lambda s: SEVERITY_ORDER.index(s["severityRating"]),
    "duration": lambda s: s["segmentDurationInSeconds"],
    "speaker": lambda s: s["primary_speaker_of_quote"].lower(),
    "category": lambda s: s["harm_category"].lower(),
    "confidence": lambda s: s["confidence_in_classification"],
    "timestamp": lambda s: s["fullerContextTimestamps"]["start"],
}


@pytest.mark.parametrize("key", sorted(KEYS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting(client, episode: str, key: str, order: str) -> None:  # noqa: ANN001
    answer = client.get(f"/segments/api/{episode}?sort={key}&order={order}")
    assert answer.status_code == 200
    values = [KEYS[key](s) for s in answer.get_json()["segments"]]
    assert len(values) == 4
    assert values == sorted(values, reverse=order == "desc")


def test_bad_sort_key(client, episode: str) -> None:  # noqa: ANN001
    answer = client.get(f"/segments/api/{episode}?sort=colour")
    assert answer.status_code == 400 and answer.get_json()["field"] == "sort"


def test_selection_is_written_in_the_analysis_format(
    client,
    episode: str,  # noqa: ANN001
    data_dir: Path,
) -> None:
    answer = client.post(
        f"/segments/api/{episode}/select", json={"segment_ids": ["seg_003", "seg_001"]}
    )
    assert answer.status_code == 200 and answer.get_json() == {"selected": 2}
    files = EpisodeFiles.for_episode(data_dir, episode)
    chosen = load_segments(files.selected_segments)
    assert [s["segment_id"] for s in chosen] == ["seg_001", "seg_003"]
    analysis, selection = read_json(files.analysis), read_json(files.selected_segments)
    assert set(analysis) <= set(selection)
    assert chosen[0] == analysis["segments"][0]
    listing = client.get(f"/segments/api/{episode}").get_json()
    assert listing["selected_ids"] == ["seg_001", "seg_003"]
    assert listing["selected_by"] == "user"


def test_unknown_segment_id_is_400_and_changes_nothing(
    client,
    episode: str,  # noqa: ANN001
    data_dir: Path,
) -> None:
    answer = client.post(
        f"/segments/api/{episode}/select", json={"segment_ids": ["seg_001", "seg_999"]}
    )
    assert answer.status_code == 400
    assert "seg_999" in answer.get_json()["error"]
    assert not EpisodeFiles.for_episode(data_dir, episode).selected_segments.exists()


def test_unknown_episode_is_404(client) -> None:  # noqa: ANN001
    assert client.get("/segments/api/nope").status_code == 404
