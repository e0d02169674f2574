"""Pocketsphinx decoding of audio chunks; runs inside pool worker processes.

Kept apart from `sphinx.py` and free of other Clipcast imports so that a freshly spawned
worker only loads pocketsphinx and the standard library before it builds its decoder.
"""

from __future__ import annotations

import os
import re
import wave

import pocketsphinx

Word = tuple[str, float, float]  # (word, start seconds, end seconds) in the whole audio

_decoder: pocketsphinx.Decoder | None = None
_cmn: str | None = None
VARIANT = re.compile(r"\(\d+\)$")


def build_decoder() -> pocketsphinx.Decoder:
    """Return a decoder with the bundled US English model, quiet on stderr."""
    return pocketsphinx.Decoder(loglevel="FATAL")


def init_worker(cmn: str | None) -> None:
    """Build this process's decoder once and remember the cepstral mean to start from."""
    global _decoder, _cmn
    _decoder = build_decoder()
    _cmn = cmn


def read_pcm(path: str, start_sample: int, samples: int) -> bytes:
    """Return `samples` 16-bit mono samples of a WAV file from `start_sample` on."""
    with wave.open(path, "rb") as source:
        source.setpos(start_sample)
        return source.readframes(samples)


def estimate_cmn(pcm: bytes) -> str:
    """Return the cepstral mean of `pcm` (the decoder's starting point for every chunk)."""
    phones = os.path.join(pocketsphinx.get_model_path("en-us"), "en-us-phone.lm.bin")
    if os.path.exists(phones):
        # A phone-loop decoder loads in milliseconds (no dictionary, no word model).
        decoder = pocketsphinx.Decoder(lm=None, dict=None, allphone=phones, loglevel="FATAL")
    else:
        decoder = build_decoder()
    # Features only (no search): the mean is all we want; the decoder is then thrown away.
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=True, full_utt=False)
    return decoder.get_cmn(update=True)


def clean_word(word: str) -> str | None:
    """Return a recognised word without its pronunciation variant, or None for fillers."""
    if not word or word[0] in "<[+":  # <s>, </s>, <sil>, [NOISE], +breath+, ++garbage++
        return None
    return VARIANT.sub("", word) or None


def decode_chunk(path: str, start_sample: int, samples: int, rate: int) -> list[Word]:
    """Recognise one chunk of the WAV; return its words timed in seconds of the whole audio."""
    if _decoder is None:
        init_worker(_cmn)
    assert _decoder is not None
    pcm = read_pcm(path, start_sample, samples)
    if _cmn:
        # Every chunk starts from the same mean, so results do not depend on chunk order.
        _decoder.set_cmn(_cmn)
    _decoder.start_utt()
    _decoder.process_raw(pcm, full_utt=False)
    _decoder.end_utt()
    frame_rate = float(_decoder.config["frate"])
    offset = start_sample / rate
    words: list[Word] = []
    for segment in _decoder.seg():
        word = clean_word(segment.word)
        if word:
            start = offset + segment.start_frame / frame_rate
            end = offset + (segment.end_frame + 1) / frame_rate  # end_frame is inclusive
            words.append((word, round(start, 3), round(end, 3)))
    return words
