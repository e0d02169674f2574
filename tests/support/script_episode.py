"""An episode ready for the script editor: source video, words, two segments and a script."""

from __future__ import annotations

from pathlib import Path

from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.segments import segments_document
from tests.support.media import make_video

SOURCE_SECONDS = 12.0
WORDS = (
    "the tea was grown on a hill where the rain falls every day and the leaves stay green".split()
)
WORD_STEP = 0.6  # one word every 0.6 s: word n runs from n*0.6+0.05 to n*0.6+0.45


def word_times(n: int) -> tuple[float, float]:
    """Return the (start, end) of the n-th transcript word (0-based)."""
    return round(n * WORD_STEP + 0.05, 3), round(n * WORD_STEP + 0.45, 3)


def transcript() -> dict:
    """Return a transcript of two lines with word times."""
    words = [
        {"word": w, "start": word_times(n)[0], "end": word_times(n)[1]} for n, w in enumerate(WORDS)
    ]
    half = len(words) // 2
    lines = []
    for number, part in enumerate((words[:half], words[half:]), 1):
        lines.append(
            {
                "id": number,
                "start": part[0]["start"],
                "end": part[-1]["end"],
                "text": " ".join(w["word"] for w in part),
                "speaker": "Speaker 1",
                "words": part,
            }
        )
    return {"segments": lines}


def segment(number: int, start: float, end: float, title: str) -> dict:
    """Return one analysed segment (API.md fields)."""
    return {
        "segment_id": f"seg_{number:03d}",
        "narrativeSegmentTitle": title,
        "severityRating": "MEDIUM",
        "harm_category": "Other",
        "primary_speaker_of_quote": "Speaker 1",
        "confidence_in_classification": 0.8,
        "brief_reasoning_for_classification": "A reason.",
        "clipContextDescription": "A context.",
        "segmentDurationInSeconds": round(end - start, 3),
        "fullerContextTimestamps": {"start": start, "end": end},
        "suggestedClip": [{"timestamp": start, "quote": "a quote"}],
        "score": 0.8,
    }


SEGMENTS = [
    segment(1, 1.0, 3.5, "Tea on a hill"),
    segment(2, 5.0, 8.0, "Rain every day"),
    segment(3, 9.0, 11.0, "Green leaves"),
]


def script() -> dict:
    """Return a stage 4 script: intro, a set-up and clip per segment 1-2, outro."""
    sections: list[dict] = [
        {
            "section_id": "intro",
            "section_type": "intro",
            "script_content": "Welcome to a talk about tea.",
        }
    ]
    for n, seg in enumerate(SEGMENTS[:2], 1):
        bounds = seg["fullerContextTimestamps"]
        sections.append(
            {
                "section_id": f"pre_clip_{n:02d}",
                "section_type": "pre_clip",
                "script_content": f"Here is part {n} of the story.",
            }
        )
        sections.append(
            {
                "section_id": f"clip_{n:02d}",
                "section_type": "video_clip",
                "clip_id": f"clip_{n:02d}",
                "segment_id": seg["segment_id"],
                "start_time": bounds["start"],
                "end_time": bounds["end"],
                "duration": round(bounds["end"] - bounds["start"], 3),
                "title": seg["narrativeSegmentTitle"],
            }
        )
    sections.append(
        {"section_id": "outro", "section_type": "outro", "script_content": "Thanks for listening."}
    )
    return {
        "narrative_theme": "Tea",
        "podcast_sections": sections,
        "script_metadata": {"engine": "template"},
    }


def script_episode(data_dir: Path, episode_id: str, video: bool = True) -> EpisodeFiles:
    """Write the episode's files (a small source video unless `video` is False)."""
    files = EpisodeFiles.for_episode(data_dir, episode_id)
    files.ensure_dirs()
    if video:
        make_video(files.original_video, seconds=SOURCE_SECONDS, size="320x180")
    write_json_atomic(files.metadata, {"duration": SOURCE_SECONDS})
    write_json_atomic(files.transcript, transcript())
    write_json_atomic(
        files.analysis,
        segments_document(SEGMENTS, episode_id=episode_id, target_seconds=20.0),
    )
    write_json_atomic(files.script, script())
    return files


def add_episode_row(app, episode_id: str, title: str = "Tea talk") -> None:  # noqa: ANN001
    """Store the episode in the app's database."""
    from models import Episode, db

    with app.app_context():
        db.session.add(Episode(id=episode_id, title=title, source="tea.mp4", source_kind="upload"))
        db.session.commit()
