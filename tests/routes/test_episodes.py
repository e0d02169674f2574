"""Episodes API: the episode JSON carries the folder's paths, so no page copies the layout."""

from __future__ import annotations

from pathlib import Path

from models import Episode, db
from services.episodes.files import EpisodeFiles


def test_episode_json_serves_the_folder_paths(app, client, data_dir: Path) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.add(Episode(id="ep1", title="Talk", source="x", source_kind="upload"))
        db.session.commit()
    files = EpisodeFiles.for_episode(data_dir, "ep1")

    paths = client.get("/episodes/api/episodes/ep1").get_json()["paths"]

    assert paths["original_video"] == files.relative(files.original_video)
    assert paths["script"] == "Output/Scripts/unified_podcast_script.json"
    assert paths["final_srt"] == files.relative(files.final_srt)
    filled = paths["clip"].replace("{clip_id}", "clip_002")
    assert filled == files.relative(files.clip("clip_002"))
    filled = paths["section_audio"].replace("{section_id}", "intro")
    assert filled == files.relative(files.section_audio("intro"))
    listed = client.get("/episodes/api/episodes").get_json()["episodes"]
    assert listed[0]["paths"] == paths
