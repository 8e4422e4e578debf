"""Pairwise affinities between neuronal traces in sliding time windows.

Kernels work on plain arrays: one worm's samples in one window, ``(sample, neuron)``
with NaN where a neuron was not recorded, to an ``(neuron, neuron)`` affinity
matrix and the number of samples both neurons of each pair share. Missing values
never enter a sum: every statistic is accumulated over the samples where *both*
neurons are finite (the mask enters the products, the data are never zero-filled),
and a pair with fewer than ``min_samples`` shared samples is NaN (missing).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["AFFINITIES", "differential_scores"]


def differential_scores(traces: np.ndarray, clock: np.ndarray, smooth: int = 1) -> np.ndarray:
    """Standardised time derivatives of one worm's traces.

    Parameters
    ----------
    traces : ndarray, shape (time, neuron)
        Calcium traces with NaN for unrecorded neurons/samples.
    clock : ndarray, shape (time,)
        Sample times in seconds (NaN for padding).
    smooth : int
        Width (samples) of a centred moving average applied to the traces before
        differentiating; 1 means no smoothing.

    Returns
    -------
    ndarray, shape (time, neuron)
        ``dx/dt`` divided by its standard deviation over the recording (per neuron);
        NaN where the trace or its neighbours are missing.
    """
    x = np.asarray(traces, dtype=np.float64)
    t = np.asarray(clock, dtype=np.float64)
    if smooth > 1:
        kernel = np.ones(int(smooth)) / int(smooth)
        valid = np.isfinite(x)
        num = np.apply_along_axis(np.convolve, 0, np.where(valid, x, 0.0), kernel, mode="same")
        den = np.apply_along_axis(np.convolve, 0, valid.astype(float), kernel, mode="same")
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(valid & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)
    keep = np.isfinite(t)
    out = np.full_like(x, np.nan)
    if keep.sum() < 3:
        return out
    xs, ts = x[keep], t[keep]
    # central differences on the (possibly irregular) clock; NaN propagates from neighbours
    deriv = np.empty_like(xs)
    deriv[1:-1] = (xs[2:] - xs[:-2]) / (ts[2:] - ts[:-2])[:, None]
    deriv[0] = (xs[1] - xs[0]) / (ts[1] - ts[0])
    deriv[-1] = (xs[-1] - xs[-2]) / (ts[-1] - ts[-2])
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neurons: scale NaN
        scale = np.nanstd(deriv, axis=0)
        scale = np.where(scale > 0, scale, np.nan)
        out[keep] = deriv / scale
    return out


def _shared_counts(valid: np.ndarray) -> np.ndarray:
    v = valid.astype(np.float64)
    return v.T @ v


def _differential(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over shared samples of ``max(z_i z_j, 0)`` (co-varying derivatives).

    ``max(a b, 0) = a⁺b⁺ + a⁻b⁻`` with ``a⁺ = max(a, 0)``, ``a⁻ = max(-a, 0)``, so the
    rectified product is two matrix products of the positive and negative parts.
    """
    valid = np.isfinite(z)
    zf = np.where(valid, z, 0.0)  # only multiplied by the mask of the partner: never summed as data
    pos, neg = np.maximum(zf, 0.0), np.maximum(-zf, 0.0)
    n = _shared_counts(valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos.T @ pos + neg.T @ neg) / n, n


def _pearson(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson correlation (each pair on the samples both share)."""
    valid = np.isfinite(x)
    v = valid.astype(np.float64)
    xf = np.where(valid, x, 0.0)
    n = v.T @ v
    sx = xf.T @ v  # sx[i, j]: sum of x_i over samples where j is valid too
    sxx = (xf * xf).T @ v
    sxy = xf.T @ xf
    with np.errstate(invalid="ignore", divide="ignore"):
        mi, mj = sx / n, sx.T / n
        cov = sxy / n - mi * mj
        var_i = sxx / n - mi**2
        var_j = sxx.T / n - mj**2
        denom = np.sqrt(np.clip(var_i, 0, None) * np.clip(var_j, 0, None))
        scale = np.maximum(np.abs(sxx / n), np.abs(sxx.T / n))
        tiny = denom <= 1e-12 * np.maximum(scale, 1e-300)
        r = np.where(tiny, np.nan, cov / np.where(tiny, 1.0, denom))
    return np.clip(r, -1.0, 1.0), n


def _correlation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, n = _pearson(x)
    return np.maximum(r, 0.0), n


def _abs_correlation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, n = _pearson(x)
    return np.abs(r), n


#: Affinity kernels: name -> (kernel(window_values) -> (affinity, shared counts),
#: whether the kernel takes standardised derivatives instead of raw traces).
AFFINITIES: Mapping[str, tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], bool]] = {
    "differential": (_differential, True),
    "correlation": (_correlation, False),
    "abs_correlation": (_abs_correlation, False),
}
