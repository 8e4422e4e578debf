"""From word times to the brain's sampling times: resampling, binning, FIR delays, nuisance.

Word (or token) features live on an irregular clock, the onsets of the words.
Brain recordings live on a regular one (fMRI volumes every TR, EEG samples).
[`align`][] maps features from the first to the second:

- ``method="lanczos"``: Lanczos-windowed sinc interpolation of the train of
  word impulses, low-passed at the brain's Nyquist rate, as in the Huth-lab
  encoding-model pipelines (``lanczosinterp2D``): sample ``t`` gets
  ``sum_i L((t - onset_i) / T) x_i`` with ``T`` the sampling period and
  ``L(u) = sinc(u) sinc(u / a)`` for ``|u| <= a`` (``a = window``);
- ``method="sum"`` / ``"mean"``: the sum or mean of the words whose onset falls
  in each sample's bin ``[t_k, t_k + T)``.

``delays`` then stacks time-shifted copies along a ``delay`` dim (a finite
impulse response model of the haemodynamic lag); shifts are zero-padded, never
circular. [`nuisance_features`][] puts word rate, letter rate and the fraction
of each sample filled with speech on the same axis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._registry import check_int
from .._registry import pick as _pick
from .._sampling import is_regular, sampling_period, sampling_rate
from ..errors import SchemaError
from ..schema import append_history

__all__ = [
    "ALIGN_METHODS",
    "NUISANCE",
    "align",
    "lanczos_weights",
    "nuisance_features",
    "sample_times",
]


# --------------------------------------------------------------------------------------
# weights: (time, event) matrices from event onsets to sample times
# --------------------------------------------------------------------------------------


def _period(times: np.ndarray) -> float:
    return sampling_period(times, regular=False, what="sample times")


def lanczos_weights(
    onsets: np.ndarray, times: np.ndarray, *, window: int = 3, cutoff: float = 1.0
) -> np.ndarray:
    """Lanczos interpolation weights from event onsets to sample times.

    Parameters
    ----------
    onsets : ndarray, shape (n_events,)
        Event times in seconds.
    times : ndarray, shape (n_times,)
        Sample times in seconds (regular or nearly so).
    window : int
        Lobes of the Lanczos window (``a``); the kernel spans ``±window``
        sampling periods.
    cutoff : float
        Cutoff as a fraction of the sampling rate's Nyquist frequency
        (1.0: the Nyquist frequency, as in Huth-lab pipelines).

    Returns
    -------
    ndarray, shape (n_times, n_events)
    """
    rate = cutoff / _period(times)
    u = (times[:, None] - onsets[None, :]) * rate
    with np.errstate(divide="ignore", invalid="ignore"):
        w = window * np.sin(np.pi * u) * np.sin(np.pi * u / window) / (np.pi**2 * u**2)
    w[u == 0] = 1.0
    w[np.abs(u) > window] = 0.0
    return w


def _bin_edges(times: np.ndarray) -> np.ndarray:
    return np.append(times, times[-1] + _period(times))


def _bin_weights(onsets: np.ndarray, times: np.ndarray) -> np.ndarray:
    edges = _bin_edges(times)
    which = np.searchsorted(edges, onsets, side="right") - 1
    w = np.zeros((times.size, onsets.size))
    inside = (which >= 0) & (which < times.size)
    w[which[inside], np.flatnonzero(inside)] = 1.0
    return w


def _lanczos(onsets: np.ndarray, times: np.ndarray, **kw: Any) -> np.ndarray:
    return lanczos_weights(onsets, times, window=kw["window"], cutoff=kw["cutoff"])


def _sum(onsets: np.ndarray, times: np.ndarray, **kw: Any) -> np.ndarray:
    return _bin_weights(onsets, times)


def _mean(onsets: np.ndarray, times: np.ndarray, **kw: Any) -> np.ndarray:
    w = _bin_weights(onsets, times)
    counts = w.sum(axis=1, keepdims=True)
    return np.divide(w, counts, out=np.zeros_like(w), where=counts > 0)


#: Alignment methods: ``(onsets, times, **options) -> weights (time, event)``.
ALIGN_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "lanczos": _lanczos,
    "sum": _sum,
    "mean": _mean,
}


# --------------------------------------------------------------------------------------
# sample times
# --------------------------------------------------------------------------------------


def sample_times(
    times: Any = None,
    *,
    tr: float | None = None,
    n_samples: int | None = None,
    start: float = 0.0,
) -> np.ndarray:
    """The brain's sample times in seconds.

    Parameters
    ----------
    times : array_like, xarray.DataArray or xarray.Dataset, optional
        Sample times in seconds, or a recording whose ``time`` coordinate gives them.
    tr : float, optional
        Sampling period in seconds (with ``n_samples``), when ``times`` is not given.
    n_samples : int, optional
        Number of samples (with ``tr``).
    start : float
        Time of the first sample (with ``tr``), seconds on the stimulus clock.

    Returns
    -------
    ndarray, shape (n_samples,)
    """
    if times is not None:
        if isinstance(times, xr.DataArray | xr.Dataset):
            if "time" not in times.coords:
                raise SchemaError("`times`: the recording has no 'time' coordinate (seconds)")
            times = times["time"].values
        values = np.asarray(times, dtype=float).ravel()
    elif tr is not None and n_samples is not None:
        if not (np.isfinite(tr) and tr > 0):
            raise SchemaError(f"`tr` must be a positive number of seconds; got {tr!r}")
        values = float(start) + float(tr) * np.arange(int(n_samples))
    else:
        raise SchemaError("give the sample times: `times`, or `tr` and `n_samples` (and `start`)")
    if values.size < 2 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise SchemaError("sample times must be >= 2 finite, strictly increasing seconds")
    return values


def _time_coord(times: np.ndarray) -> tuple[xr.Variable, float | None]:
    sfreq = sampling_rate(times, what="sample times") if is_regular(times) else None
    return xr.Variable("time", times, attrs={"units": "s"}), sfreq


# --------------------------------------------------------------------------------------
# align
# --------------------------------------------------------------------------------------


def _event_dim(obj: xr.DataArray | xr.Dataset, dim: str | None) -> str:
    if dim is not None:
        if dim not in obj.dims:
            raise SchemaError(f"features have no dim {dim!r}; found {tuple(map(str, obj.dims))}")
        return dim
    for candidate in ("word", "token", "event", "stimulus"):
        if candidate in obj.dims:
            return candidate
    raise SchemaError(
        f"features need a 'word' or 'token' dim with an 'onset' coordinate; found dims "
        f"{tuple(map(str, obj.dims))}"
    )


def _onsets(obj: xr.DataArray | xr.Dataset, dim: str) -> np.ndarray:
    if "onset" not in obj.coords and "onset" not in getattr(obj, "data_vars", {}):
        raise SchemaError(
            f"features along {dim!r} have no 'onset' (seconds); extract them from a timed words "
            "Dataset (with onset/offset) to align them to brain time"
        )
    onset = obj["onset"]
    if onset.dims != (dim,):
        raise SchemaError(f"'onset' has dims {onset.dims}; expected ({dim!r},)")
    values = np.asarray(onset.values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise SchemaError(
            f"'onset' has {int((~np.isfinite(values)).sum())} missing values; every word needs "
            "an onset to be aligned"
        )
    return values


def _delayed(da: xr.DataArray, delays: Sequence[int], period: float | None) -> xr.DataArray:
    delays = [int(d) for d in delays]
    if len(set(delays)) != len(delays):
        raise SchemaError(f"`delays` must be distinct integers (samples); got {delays}")
    stacked = xr.concat([da.shift(time=d, fill_value=0) for d in delays], dim="delay")
    stacked = stacked.assign_coords(
        delay=xr.Variable("delay", np.asarray(delays), {"long_name": "FIR delay (samples)"})
    )
    if period is not None:
        stacked = stacked.assign_coords(
            delay_time=xr.Variable("delay", np.asarray(delays) * period, {"units": "s"})
        )
    order = [d for d in da.dims if d != "time"]
    at = list(da.dims).index("time")
    return stacked.transpose(*order[:at], "time", "delay", *order[at:])


def align(
    features: xr.DataArray | xr.Dataset,
    times: Any = None,
    *,
    tr: float | None = None,
    n_samples: int | None = None,
    start: float = 0.0,
    method: str = "lanczos",
    window: int = 3,
    cutoff: float = 1.0,
    delays: Sequence[int] | None = None,
    dim: str | None = None,
    empty: float = 0.0,
) -> xr.DataArray | xr.Dataset:
    """Resample word/token features onto the brain's sampling times.

    Parameters
    ----------
    features : xarray.DataArray or xarray.Dataset
        Features with an event dim (``word``, or ``token``) that has an
        ``onset`` coordinate in seconds, and any other dims (``layer``,
        ``unit``), e.g. the output of [`extract_activations`][].
    times : array_like or xarray object, optional
        The brain's sample times (seconds on the stimulus clock), or a recording
        with a ``time`` coordinate. Otherwise give ``tr`` and ``n_samples``.
    tr, n_samples, start : optional
        Regular sampling: ``start + tr * arange(n_samples)`` seconds.
    method : {"lanczos", "sum", "mean"}
        Lanczos resampling (Huth-lab), or the sum / mean of the words whose onset
        falls in each bin ``[t_k, t_k + T)``.
    window : int
        Lanczos lobes (``"lanczos"`` only).
    cutoff : float
        Lanczos cutoff as a fraction of the Nyquist frequency (``"lanczos"`` only).
    delays : sequence of int, optional
        FIR delays in samples (e.g. ``[1, 2, 3, 4]``): adds a ``delay`` dim after
        ``time`` holding the features shifted later by each delay, zero-padded.
    dim : str, optional
        The event dim (default: ``word``, else ``token``).
    empty : float
        Value of bins without words for ``method="mean"`` (default 0, no input;
        ``numpy.nan`` to mark them).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        The event dim replaced by ``time`` (float seconds, ``units="s"``, with
        ``sfreq`` in attrs when regular): e.g. (``layer``, ``time``, ``unit``),
        or (``layer``, ``time``, ``delay``, ``unit``) with ``delays``.
    """
    compute = _pick(ALIGN_METHODS, method, "method")
    window = check_int(window, "window", minimum=1)
    if not (np.isfinite(cutoff) and cutoff > 0):
        raise SchemaError(f"`cutoff` must be a positive fraction of Nyquist; got {cutoff!r}")
    dim = _event_dim(features, dim)
    onsets = _onsets(features, dim)
    grid = sample_times(times, tr=tr, n_samples=n_samples, start=start)
    weights = compute(onsets, grid, window=int(window), cutoff=float(cutoff))
    time, sfreq = _time_coord(grid)

    def one(da: xr.DataArray) -> xr.DataArray:
        if dim not in da.dims:
            return da
        dtype = da.dtype if da.dtype.kind == "f" else np.dtype(float)
        w = xr.DataArray(weights.astype(dtype), dims=("time", dim))
        out = xr.dot(w, da.drop_vars([c for c in da.coords if dim in da[c].dims]), dim=dim)
        if method == "mean" and empty != 0:
            out = out.where(xr.DataArray(weights.sum(axis=1) > 0, dims="time"), empty)
        order = [("time" if d == dim else d) for d in da.dims]
        out = out.transpose(*order).assign_coords(time=time)
        out.attrs = dict(da.attrs)
        if sfreq is not None:
            out.attrs["sfreq"] = sfreq
        if delays is not None:
            out = _delayed(out, delays, None if sfreq is None else 1 / sfreq)
        return out

    if isinstance(features, xr.DataArray):
        result: xr.DataArray | xr.Dataset = one(features)
    else:
        result = xr.Dataset(
            {name: one(features[name]) for name in features.data_vars},
            attrs=dict(features.attrs),
        )
        if sfreq is not None:
            result.attrs["sfreq"] = sfreq
    result.attrs["align_method"] = method
    line = f"align(method={method!r}, n_times={grid.size}"
    line += f", window={window}, cutoff={cutoff}" if method == "lanczos" else ""
    line += f", delays={list(map(int, delays))})" if delays is not None else ")"
    return append_history(result, line)


# --------------------------------------------------------------------------------------
# nuisance features
# --------------------------------------------------------------------------------------


def _word_rate(words: xr.Dataset, grid: np.ndarray, method: str, **kw: Any) -> np.ndarray:
    w = ALIGN_METHODS["sum" if method == "mean" else method](_onsets(words, "word"), grid, **kw)
    return w.sum(axis=1)


def _letter_rate(words: xr.Dataset, grid: np.ndarray, method: str, **kw: Any) -> np.ndarray:
    letters = np.array([sum(ch.isalnum() for ch in str(t)) for t in words["text"].values], float)
    w = ALIGN_METHODS["sum" if method == "mean" else method](_onsets(words, "word"), grid, **kw)
    return w @ letters


def _speech_fraction(words: xr.Dataset, grid: np.ndarray, method: str, **kw: Any) -> np.ndarray:
    onset = _onsets(words, "word")
    if "offset" not in words.variables or not np.all(np.isfinite(words["offset"].values)):
        raise SchemaError("'speech_fraction' needs word offsets (seconds) for every word")
    offset = np.asarray(words["offset"].values, dtype=float)
    edges = _bin_edges(grid)
    lo, hi = edges[:-1, None], edges[1:, None]
    overlap = np.clip(np.minimum(hi, offset[None]) - np.maximum(lo, onset[None]), 0, None)
    return np.minimum(overlap.sum(axis=1) / (hi - lo)[:, 0], 1.0)


#: Nuisance regressors: name -> (function, long_name).
NUISANCE: dict[str, tuple[Callable[..., np.ndarray], str]] = {
    "word_rate": (_word_rate, "words per sample"),
    "letter_rate": (_letter_rate, "letters (alphanumeric characters) per sample"),
    "speech_fraction": (_speech_fraction, "fraction of the sample's bin covered by words"),
}


def nuisance_features(
    words: Any,
    times: Any = None,
    *,
    features: Sequence[str] = ("word_rate", "letter_rate", "speech_fraction"),
    tr: float | None = None,
    n_samples: int | None = None,
    start: float = 0.0,
    method: str = "sum",
    window: int = 3,
    cutoff: float = 1.0,
    delays: Sequence[int] | None = None,
) -> xr.DataArray:
    """Word rate and other low-level regressors on the brain's time axis.

    Parameters
    ----------
    words : xarray.Dataset or str or list
        Timed words (dim ``word`` with ``onset`` and ``offset``), anything
        [`neurodata.models.stimuli.as_words`][] accepts.
    times, tr, n_samples, start : optional
        The brain's sample times, as in [`align`][].
    features : sequence of str
        Names from `NUISANCE`: ``"word_rate"``, ``"letter_rate"``
        (counted per bin with ``method="sum"``, or Lanczos-resampled counts with
        ``"lanczos"``) and ``"speech_fraction"`` (always the exact fraction of
        each bin ``[t_k, t_k + T)`` covered by word intervals).
    method : {"sum", "lanczos"}
        How counts reach the samples (``"mean"`` counts like ``"sum"``).
    window, cutoff, delays
        As in [`align`][].

    Returns
    -------
    xarray.DataArray
        Dims (``time``, ``feature``), or (``time``, ``delay``, ``feature``).
    """
    from .stimuli import as_words

    _pick(ALIGN_METHODS, method, "method")
    words = as_words(words)
    grid = sample_times(times, tr=tr, n_samples=n_samples, start=start)
    picked = [(name, _pick(NUISANCE, name, "features")) for name in features]
    columns = [fn(words, grid, method, window=window, cutoff=cutoff) for _, (fn, _) in picked]
    time, sfreq = _time_coord(grid)
    out = xr.DataArray(
        np.column_stack(columns),
        dims=("time", "feature"),
        coords={
            "time": time,
            "feature": np.array([name for name, _ in picked], dtype=object),
            "description": ("feature", np.array([d for _, (_, d) in picked], dtype=object)),
        },
        name="nuisance",
        attrs={"sfreq": sfreq} if sfreq is not None else {},
    )
    if delays is not None:
        out = _delayed(out, delays, None if sfreq is None else 1 / sfreq)
    return append_history(out, f"nuisance_features(features={list(features)}, method={method!r})")
