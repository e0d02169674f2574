"""Speaker labelling in stage 2: when to run it, with which diarizer, and applying its labels.

`diarization` (a run option) is auto|off|embedded|pyannote. Auto labels a transcript whose
source named at most one speaker, when there are at least MIN_SPEECH seconds of speech:
with pyannote when it is installed and has a token, else with the embedded clustering.
"""

from __future__ import annotations

from collections import Counter
from typing import cast

from services.engines.base import engine_failure
from services.engines.diarization.base import Diarizer
from services.engines.registry import engine_class, get_engine
from services.run.errors import StageError, StageInterrupted
from services.stages.base import StageContext

MIN_SPEECH = 30.0  # seconds of transcribed speech before auto labelling is worth it
MIN_SEGMENTS = 4


def _diarizer(name: str) -> Diarizer:
    """Return the ready diarizer `name` (raises EngineUnavailableError with the reason)."""
    return cast(Diarizer, get_engine("diarization", name))


def _auto_choice() -> str:
    """Return pyannote when it can run here, else embedded."""
    return "pyannote" if engine_class("diarization", "pyannote").availability()[0] else "embedded"


def plan(choice: str, segments: list[dict]) -> tuple[str | None, str]:
    """Return (diarizer name or None, why) for a run option and a transcript."""
    if choice == "off":
        return None, "speaker labelling is off"
    speakers = {s["speaker"] for s in segments}
    speech = sum(s["end"] - s["start"] for s in segments)
    if choice == "auto":
        if len(speakers) > 1:
            return None, f"the source named {len(speakers)} speakers"
        if speech < MIN_SPEECH or len(segments) < MIN_SEGMENTS:
            return None, f"too little speech to tell voices apart ({speech:.0f} s)"
        return _auto_choice(), f"one speaker label and {speech:.0f} s of speech"
    return choice, "chosen in the run options"


def label_speakers(ctx: StageContext, segments: list[dict]) -> dict:
    """Relabel segments' speakers in place when the plan says so; return what was done."""
    name, why = plan(ctx.options.diarization, segments)
    if name is None:
        ctx.logger.info("Speaker labels kept as they are: %s", why)
        return {"engine": None, "reason": why}
    ctx.logger.info("Labelling speakers with %s (%s)", name, why)
    diarizer = _diarizer(name)

    call = ctx.engine_call("speakers", f"telling voices apart ({name})")

    try:
        names = diarizer.label(ctx.files.original_audio, segments, call)
    except (StageInterrupted, StageError):
        raise
    except Exception as exc:  # noqa: BLE001 - an optional library may fail in many ways
        if ctx.options.diarization != "auto" or name == "embedded":
            setting = "HF_TOKEN and PYANNOTE_MODEL" if name == "pyannote" else "the audio"
            raise engine_failure("diarization", name, exc, setting) from exc
        ctx.logger.warning("%s failed (%s); using the embedded diarizer", name, exc)
        name = "embedded"
        names = _diarizer(name).label(ctx.files.original_audio, segments, call)
    found = Counter()
    for segment, label in zip(segments, names, strict=True):
        found[label] += segment["end"] - segment["start"]
    if len(found) < 2:
        ctx.logger.info("One voice found; speaker labels kept")
        return {"engine": name, "speakers": 1}
    for segment, label in zip(segments, names, strict=True):
        segment["speaker"] = label
    total = sum(found.values()) or 1.0
    ctx.logger.info(
        "Speaker labels by %s: %s",
        name,
        ", ".join(f"{who} {100 * seconds / total:.0f}%" for who, seconds in sorted(found.items())),
    )
    return {"engine": name, "speakers": len(found)}
