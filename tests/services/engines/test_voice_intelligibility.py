"""The bundled Piper voice is heard back more accurately than espeak-ng (a clarity proxy)."""

from __future__ import annotations

from evaluation.voices import voice_errors
from services.engines.registry import engine_class

NARRATION = [
    "Welcome to the highlights of The Wellness Hour, with Alice and Bob.",
    "We begin with Alice on tomatoes, and why they need full sun and rich soil.",
    "That was the old barn door. Bob picks up the thread with a story about ginger tea.",
    "Thanks for listening, and see you next time.",
]


def test_piper_narration_is_recognised_better_than_espeak() -> None:
    listener = engine_class("transcript", "whisper")()
    piper = voice_errors("piper", NARRATION, listener)
    espeak = voice_errors("espeak", NARRATION, listener)
    assert piper is not None and espeak is not None, "both voices must be installed"
    assert piper.reference_words == espeak.reference_words > 40
    assert piper.rate < espeak.rate, (piper, espeak)
    assert piper.rate <= 0.1
