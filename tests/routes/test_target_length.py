"""The target length on the pipeline page and in the API: shown, sent, validated."""

from __future__ import annotations

import pytest


def test_the_pipeline_page_offers_a_target_with_its_default(client) -> None:  # noqa: ANN001
    page = client.get("/pipeline/").get_data(as_text=True)
    assert 'name="target_seconds"' in page
    assert '<option value="" selected>Automatic</option>' in page
    assert "a third of the source, at most 10 minutes" in page


@pytest.mark.parametrize("value", [3, "soon", 99999])
def test_execute_refuses_a_bad_target(client, value) -> None:  # noqa: ANN001
    answer = client.post(
        "/pipeline/execute",
        json={"youtube_url": "http://127.0.0.1:9/talk.mp4", "target_seconds": value},
    )
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "target_seconds"


def test_a_preset_keeps_its_target(client) -> None:  # noqa: ANN001
    body = {"name": "Short reels", "configuration": {"target_seconds": "90"}}
    created = client.post("/presets/api/presets", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["configuration"]["target_seconds"] == 90.0
