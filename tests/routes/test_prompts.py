"""Prompts API: built-ins read-only, user prompts validated with the line of any problem."""

from __future__ import annotations

from pathlib import Path


def test_lists_builtin_prompts(client) -> None:  # noqa: ANN001
    listing = client.get("/prompts/api/prompts").get_json()
    assert {"default", "highlights"} <= {p["name"] for p in listing["analysis"]}
    assert "default" in {p["name"] for p in listing["narrative"]}
    assert all(p["builtin"] for p in listing["analysis"])


def test_duplicate_edit_delete(client, data_dir: Path) -> None:  # noqa: ANN001
    created = client.post(
        "/prompts/api/prompts/analysis", json={"name": "mine", "duplicate_of": "default"}
    )
    assert created.status_code == 201, created.get_json()
    assert (data_dir / "prompts" / "analysis" / "mine.toml").exists()
    content = created.get_json()["content"].replace("Harmful content", "My harmful content", 1)
    updated = client.put("/prompts/api/prompts/analysis/mine", json={"content": content})
    assert updated.status_code == 200
    assert (
        "My harmful content"
        in client.get("/prompts/api/prompts/analysis/mine").get_json()["content"]
    )
    assert client.delete("/prompts/api/prompts/analysis/mine").status_code == 204
    assert client.get("/prompts/api/prompts/analysis/mine").status_code == 404


def test_builtin_prompts_are_read_only(client) -> None:  # noqa: ANN001
    original = client.get("/prompts/api/prompts/narrative/default").get_json()["content"]
    assert (
        client.put("/prompts/api/prompts/narrative/default", json={"content": original}).status_code
        == 403
    )
    assert client.delete("/prompts/api/prompts/narrative/default").status_code == 403
    assert (
        client.post(
            "/prompts/api/prompts/narrative", json={"name": "default", "content": original}
        ).status_code
        == 409
    )


def test_broken_prompts_are_refused_with_the_line(client, data_dir: Path) -> None:  # noqa: ANN001
    bad_toml = 'name = "x"\ndescription = "y"\n[[categories]\n'
    answer = client.post("/prompts/api/prompts/analysis", json={"name": "bad", "content": bad_toml})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["field"] == "content" and body["line"] == 3 and "line 3" in body["error"]
    bad_template = "{% macro intro(theme, segments, episode) %}\n{{ oops( }}\n{% endmacro %}\n"
    answer = client.post(
        "/prompts/api/prompts/narrative", json={"name": "bad", "content": bad_template}
    )
    assert answer.status_code == 400 and answer.get_json()["line"] == 2
    assert not (data_dir / "prompts" / "narrative" / "bad.j2").exists()


def test_prompt_used_by_a_preset_cannot_be_deleted(client) -> None:  # noqa: ANN001
    client.post("/prompts/api/prompts/analysis", json={"name": "kept", "duplicate_of": "default"})
    preset = client.post(
        "/presets/api/presets",
        json={"name": "Uses kept", "configuration": {"analysis_prompt": "kept"}},
    )
    assert preset.status_code == 201, preset.get_json()
    answer = client.delete("/prompts/api/prompts/analysis/kept")
    assert answer.status_code == 409 and "Uses kept" in answer.get_json()["error"]


def test_bad_names_and_kinds(client) -> None:  # noqa: ANN001
    assert client.get("/prompts/api/prompts/other/default").status_code == 404
    answer = client.post(
        "/prompts/api/prompts/analysis", json={"name": "../evil", "duplicate_of": "default"}
    )
    assert answer.status_code == 400 and answer.get_json()["field"] == "name"
