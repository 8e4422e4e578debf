"""Numpy kernels behind [`neurodata.analyses.frequency_tagging`][].

Everything here works on plain arrays with the time (or frequency) axis last;
the public module lifts these kernels onto labelled data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import signal as _signal

from ...errors import SchemaError

__all__ = [
    "amplitude_scale",
    "dft_basis",
    "exact_bins",
    "neighbour_mean",
    "neighbour_offsets",
    "snr_kernel",
    "window_values",
]


def window_values(window: str | tuple | np.ndarray, n: int) -> np.ndarray:
    """Window of length ``n`` (a scipy window name/tuple or explicit values)."""
    if isinstance(window, np.ndarray):
        if window.shape != (n,):
            raise SchemaError(f"`window` has shape {window.shape}; expected ({n},)")
        return window.astype(float)
    try:
        return _signal.get_window(window, n, fftbins=True).astype(float)
    except ValueError as exc:
        raise SchemaError(f"`window` {window!r} is not a scipy window: {exc}") from None


def amplitude_scale(w: np.ndarray, n_fft: int) -> np.ndarray:
    """Per-bin factor turning |rfft| into single-sided peak amplitude.

    A sine of amplitude A on an exact bin then reads A (for any window, since
    the factor divides by the window's sum); DC and Nyquist are not doubled.
    """
    n_bins = n_fft // 2 + 1
    scale = np.full(n_bins, 2.0 / w.sum())
    scale[0] /= 2
    if n_fft % 2 == 0:
        scale[-1] /= 2
    return scale


def psd_scale(w: np.ndarray, n_fft: int, sfreq: float) -> np.ndarray:
    """Per-bin factor turning |rfft|**2 into a one-sided power spectral density (V**2/Hz),
    the scaling of `scipy.signal.periodogram` / MNE's ``psd_array_welch``."""
    n_bins = n_fft // 2 + 1
    scale = np.full(n_bins, 2.0 / (sfreq * (w**2).sum()))
    scale[0] /= 2
    if n_fft % 2 == 0:
        scale[-1] /= 2
    return scale


def exact_bins(
    frequencies: Sequence[float], sfreq: float, n_fft: int, *, tol: float = 1e-6
) -> np.ndarray:
    """Indices of the rfft bins of ``frequencies``; warn when a target falls between bins.

    Raises ``ValueError`` above Nyquist and warns at Nyquist (a real signal's
    phase there is undetermined).
    """
    freqs = np.atleast_1d(np.asarray(frequencies, dtype=float))
    if freqs.ndim != 1 or freqs.size == 0:
        raise SchemaError(f"`frequencies` must be a non-empty list of Hz; got {frequencies!r}")
    nyquist = sfreq / 2
    resolution = sfreq / n_fft
    out = np.empty(freqs.size, dtype=int)
    for i, f in enumerate(freqs):
        if not np.isfinite(f) or f <= 0:
            raise SchemaError(f"`frequencies` must be positive Hz; got {f!r}")
        if f > nyquist + tol:
            raise SchemaError(
                f"tagged frequency {f:g} Hz is above Nyquist ({nyquist:g} Hz at sfreq "
                f"{sfreq:g} Hz); raise the sampling rate (e.g. more samples per word)"
            )
        k = f / resolution
        out[i] = round(k)
        if abs(k - out[i]) > tol * max(1.0, k):
            lo, hi = np.floor(k) * resolution, np.ceil(k) * resolution
            warnings.warn(
                f"tagged frequency {f:g} Hz falls between bins {lo:g} and {hi:g} Hz "
                f"(resolution {resolution:g} Hz = sfreq / n_fft = {sfreq:g} / {n_fft}); "
                f"using {out[i] * resolution:g} Hz. Choose a window length (or n_fft) "
                f"holding a whole number of cycles, i.e. a multiple of {sfreq / f:g} samples",
                UserWarning,
                stacklevel=3,
            )
        if abs(f - nyquist) <= tol:
            warnings.warn(
                f"tagged frequency {f:g} Hz is at Nyquist (sfreq {sfreq:g} Hz): its "
                "amplitude depends on the phase of the tagged response; sample faster",
                UserWarning,
                stacklevel=3,
            )
    return out


def snr_kernel(n_neighbors: int, n_skip: int) -> np.ndarray:
    """MNE SSVEP tutorial's averaging kernel: ``n_neighbors`` ones each side,
    ``2 * n_skip + 1`` zeros in the middle, normalised to sum 1."""
    if int(n_neighbors) != n_neighbors or n_neighbors < 1:
        raise SchemaError(f"`n_neighbors` must be an integer >= 1; got {n_neighbors!r}")
    if int(n_skip) != n_skip or n_skip < 0:
        raise SchemaError(f"`n_skip` must be an integer >= 0; got {n_skip!r}")
    kernel = np.concatenate(
        (np.ones(int(n_neighbors)), np.zeros(2 * int(n_skip) + 1), np.ones(int(n_neighbors)))
    )
    return kernel / kernel.sum()


def neighbour_offsets(n_neighbors: int, n_skip: int) -> np.ndarray:
    """Bin offsets of the noise neighbours of a bin (skipping ``n_skip`` each side)."""
    snr_kernel(n_neighbors, n_skip)  # validates
    side = np.arange(int(n_skip) + 1, int(n_skip) + int(n_neighbors) + 1)
    return np.concatenate((-side[::-1], side))


def neighbour_mean(x: np.ndarray, n_neighbors: int, n_skip: int) -> np.ndarray:
    """Mean of the neighbouring bins along the last axis; NaN where undefined (edges)."""
    kernel = snr_kernel(n_neighbors, n_skip)
    edge = int(n_neighbors) + int(n_skip)
    out = np.full(x.shape, np.nan)
    n = x.shape[-1]
    if n > 2 * edge:
        # the kernel is symmetric, so correlation == convolution
        valid = sum(
            kernel[j] * x[..., j : n - 2 * edge + j] for j in range(kernel.size) if kernel[j]
        )
        out[..., edge : n - edge] = valid
    return out


def neighbour_std(x: np.ndarray, n_neighbors: int, n_skip: int) -> np.ndarray:
    """Standard deviation (ddof=1) of the neighbouring bins along the last axis."""
    offsets = neighbour_offsets(n_neighbors, n_skip)
    edge = int(n_neighbors) + int(n_skip)
    n = x.shape[-1]
    out = np.full(x.shape, np.nan)
    if n > 2 * edge:
        stack = np.stack([x[..., edge + o : n - edge + o] for o in offsets], axis=-1)
        out[..., edge : n - edge] = stack.std(axis=-1, ddof=1)
    return out


def dft_basis(bins: np.ndarray, w: np.ndarray, n_fft: int) -> np.ndarray:
    """Complex matrix (bins, time) with ``basis @ x == rfft(w * x, n_fft)[bins]``."""
    t = np.arange(w.size)
    return w[None, :] * np.exp(-2j * np.pi * np.outer(bins, t) / n_fft)
