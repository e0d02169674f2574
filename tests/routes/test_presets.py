"""Presets API: system presets are read-only, custom ones are validated and stored as files."""

from __future__ import annotations

import io
import json
from pathlib import Path

CONFIG = {
    "stage_selection": [2, 3, 4],
    "segment_mode": "auto",
    "analysis_prompt": "default",
    "narrative_prompt": "default",
    "audio_method": "tts",
    "transcript_engine": "captions",
    "analysis_engine": "heuristic",
    "narrative_engine": "template",
    "tts_engine": "espeak",
    "output_settings": {"max_height": 480},
}


def test_system_presets(client) -> None:  # noqa: ANN001
    presets = client.get("/presets/api/presets").get_json()["presets"]
    system = {p["name"]: p for p in presets if p["category"] == "system"}
    assert set(system) == {"Quick Auto", "Manual Curation", "Full Creative", "Harm Review"}
    assert system["Harm Review"]["configuration"]["analysis_prompt"] == "default"
    assert system["Quick Auto"]["configuration"]["analysis_prompt"] == "highlights"
    assert system["Quick Auto"]["configuration"]["segment_mode"] == "auto"
    assert system["Manual Curation"]["configuration"]["segment_mode"] == "manual"
    assert system["Full Creative"]["configuration"]["audio_method"] == "manual"


def test_system_presets_cannot_change(client) -> None:  # noqa: ANN001
    body = {"name": "Quick Auto 2", "configuration": CONFIG}
    assert client.put("/presets/api/presets/quick_auto", json=body).status_code == 403
    assert client.delete("/presets/api/presets/quick_auto").status_code == 403


def test_custom_preset_lifecycle(client, data_dir: Path) -> None:  # noqa: ANN001
    created = client.post("/presets/api/presets", json={"name": "My Flow", "configuration": CONFIG})
    assert created.status_code == 201, created.get_json()
    preset = created.get_json()
    assert preset["category"] == "custom"
    stored = json.loads((data_dir / "presets" / f"{preset['id']}.json").read_text())
    assert stored["configuration"]["stage_selection"] == [2, 3, 4]

    updated = client.put(
        f"/presets/api/presets/{preset['id']}",
        json={"name": "My Flow", "configuration": {**CONFIG, "segment_mode": "manual"}},
    )
    assert updated.status_code == 200
    assert updated.get_json()["configuration"]["segment_mode"] == "manual"

    exported = client.get(f"/presets/api/presets/{preset['id']}/export")
    assert "attachment" in exported.headers["Content-Disposition"]
    assert client.delete(f"/presets/api/presets/{preset['id']}").status_code == 204
    assert client.get(f"/presets/api/presets/{preset['id']}").status_code == 404

    imported = client.post(
        "/presets/api/presets/import", data={"file": (io.BytesIO(exported.data), "p.json")}
    )
    assert imported.status_code == 201
    assert imported.get_json()["name"] == "My Flow"


def test_duplicate_name_is_409(client) -> None:  # noqa: ANN001
    assert (
        client.post("/presets/api/presets", json={"name": "A", "configuration": CONFIG}).status_code
        == 201
    )
    again = client.post("/presets/api/presets", json={"name": "a", "configuration": CONFIG})
    assert again.status_code == 409 and again.get_json()["field"] == "name"
    system = client.post(
        "/presets/api/presets", json={"name": "Quick Auto", "configuration": CONFIG}
    )
    assert system.status_code == 409


def test_invalid_configurations_name_the_field(client) -> None:  # noqa: ANN001
    cases = [
        ({**CONFIG, "stage_selection": [1, 9]}, "configuration.stage_selection"),
        ({**CONFIG, "surprise": 1}, "configuration.surprise"),
        ({**CONFIG, "segment_mode": "random"}, "configuration.segment_mode"),
        ({**CONFIG, "analysis_prompt": "nope"}, "configuration.analysis_prompt"),
        ({**CONFIG, "tts_engine": "nope"}, "configuration.tts_engine"),
        ({**CONFIG, "audio_method": "both"}, "configuration.audio_method"),
        ({**CONFIG, "output_settings": {"crf": 99}}, "configuration.output_settings.crf"),
    ]
    for config, field in cases:
        answer = client.post("/presets/api/presets", json={"name": "X", "configuration": config})
        assert answer.status_code == 400, config
        assert answer.get_json()["field"] == field
    assert client.get("/presets/api/presets").get_json()["presets"][-1]["category"] == "system"
