"""Voice features in numpy: mel-frequency cepstra of the loud frames, and the voice's pitch."""

from __future__ import annotations

import numpy as np

WINDOW = 0.025  # seconds per analysis frame
HOP = 0.010
MEL_BANDS = 40
CEPSTRA = 19  # c1..c19: c0 (loudness) says more about the microphone than the voice
FLOOR = 7.0  # keep frames within this many nepers (~30 dB) of the loudest of the stretch


def _mel(hz: np.ndarray | float) -> np.ndarray:
    """Return the mel value of frequencies in Hz."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_filterbank(rate: int, fft_size: int, bands: int = MEL_BANDS) -> np.ndarray:
    """Return triangular mel filters, shape (bands, fft_size // 2 + 1)."""
    top = min(7600.0, rate / 2 - 100)
    points = 700.0 * (10 ** (np.linspace(_mel(60.0), _mel(top), bands + 2) / 2595.0) - 1)
    bins = np.floor((fft_size + 1) * points / rate).astype(int)
    bank = np.zeros((bands, fft_size // 2 + 1))
    for n in range(1, bands + 1):
        left, centre, right = bins[n - 1], bins[n], bins[n + 1]
        bank[n - 1, left:centre] = (np.arange(left, centre) - left) / max(centre - left, 1)
        bank[n - 1, centre:right] = (right - np.arange(centre, right)) / max(right - centre, 1)
    return bank


class CepstrumAnalyser:
    """Compute MFCCs of 16-bit mono audio at one sample rate (filters built once)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.window = int(round(WINDOW * rate))
        self.hop = int(round(HOP * rate))
        self.fft_size = 1 << (self.window - 1).bit_length()
        self.bank = mel_filterbank(rate, self.fft_size)
        n = np.arange(MEL_BANDS)
        k = np.arange(1, CEPSTRA + 1)
        self.dct = np.cos(np.pi / MEL_BANDS * (n[None, :] + 0.5) * k[:, None])
        self.taper = np.hamming(self.window)

    def frames(self, samples: np.ndarray) -> np.ndarray:
        """Return the cepstra (frames x CEPSTRA) of the loud frames of `samples` (int16)."""
        signal = samples.astype(np.float32) / 32768.0
        if len(signal) < self.window + self.hop:
            return np.zeros((0, CEPSTRA))
        signal = np.append(signal[0], signal[1:] - 0.97 * signal[:-1])  # pre-emphasis
        count = 1 + (len(signal) - self.window) // self.hop
        index = np.arange(self.window)[None, :] + self.hop * np.arange(count)[:, None]
        framed = signal[index] * self.taper
        power = np.abs(np.fft.rfft(framed, self.fft_size)) ** 2
        energy = np.log(np.sum(framed**2, axis=1) + 1e-10)
        loud = energy > energy.max() - FLOOR
        return np.log(power[loud] @ self.bank.T + 1e-10) @ self.dct.T


PITCH_WINDOW = 0.04  # seconds per pitch frame (two periods of a 50 Hz voice)
PITCH_RANGE = (60.0, 400.0)  # Hz
VOICED = 0.5  # normalised autocorrelation peak of a voiced frame


def median_pitch(samples: np.ndarray, rate: int) -> float | None:
    """Return the median F0 (Hz) of the voiced frames of `samples` (int16), None if too few."""
    signal = samples.astype(np.float32) / 32768.0
    size, hop = int(PITCH_WINDOW * rate), int(HOP * rate)
    if len(signal) < size + hop:
        return None
    count = 1 + (len(signal) - size) // hop
    framed = signal[np.arange(size)[None, :] + hop * np.arange(count)[:, None]]
    framed = framed - framed.mean(axis=1, keepdims=True)
    energy = (framed**2).sum(axis=1)
    framed = framed[energy > max(1e-4, energy.max() * 1e-3)]
    if len(framed) < 5:
        return None
    fft_size = 1 << (2 * size - 1).bit_length()
    spectrum = np.fft.rfft(framed, fft_size)
    autocorr = np.fft.irfft(np.abs(spectrum) ** 2, fft_size)[:, :size]
    autocorr /= autocorr[:, :1] + 1e-12
    low, high = int(rate / PITCH_RANGE[1]), int(rate / PITCH_RANGE[0])
    lags = low + np.argmax(autocorr[:, low:high], axis=1)
    peaks = autocorr[np.arange(len(lags)), lags]
    voiced = lags[peaks > VOICED]
    return float(np.median(rate / voiced)) if len(voiced) >= 5 else None
