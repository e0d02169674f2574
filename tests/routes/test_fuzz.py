"""Malformed bodies on every JSON endpoint: always a 4xx naming the problem, never a 5xx."""

from __future__ import annotations

import io
import json

import pytest

from tests.support.processes import wait_for

# Bodies that are not a JSON object at all, or not JSON.
RAW_BODIES = [
    b"[",
    b"[" * 50_000,
    b"{" * 50_000,
    b'{"a":' * 5_000,
    b"[]",
    b"[1, 2]",
    b'"a string"',
    b"42",
    b"1" * 5_000,
    b"1e999999",
    b"-Infinity",
    b"NaN",
    b"null",
    b"true",
    b"{",
    b'{"a": }',
    b"\xff\xfe\x00",
    b'{"a": "\xff"}',
    json.dumps({"deep": json.loads("[" * 60 + "]" * 60)}).encode(),
]
# Values of the wrong type (or size) for any field.
WRONG_VALUES = [None, {}, [], [[[]]], {"a": {"b": {}}}, 0, -1, 10**30, 1.5, True, "", "x" * 5000]
FIELDS = {
    "/episodes/api/episodes": ["url"],
    "/pipeline/execute": [
        "youtube_url",
        "episode_id",
        "preset",
        "selected_stages",
        "segment_mode",
        "analysis_prompt",
        "narrative_prompt",
        "audio_method",
        "transcript_engine",
        "analysis_engine",
        "narrative_engine",
        "tts_engine",
        "tts_voice",
        "tts_rate",
        "caption_language",
        "max_segments",
        "target_seconds",
        "output_settings",
        "diarization",
        "word_alignment",
        "force",
        "unknown_key",
    ],
    "/prompts/api/prompts/narrative": ["name", "content", "duplicate_of"],
    "/presets/api/presets": ["name", "description", "configuration", "category"],
    "/segments/api/ep_fuzz/select": ["segment_ids"],
}
FIELDS["/pipeline/validate-stages"] = FIELDS["/pipeline/execute"]
FIELDS["/prompts/api/prompts/analysis"] = FIELDS["/prompts/api/prompts/narrative"]
UPDATES = {
    "/prompts/api/prompts/narrative/mine": FIELDS["/prompts/api/prompts/narrative"],
    "/presets/api/presets/nope": FIELDS["/presets/api/presets"],
}
# A starting body per endpoint that the fuzzer changes one field of at a time.
BASES = {
    "/pipeline/execute": {"episode_id": "ep_fuzz", "selected_stages": [1]},
    "/pipeline/validate-stages": {"episode_id": "ep_fuzz", "selected_stages": [1]},
}


def _bodies(path: str, fields: list[str]) -> list[tuple[bytes, str]]:
    """Return (body, content type) pairs: raw garbage, then each field set to each wrong value."""
    bodies = [(raw, "application/json") for raw in RAW_BODIES]
    bodies.append((b'{"url": 1}', "text/plain"))
    base = BASES.get(path, {})
    for field in fields:
        for value in WRONG_VALUES:
            bodies.append((json.dumps({**base, field: value}).encode(), "application/json"))
    return bodies


@pytest.fixture
def fuzz_app(app):  # noqa: ANN001, ANN201
    """The app with one URL episode (never downloaded) for the endpoints that need one."""
    from models import Episode, db

    with app.app_context():
        db.session.add(Episode(id="ep_fuzz", title="t", source="x", source_kind="url"))
        db.session.commit()
    return app


def _assert_4xx(answer, what: str) -> None:  # noqa: ANN001
    """Check an answer is a 4xx JSON error (or a success): never a 5xx."""
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.data[:300]!r}"
    if answer.status_code >= 400:
        body = answer.get_json()
        assert body and body.get("error"), f"{what}: {answer.data[:300]!r}"


def test_malformed_bodies_never_cause_a_5xx(fuzz_app, client) -> None:  # noqa: ANN001
    sent = 0
    for method, table in (("POST", FIELDS), ("PUT", UPDATES)):
        for path, fields in table.items():
            for body, content_type in _bodies(path, fields):
                answer = client.open(path, method=method, data=body, content_type=content_type)
                _assert_4xx(answer, f"{method} {path} {body[:80]!r}")
                sent += 1
    assert sent > 700

    # Whatever the fuzzer started must end: no session is left queued or running.
    def settled() -> bool:
        listing = client.get("/pipeline/sessions").get_json()["sessions"]
        return all(s["status"] in ("completed", "failed", "interrupted") for s in listing)

    wait_for(settled, timeout=120, interval=0.5)
    assert client.get("/pipeline/sessions").get_json()["sessions"], "no valid body started a run"


@pytest.mark.parametrize("raw", RAW_BODIES[:12])
def test_malformed_preset_files_are_refused(client, raw: bytes) -> None:  # noqa: ANN001
    answer = client.post(
        "/presets/api/presets/import", data={"file": (io.BytesIO(raw), "preset.json")}
    )
    assert answer.status_code in (400, 413), answer.data[:300]
    assert answer.get_json()["field"] == "file"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[1]", "body"),
        (b'"s"', "body"),
        (b"[" * 50_000, "body"),
        (b'{"youtube_url": 5}', "youtube_url"),
        (b'{"youtube_url": ["https://example.com"]}', "youtube_url"),
        (b'{"episode_id": {}}', "episode_id"),
        (b'{"narrative_engine": {}, "episode_id": "ep_fuzz"}', "narrative_engine"),
    ],
)
def test_errors_name_the_field(fuzz_app, client, body: bytes, field: str) -> None:  # noqa: ANN001
    answer = client.post("/pipeline/execute", data=body, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["field"] == field, answer.get_json()


def test_invalid_json_says_so(client) -> None:  # noqa: ANN001
    answer = client.post("/episodes/api/episodes", data=b"{", content_type="application/json")
    assert answer.status_code == 400 and "not valid JSON" in answer.get_json()["error"]
