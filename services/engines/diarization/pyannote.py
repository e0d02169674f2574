"""The pyannote diarizer: pyannote.audio's pretrained pipeline (optional extra, needs HF_TOKEN).

Install with `pip install pyannote.audio` (see requirements-extras.txt), accept the model's
conditions on huggingface.co, and set HF_TOKEN. PYANNOTE_MODEL picks the pipeline (default
pyannote/speaker-diarization-3.1). Its speaker turns are mapped onto transcript segments by
the most overlap.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import ClassVar

from services.engines.clients.settings import env_text
from services.engines.diarization.base import (
    Diarizer,
    fill_gaps,
    labels_from_turns,
    speaker_names,
)
from services.run.call import EngineCall

DEFAULT_PIPELINE = "pyannote/speaker-diarization-3.1"


class PyannoteDiarizer(Diarizer):
    """Label speakers with pyannote.audio (accurate; optional install, Hugging Face token)."""

    name: ClassVar[str] = "pyannote"
    description: ClassVar[str] = (
        "pyannote.audio speaker diarization (optional extra; needs HF_TOKEN): the most accurate."
    )

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether pyannote.audio is installed and a Hugging Face token is set."""
        if importlib.util.find_spec("pyannote") is None or (
            importlib.util.find_spec("pyannote.audio") is None
        ):
            return False, "pyannote.audio is not installed (pip install pyannote.audio)"
        if not env_text("HF_TOKEN"):
            return False, (
                "HF_TOKEN is not set (a Hugging Face token that accepted the conditions of "
                f"{env_text('PYANNOTE_MODEL', DEFAULT_PIPELINE)})"
            )
        return True, ""

    def label(
        self,
        audio: Path,
        segments: list[dict],
        call: EngineCall,
    ) -> list[str]:
        """Run the pretrained pipeline on the audio; map its turns onto the segments."""
        from pyannote.audio import Pipeline

        began = time.monotonic()
        model = env_text("PYANNOTE_MODEL", DEFAULT_PIPELINE)
        pipeline = Pipeline.from_pretrained(model, use_auth_token=env_text("HF_TOKEN"))
        if pipeline is None:
            raise RuntimeError(f"could not load {model}; check HF_TOKEN and the model's conditions")
        call.checkpoint()
        call.report(0.1)
        result = pipeline(str(audio))
        turns = [(t.start, t.end, str(who)) for t, _, who in result.itertracks(yield_label=True)]
        call.report(0.9)
        names = speaker_names(fill_gaps(labels_from_turns(segments, turns)))
        call.logger.info(
            "pyannote found %d speaker(s) in %d turns in %.1f s",
            len(set(names)),
            len(turns),
            time.monotonic() - began,
        )
        call.report(1.0)
        return names
