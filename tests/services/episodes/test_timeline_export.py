"""The final's timeline exported for editors, read back by OpenTimelineIO range by range."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from services.episodes.files import EpisodeFiles
from services.episodes.script import load_script
from services.episodes.timeline_export import RATE, export_timeline
from services.media.ffmpeg import media_duration
from services.run.errors import ClientError
from tests.services.stages.av_fixtures import scripted_episode
from tests.support.media import lavfi, make_video, sine


@pytest.fixture
def rendered(tmp_path) -> EpisodeFiles:
    """An episode whose narration (stage 5) and clips (stage 6) exist as tiny files."""
    files = scripted_episode(tmp_path)
    script = load_script(files.script)
    for n, section in enumerate(script["podcast_sections"]):
        if section["section_type"] == "video_clip":
            length = section["end_time"] - section["start_time"]
            make_video(files.clip(section["section_id"]), seconds=length, size="160x120")
        else:
            lavfi(files.section_audio(section["section_id"]), sine(1.0 + 0.25 * n))
    return files


def frames(seconds: float) -> int:
    """Return a length in timeline frames."""
    return round(seconds * RATE)


def test_otio_export_reads_back_with_every_range_and_file(rendered, tmp_path) -> None:
    exported = export_timeline(rendered, "otio", "Tea talk")
    assert exported.filename.endswith(".otio")
    timeline = otio.adapters.read_from_string(exported.text, adapter_name="otio_json")
    video, audio = timeline.video_tracks()[0], timeline.audio_tracks()[0]
    sections = load_script(rendered.script)["podcast_sections"]
    assert len(video) == len(audio) == len(sections)
    position = 0
    for section, picture, sound in zip(sections, video, audio, strict=True):
        is_clip = section["section_type"] == "video_clip"
        path = (
            rendered.clip(section["section_id"])
            if is_clip
            else rendered.section_audio(section["section_id"])
        )
        length = frames(media_duration(path))
        assert sound.source_range.duration.value == length
        assert picture.source_range.duration.value == length
        assert sound.media_reference.target_url == path.resolve().as_uri()
        assert timeline.tracks[1].range_of_child(sound).start_time.value == position
        if is_clip:
            assert picture.media_reference.target_url == path.resolve().as_uri()
            meta = picture.metadata["clipcast"]
            assert (meta["source_in"], meta["source_out"]) == (
                section["start_time"],
                section["end_time"],
            )
        else:
            assert isinstance(picture, otio.schema.Gap)
            assert sound.metadata["clipcast"]["text"] == section["script_content"]
        position += length
    assert timeline.duration().value == position


def test_fcp_xml_and_edl_name_the_clip_files(rendered) -> None:
    xml = export_timeline(rendered, "xml").text
    edl = export_timeline(rendered, "edl").text
    for clip_id in ("clip_01", "clip_02"):
        assert f"{clip_id}.mp4" in xml
    assert "clip_01.mp4" in edl or "clip_01" in edl
    back = otio.adapters.read_from_string(edl, adapter_name="cmx_3600", rate=RATE)
    assert len([c for c in back.find_clips()]) == 2


def test_a_section_not_rendered_yet_is_named(rendered) -> None:
    rendered.section_audio("outro").unlink()
    with pytest.raises(ClientError, match="outro"):
        export_timeline(rendered, "otio")


def test_the_route_serves_the_download_and_refuses_unknown_formats(app, client, data_dir) -> None:
    from models import Episode, db

    files = EpisodeFiles.for_episode(data_dir, "ep")
    with app.app_context():
        db.session.add(Episode(id="ep", title="Tea talk", source="x.mp4", source_kind="upload"))
        db.session.commit()
    assert client.get("/episodes/api/ep/timeline.otio").status_code == 409  # nothing yet
    scripted_episode(data_dir)
    for section in load_script(files.script)["podcast_sections"]:
        if section["section_type"] == "video_clip":
            make_video(files.clip(section["section_id"]), seconds=1.0, size="160x120")
        else:
            lavfi(files.section_audio(section["section_id"]), sine(1.0))
    answer = client.get("/episodes/api/ep/timeline.otio")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    assert otio.adapters.read_from_string(answer.get_data(as_text=True), "otio_json")
    assert client.get("/episodes/api/ep/timeline.mov").status_code == 404
    assert client.get("/episodes/api/nope/timeline.otio").status_code == 404
