"""Pairwise affinities between neuronal traces in sliding time windows.

Kernels work on plain arrays: one worm's samples in one window, ``(sample, neuron)``
with NaN where a neuron was not recorded, to an ``(neuron, neuron)`` affinity
matrix and the number of samples both neurons of each pair share. Missing values
never enter a sum: every statistic is accumulated over the samples where *both*
neurons are finite (the mask enters the products, the data are never zero-filled),
and a pair with fewer than ``min_samples`` shared samples is NaN (missing).

About the paper's affinity. Dyballa et al. (ICLR 2024, arXiv:2402.14102) build
their tensor from a "differential affinity" that, in the paper's prose (Sec. 2.1),
compares two neurons' smoothed time derivatives during intervals in which both
have a constant sign, in terms of their absolute derivatives, giving non-negative,
bounded affinities; its prose adds that neurons with similar but opposite-sign
derivatives are still likely to be interacting. The paper gives no
equation for it and its authors' notebook (``dyballa/dynamic-connectomes``,
``celegans-dynamic-communities.ipynb``) could not be read here, so the exact
definition is not known to us. ``"derivative"`` below is therefore *our own*
derivative-based affinity in that spirit (same-sign co-changes only), and
``"abs_derivative"`` its variant that also counts opposite-sign co-changes (the
paper's remark above); neither is a reproduction of the paper's formula; the
name ``"differential"`` is reserved for the paper's formula and rejected with an
explanation (see [`pick_affinity`][]).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np

from ..._registry import pick
from ...errors import SchemaError

__all__ = ["AFFINITIES", "derivative_scores", "pick_affinity"]


def derivative_scores(traces: np.ndarray, clock: np.ndarray, smooth: int = 1) -> np.ndarray:
    """Standardised time derivatives of one worm's traces.

    Parameters
    ----------
    traces : ndarray, shape (time, neuron)
        Calcium traces with NaN for unrecorded neurons/samples.
    clock : ndarray, shape (time,)
        Sample times in seconds (NaN for padding).
    smooth : int
        Width (samples) of a centred moving average applied to the traces before
        differentiating (over the finite samples of the span only); 1 means no
        smoothing.

    Returns
    -------
    ndarray, shape (time, neuron)
        ``dx/dt`` (central differences on the clock, one-sided at the ends) divided
        by its standard deviation over the recording (per neuron). NaN where the
        trace or a neighbour used by the difference is missing, and for a neuron
        whose derivative is 0 throughout (a constant trace carries no information
        on co-variation: it is treated as not recorded, never as 0).
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
    deriv[~np.isfinite(xs)] = np.nan  # a missing sample has no derivative of its own
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neurons: scale NaN
        scale = np.nanstd(deriv, axis=0)
        scale = np.where(scale > 0, scale, np.nan)
        out[keep] = deriv / scale
    return out


def _shared_counts(valid: np.ndarray) -> np.ndarray:
    v = valid.astype(np.float64)
    return v.T @ v


def _derivative_product(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _abs_derivative_product(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over shared samples of ``|z_i z_j|``: co-occurring changes of either sign."""
    valid = np.isfinite(z)
    a = np.abs(np.where(valid, z, 0.0))  # zeros only ever meet the partner's mask
    n = _shared_counts(valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a.T @ a) / n, n


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
    "derivative": (_derivative_product, True),
    "abs_derivative": (_abs_derivative_product, True),
    "correlation": (_correlation, False),
    "derivative_correlation": (_correlation, True),
    "abs_correlation": (_abs_correlation, False),
}

_UNPUBLISHED = {
    "differential": (
        "the paper's 'differential affinity' (Dyballa et al. 2024) is described in prose "
        "only and its exact formula is not available to neurodata, so it is not "
        "implemented; use 'derivative' (our own derivative-based affinity in the same "
        "spirit, see docs/connectome.md) or a correlation"
    ),
}


def pick_affinity(method: str) -> tuple[Callable, bool]:
    """The kernel registered as ``method`` (see [`AFFINITIES`][]).

    Raises
    ------
    SchemaError
        ``"`method` must be one of [...]"`` for unknown names, with an explanation
        for ``"differential"`` (the paper's affinity, whose formula is unpublished).
    """
    if isinstance(method, str) and method in _UNPUBLISHED:
        raise SchemaError(
            f"`method` must be one of {sorted(AFFINITIES)}; got {method!r}: {_UNPUBLISHED[method]}"
        )
    return pick(AFFINITIES, method, "method")
