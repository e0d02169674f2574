"""Stage 6 cuts again only the clips whose range or format changed, by clips.json, not by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.atomic import read_json
from services.run.options import RunOptions
from services.stages.clipping import ClippingStage
from tests.services.stages.av_fixtures import EPISODE, make_episode, write_script
from tests.support.media import ffprobe_json
from tests.support.stage_runner import run_stage


def test_a_clip_id_back_with_another_range_is_cut_again(tmp_path: Path) -> None:
    files = make_episode(tmp_path, seconds=7.0, clips=[(1.0, 2.0), (3.0, 4.5)])
    run_stage(ClippingStage, tmp_path, EPISODE)
    first = files.clip("clip_01").stat().st_mtime_ns
    old_second = files.clip("clip_02").stat().st_mtime_ns

    write_script(files, clips=[(1.0, 2.0)])  # the editor removed clip_02 ...
    run_stage(ClippingStage, tmp_path, EPISODE)
    write_script(files, clips=[(1.0, 2.0), (5.0, 5.8)])  # ... and added a clip_02 elsewhere
    run_stage(ClippingStage, tmp_path, EPISODE)

    assert files.clip("clip_01").stat().st_mtime_ns == first
    assert files.clip("clip_02").stat().st_mtime_ns != old_second
    seconds = float(ffprobe_json(files.clip("clip_02"))["format"]["duration"])
    assert seconds == pytest.approx(0.8, abs=0.1)
    assert read_json(files.video_dir / "clips.json")["clips"]["clip_02"]["start"] == 5.0


def test_clips_are_untouched_until_one_is_replaced(tmp_path: Path) -> None:
    files = make_episode(tmp_path, seconds=4.0, clips=[(0.5, 1.5), (2.0, 3.0)])
    options = RunOptions()
    assert not ClippingStage.outputs_untouched(files, options)  # nothing cut yet
    run_stage(ClippingStage, tmp_path, EPISODE)
    assert ClippingStage.outputs_untouched(files, options)
    files.clip("clip_02").write_bytes(b"another file")
    assert not ClippingStage.outputs_untouched(files, options)
