"""Re-rendering after one narration sentence changed, against the full run of the same talk.

Both runs go through the real controller and worker process. The re-render selects stages 4-7
without `force`: stage 4 and 6 are reused (their inputs are unchanged), stage 5 speaks the one
changed section again and stage 7 rejoins.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from app import create_app
from benchmarks.report import Row
from config.settings import TestConfig
from models import Episode, PipelineSession, db
from services.atomic import read_json, write_json_atomic
from services.captions.subtitles import parse_srt
from services.episodes.files import EpisodeFiles
from services.episodes.script import narration_sections
from services.pipeline.controller import PipelineController
from services.pipeline.episode_store import create_from_local_file
from services.pipeline.events import RecordingSink
from services.pipeline.local.executor import LocalExecutor

GROUP = "Re-render after an edit"
NEW_SENTENCE = "This sentence was rewritten in the script editor before rendering again."


def _timed_run(controller: PipelineController, episode: Episode, choices: dict) -> dict:
    """Run one session to its end; return its wall time, status and per-stage statuses."""
    options = controller.options_for(episode, choices)
    started = time.monotonic()
    session = controller.start(episode, options)
    controller.executor.wait(session.id)
    wall = time.monotonic() - started
    db.session.expire_all()
    row = db.session.get(PipelineSession, session.id)
    stages = {r.stage: r.status for r in row.stage_runs}
    return {"wall": wall, "status": row.status, "stages": stages}


def edit_one_sentence(files: EpisodeFiles) -> str:
    """Rewrite the narration of the script's second narration section; return its id."""
    script = read_json(files.script)
    section = narration_sections(script)[1]
    section["script_content"] = NEW_SENTENCE
    write_json_atomic(files.script, script)
    return str(section["section_id"])


def srt_text(srt: str) -> str:
    """Return the words of an SRT file's cues, joined by single spaces (no numbers or times)."""
    return " ".join(" ".join(cue.text for cue in parse_srt(srt)).split())


def measure_rerender(video: Path) -> dict:
    """Run stages 1-7 on `video`, change one sentence, render again; return both runs."""
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-"))
    try:
        app = create_app(TestConfig(data_dir))
        sink = RecordingSink()
        controller = PipelineController(app, sink, LocalExecutor(app, sink))
        with app.app_context():
            episode = create_from_local_file(data_dir, video)
            base = {"transcript_engine": "captions", "tts_engine": "espeak"}
            full = _timed_run(
                controller, episode, {**base, "selected_stages": [1, 2, 3, 4, 5, 6, 7]}
            )
            files = EpisodeFiles.for_episode(data_dir, episode.id)
            edited = edit_one_sentence(files)
            again = _timed_run(controller, episode, {**base, "selected_stages": [4, 5, 6, 7]})
            final_srt = srt_text(files.final_srt.read_text(encoding="utf-8"))
            return {
                "full": full,
                "rerender": again,
                "section": edited,
                "new_words_in_srt": NEW_SENTENCE in final_srt,
            }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run_rerender(video: Path) -> list[Row]:
    """Return the bench rows: the full run and the re-render after one sentence changed."""
    result = measure_rerender(video)
    full, again = result["full"], result["rerender"]
    statuses = ", ".join(f"{n} {s}" for n, s in sorted(again["stages"].items()))
    return [
        Row(GROUP, f"full run, stages 1-7 ({full['status']})", f"{full['wall']:.1f} s"),
        Row(
            GROUP,
            f"re-render after one sentence changed, stages 4-7 ({again['status']}; "
            f"{statuses}; new words in final.srt: {result['new_words_in_srt']})",
            f"{again['wall']:.1f} s",
            f"seconds, not a full run: {again['wall'] / full['wall']:.0%} of it",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.report import markdown_table
    from benchmarks.samples import sample_video

    print(markdown_table(run_rerender(sample_video(2))))
