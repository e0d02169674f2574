"""The real-speech corpus (evaluation/corpus.py) for tests: built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.corpus import CorpusItem, JoinedRecording, build_corpus, joined_two_speakers

CORPUS = Path(__file__).resolve().parents[2] / ".eval" / "corpus"


@pytest.fixture(scope="session")
def real_speech() -> list[CorpusItem]:
    """Return the corpus of real recorded speech (downloads its Debian packages once)."""
    return build_corpus(CORPUS)


@pytest.fixture(scope="session")
def two_real_voices(real_speech: list[CorpusItem]) -> JoinedRecording:
    """Return one real speaker followed by another, with the turn times."""
    return joined_two_speakers(CORPUS, real_speech)
