"""The embedded diarizer counts speakers right: one voice one label, two clear voices two."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evaluation.measures import fixed_windows
from services.engines.diarization.embedded import EmbeddedDiarizer
from services.run.call import EngineCall
from tests.support.real_speech import real_speech, two_real_voices  # noqa: F401 - fixtures

TEXT = (
    "The garden needs water every morning. Tomatoes grow fast in the warm sun of July, "
    "and the beans climb the fence. Prune the side shoots so the plant puts its energy "
    "into fruit. Compost feeds the soil through the winter. "
)


def labels_of(path: Path) -> list[str]:
    """Return the embedded diarizer's label of each window of a WAV."""
    return EmbeddedDiarizer().label(path, fixed_windows(path), EngineCall())


def espeak(text: str, voice: str, out: Path) -> Path:
    """Speak `text` with espeak-ng into a 16 kHz mono WAV."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-ar", "16000", "-ac", "1", str(out)],
        check=True,
    )
    return out


def test_one_synthetic_voice_reading_similar_sentences_is_one_speaker(tmp_path) -> None:
    labels = labels_of(espeak(TEXT * 4, "en-us", tmp_path / "one.wav"))
    assert len(labels) >= 8
    assert set(labels) == {"Speaker 1"}


def test_two_synthetic_voices_of_the_same_pitch_are_two_speakers(tmp_path) -> None:
    first = espeak(TEXT * 2, "en-us", tmp_path / "a.wav")
    second = espeak(TEXT * 2, "en-gb+m3", tmp_path / "b.wav")
    joined = tmp_path / "ab.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(first), "-i", str(second)]
        + ["-filter_complex", "concat=n=2:v=0:a=1", str(joined)],
        check=True,
    )
    labels = labels_of(joined)
    assert len(set(labels)) == 2
    half = len(labels) // 2
    assert labels[: half - 1] == [labels[0]] * (half - 1)
    assert labels[-(half - 1) :] == [labels[-1]] * (half - 1)


def test_one_real_voice_is_one_speaker(real_speech) -> None:  # noqa: F811 - fixture
    longest = max(real_speech, key=lambda item: item.seconds)
    labels = labels_of(longest.wav)
    assert len(labels) >= 10
    assert set(labels) == {"Speaker 1"}


def test_two_real_voices_are_two_speakers_at_the_right_times(two_real_voices) -> None:  # noqa: F811
    segments = fixed_windows(two_real_voices.wav)
    labels = EmbeddedDiarizer().label(two_real_voices.wav, segments, EngineCall())
    assert len(set(labels)) == 2
    first, second = two_real_voices.turns
    right = 0
    for segment, label in zip(segments, labels, strict=True):
        middle = (segment["start"] + segment["end"]) / 2
        expected = "Speaker 1" if middle < second.start else "Speaker 2"
        right += label == expected
    assert right / len(segments) >= 0.9, labels
