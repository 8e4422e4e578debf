"""Helpers around encoding models: FIR delays, drift removal, noise ceilings, permutation nulls.

All functions are re-exported by [`neurodata.analyses.encoding`][].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._registry import check_int
from ...errors import SchemaError
from ...schema import append_history, as_dataarray

__all__ = [
    "NOISE_CEILINGS",
    "block_permutation_test",
    "drift_basis",
    "fir_delays",
    "noise_ceiling",
    "remove_drift",
]


def _group_slices(groups: Any, n: int) -> list[np.ndarray]:
    if groups is None:
        return [np.arange(n)]
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise SchemaError(
            f"`groups` has shape {groups.shape}; expected one label per sample ({n},)"
        )
    _, first = np.unique(groups, return_index=True)
    return [np.flatnonzero(groups == groups[i]) for i in np.sort(first)]


def _groups_of(da: xr.DataArray, groups: Any) -> Any:
    if isinstance(groups, str):
        if groups not in da.coords:
            raise SchemaError(f"`groups`: no coordinate {groups!r} along 'time'")
        return np.asarray(da.coords[groups].values)
    return groups


def fir_delays(
    features: Any,
    delays: Sequence[int] = (1, 2, 3, 4),
    *,
    groups: Any = None,
) -> xr.DataArray:
    """Finite-impulse-response copies of features shifted in time (zero-padded, not circular).

    Parameters
    ----------
    features : xarray.DataArray
        Dims (``time``, ...), e.g. (``layer``, ``time``, ``unit``).
    delays : sequence of int
        Shifts in samples; the copy for delay ``d`` holds ``features[t - d]`` at
        time ``t`` (positive delays let past stimuli predict the current
        response, as the haemodynamic response requires), zero where
        ``t - d`` falls outside the recording (or the run).
    groups : array_like or str, optional
        Run labels along ``time`` (or the name of such a coordinate): shifts
        never cross from one run into another.

    Returns
    -------
    xarray.DataArray
        Dims (``delay``, *features.dims); coordinate ``delay`` in samples and,
        when ``attrs["sfreq"]`` is known, ``delay_s`` in seconds.
    """
    da = as_dataarray(features, name="features")
    if "time" not in da.dims:
        raise SchemaError(f"features: expected a 'time' dim; got dims {tuple(map(str, da.dims))}")
    delays = [int(d) for d in np.atleast_1d(delays)]
    if len(set(delays)) != len(delays) or not delays:
        raise SchemaError(f"`delays` must be distinct integers (samples); got {delays}")
    n = da.sizes["time"]
    axis = da.get_axis_num("time")
    values = np.asarray(da.values)
    out = np.zeros((len(delays), *values.shape), dtype=values.dtype)
    for idx in _group_slices(_groups_of(da, groups), n):
        part = np.take(values, idx, axis=axis)
        for k, d in enumerate(delays):
            if abs(d) >= len(idx):
                continue
            src = slice(0, len(idx) - d) if d >= 0 else slice(-d, len(idx))
            dst = idx[d:] if d >= 0 else idx[: len(idx) + d]
            target: list[Any] = [slice(None)] * values.ndim
            target[axis] = dst
            out[k][tuple(target)] = np.take(part, np.arange(len(idx))[src], axis=axis)
    coords = {"delay": ("delay", np.asarray(delays), {"units": "samples"})}
    sfreq = da.attrs.get("sfreq")
    if sfreq:
        coords["delay_s"] = ("delay", np.asarray(delays) / float(sfreq), {"units": "s"})
    result = xr.DataArray(
        out,
        dims=("delay", *da.dims),
        coords={**da.coords, **coords},
        attrs=dict(da.attrs),
        name=da.name,
    )
    return append_history(result, f"fir_delays(delays={delays})")


def drift_basis(n_samples: int, tr: float, cutoff: float = 128.0) -> np.ndarray:
    """Discrete cosine high-pass basis (SPM / nilearn), without the constant.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    tr : float
        Sampling period (s).
    cutoff : float
        Period (s) of the slowest oscillation kept; slower drifts are modelled.

    Returns
    -------
    ndarray of shape (n_samples, order)
        ``sqrt(2 / n) cos(pi k (t + 1/2) / n)`` for k = 1 ... order, with
        order = floor(2 n tr / cutoff).
    """
    if tr <= 0 or cutoff <= 0:
        raise SchemaError(
            f"`tr` and `cutoff` must be positive seconds; got tr={tr}, cutoff={cutoff}"
        )
    order = min(n_samples - 1, int(np.floor(2 * n_samples * tr / cutoff)))
    t = np.arange(n_samples)[:, None] + 0.5
    k = np.arange(1, order + 1)[None, :]
    return np.sqrt(2.0 / n_samples) * np.cos(np.pi * k * t / n_samples)


def remove_drift(
    data: Any,
    *,
    cutoff: float = 128.0,
    groups: Any = None,
    zscore: bool = False,
) -> xr.DataArray:
    """Regress a cosine drift basis (and the mean) out of every run of a time series.

    Parameters
    ----------
    data : xarray.DataArray
        Dims (``time``, ...) with a regular ``time`` coordinate (or ``sfreq``).
    cutoff : float
        High-pass period in seconds (SPM's default is 128 s).
    groups : array_like or str, optional
        Run labels along ``time`` (or the name of such a coordinate); the drift
        is modelled separately in every run.
    zscore : bool
        Also scale every run of every series to unit variance (constant series
        are left at zero).

    Returns
    -------
    xarray.DataArray
        Same dims and coords, float64, with one history line appended.
    """
    da = as_dataarray(data, name="data")
    if "time" not in da.dims:
        raise SchemaError(f"data: expected a 'time' dim; got dims {tuple(map(str, da.dims))}")
    sfreq = da.attrs.get("sfreq")
    times = np.asarray(da["time"].values, dtype=float) if "time" in da.coords else None
    if sfreq:
        tr = 1.0 / float(sfreq)
    elif times is not None and len(times) > 1:
        tr = float(np.median(np.diff(times)))
    else:
        raise SchemaError(
            "data: cannot tell the sampling period; set attrs['sfreq'] or a time coordinate"
        )
    moved = da.transpose("time", ...)
    values = np.asarray(moved.values, dtype=np.float64).reshape(moved.sizes["time"], -1).copy()
    for idx in _group_slices(_groups_of(da, groups), values.shape[0]):
        basis = np.column_stack([np.ones(len(idx)), drift_basis(len(idx), tr, cutoff)])
        coef, *_ = np.linalg.lstsq(basis, values[idx], rcond=None)
        values[idx] -= basis @ coef
        if zscore:
            std = values[idx].std(0)
            values[idx] /= np.where(std > 0, std, 1.0)
    out = moved.copy(data=values.reshape(moved.shape)).transpose(*da.dims)
    return append_history(out, f"remove_drift(cutoff={cutoff}, zscore={zscore})")


# --------------------------------------------------------------------------------------
# noise ceilings
# --------------------------------------------------------------------------------------


def _corr_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(0)
    b = b - b.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0))


def _repeats(
    da: xr.DataArray, dim: str, method: str, entries: str
) -> tuple[np.ndarray, xr.DataArray]:
    """Values (``dim``, time, target) of ``da`` (targets flattened) and its target template."""
    if dim not in da.dims or da.sizes[dim] < 2:
        raise SchemaError(
            f"{method} ceiling needs a {dim!r} dim with >= 2 {entries}; got {da.sizes}"
        )
    da = da.transpose(dim, "time", ...)
    values = np.asarray(da.values, dtype=np.float64)
    return values.reshape(*values.shape[:2], -1), da.isel({dim: 0, "time": 0}, drop=True)


def _ceiling_inter_subject(da: xr.DataArray, dim: str, n_splits: int, seed: int) -> xr.DataArray:
    flat, rest = _repeats(da, dim, "inter-subject", "entries")
    n = flat.shape[0]
    total = flat.sum(0)
    out = np.stack([_corr_columns(flat[s], (total - flat[s]) / (n - 1)) for s in range(n)])
    return xr.DataArray(
        out.reshape((n, *rest.shape)), dims=(dim, *rest.dims), coords={**rest.coords, dim: da[dim]}
    )


def _ceiling_split_half(da: xr.DataArray, dim: str, n_splits: int, seed: int) -> xr.DataArray:
    flat, rest = _repeats(da, dim, "split-half", "repeats")
    n = flat.shape[0]
    rng = np.random.default_rng(seed)
    acc = np.zeros(flat.shape[2])
    for _ in range(n_splits):
        perm = rng.permutation(n)
        a, b = flat[perm[: n // 2]].mean(0), flat[perm[n // 2 :]].mean(0)
        r = _corr_columns(a, b)
        acc += 2 * r / (1 + r)  # Spearman-Brown: reliability of the mean of all repeats
    return xr.DataArray((acc / n_splits).reshape(rest.shape), dims=rest.dims, coords=rest.coords)


#: Noise-ceiling methods: name -> (function, default dim).
NOISE_CEILINGS = {
    "inter_subject": (_ceiling_inter_subject, "subject"),
    "split_half": (_ceiling_split_half, "trial"),
}


def noise_ceiling(
    responses: Any,
    method: str = "inter_subject",
    *,
    dim: str | None = None,
    n_splits: int = 100,
    seed: int = 0,
) -> xr.DataArray:
    """How well responses can be predicted at best, from repeats or from other subjects.

    The ceiling is a Pearson r on the scale of the held-out ``r`` of
    [`encode`][]: a score divided by it is the share of the explainable
    correlation a model reaches. A target whose ceiling is near zero carries
    no reproducible stimulus-driven signal, and its encoding scores say little.

    Parameters
    ----------
    responses : xarray.DataArray
        Dims (``time``, <targets>) plus ``dim``: repeated presentations
        (``trial``) for ``"split_half"``, or ``subject`` for ``"inter_subject"``.
    method : {"inter_subject", "split_half"}
        ``"inter_subject"`` (single-presentation naturalistic data): for every
        subject, the correlation of its time course with the mean of all other
        subjects (leave-one-subject-out inter-subject correlation), dims
        (``subject``, <targets>). ``"split_half"``: correlation between the
        means of two random halves of the repeats, Spearman-Brown corrected to
        the reliability of the mean of all repeats, averaged over ``n_splits``
        random splits, dims (<targets>).
    dim : str, optional
        The repeat/subject dim (default per method: ``trial`` / ``subject``).
    n_splits : int
        Random halvings (``"split_half"``).
    seed : int
        Seed of the random halvings.

    Returns
    -------
    xarray.DataArray
        The ceiling, with ``attrs["method"]``.
    """
    if method not in NOISE_CEILINGS:
        raise SchemaError(f"`method` must be one of {sorted(NOISE_CEILINGS)}; got {method!r}")
    func, default_dim = NOISE_CEILINGS[method]
    da = as_dataarray(responses, name="responses")
    if "time" not in da.dims:
        raise SchemaError(f"responses: expected a 'time' dim; got dims {tuple(map(str, da.dims))}")
    out = func(da, dim or default_dim, n_splits, seed)
    out.attrs.update(method=method, long_name=f"noise ceiling ({method}, Pearson r)")
    return out.rename("noise_ceiling")


# --------------------------------------------------------------------------------------
# permutation null
# --------------------------------------------------------------------------------------


def block_permutation_test(
    y: np.ndarray,
    prediction: np.ndarray,
    *,
    n_permutations: int = 1000,
    block: int = 10,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Null distribution of the correlation between responses and predictions.

    The order of contiguous blocks of ``block`` samples of the responses is
    shuffled (the samples within a block keep their order), which keeps most of
    the autocorrelation that a sample-wise shuffle would destroy.

    Parameters
    ----------
    y, prediction : ndarray of shape (n_samples, n_targets)
        Held-out responses and their predictions.
    n_permutations : int
        Number of block permutations.
    block : int
        Block length in samples.
    seed : int
        Seed of the permutations.

    Returns
    -------
    dict
        ``r`` (n_targets,), ``null`` (n_permutations, n_targets) and one-sided
        ``p_value`` = (1 + #{null >= r}) / (1 + n_permutations).
    """
    n_permutations = check_int(n_permutations, "n_permutations", minimum=1)
    if not (isinstance(block, int | np.integer) and block >= 1):
        raise SchemaError(f"`block` must be a positive int (samples); got {block!r}")
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(prediction, dtype=np.float64)
    n = y.shape[0]
    zy = y - y.mean(0)
    zp = p - p.mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        zy /= np.sqrt((zy**2).sum(0))
        zp /= np.sqrt((zp**2).sum(0))
    r = (zy * zp).sum(0)
    starts = np.arange(0, n, block)
    rng = np.random.default_rng(seed)
    null = np.empty((n_permutations, y.shape[1]))
    for i in range(n_permutations):
        order = np.concatenate([np.arange(s, min(s + block, n)) for s in rng.permutation(starts)])
        null[i] = (zy[order] * zp).sum(0)
    p_value = (1 + (null >= r[None, :]).sum(0)) / (1 + n_permutations)
    return {"r": r, "null": null, "p_value": p_value}
