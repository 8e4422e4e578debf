"""Windowed affinities of stacked worms: ``activity(worm, time, neuron)`` -> ``affinity(window, worm, pair)``.

[`affinity`][] runs one of the kernels of `_affinity` in sliding windows of every
worm; [`time_scale`][] is the data-driven time scale that sets the window when none is
given (see its docstring and ``docs/connectome.md``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._distributed import run_tasks
from ..._progress import progress as _progress
from ..._registry import check_int, pick
from ..._sampling import sampling_period
from ...errors import SchemaError
from ...io import load
from ...schema import as_dataarray
from ._affinity import derivative_scores, pick_affinity

__all__ = ["AUTO_SAMPLES", "affinity", "time_scale"]

#: Independent samples per window of the automatic window (``window=None``): the
#: standard error of a correlation over ~30 independent samples is ~0.18.
AUTO_SAMPLES = 30


def time_scale(
    values: np.ndarray, clock: np.ndarray, *, derivatives: bool = True, smooth: int = 3
) -> float:
    """Correlation time (s) of the signal an affinity compares, from the data.

    Bartlett's formula gives the variance of a correlation between two series
    with autocorrelations ``rho`` as ``sum_k rho(k)^2 / n``: a window of ``T``
    seconds holds ``T / tau`` independent samples with
    ``tau = dt * (1 + 2 sum_{k>=1} rho(k)^2)``. ``tau`` is computed per worm and
    neuron on the standardised derivatives (``derivatives=True``, as the
    derivative affinities see them) or on the traces, summing lags up to the
    first whose autocorrelation is within ``2 / sqrt(n)`` of 0 (white noise:
    ``tau = dt``; an AR(1) series of coefficient ``phi``:
    ``dt (1 + phi^2) / (1 - phi^2)``), and the median over worms and neurons is
    returned.

    Parameters
    ----------
    values : ndarray, shape (worm, time, neuron)
        Traces, NaN where not recorded.
    clock : ndarray, shape (worm, time)
        Sample times (s), NaN for padding.
    derivatives : bool
        Measure the derivatives (as `derivative_scores` makes them) instead of the traces.
    smooth : int
        Smoothing of the derivatives (see `derivative_scores`).

    Returns
    -------
    float
        Seconds.
    """
    taus = []
    for x, t in zip(values, clock):
        keep = np.isfinite(t)
        if keep.sum() < 8:
            continue
        x = derivative_scores(x, t, smooth)[keep] if derivatives else x[keep]
        dt = sampling_period(t[keep], regular=False, what="activity")
        valid = np.isfinite(x)
        live = valid.sum(axis=0) >= 8
        if not live.any():
            continue
        x, valid = x[:, live], valid[:, live]
        with np.errstate(invalid="ignore"):
            centred = np.where(valid, x - np.nanmean(np.where(valid, x, np.nan), axis=0), 0.0)
        n = centred.shape[0]
        spec = np.fft.rfft(centred, n=2 * n, axis=0)
        acf = np.fft.irfft(spec * spec.conj(), axis=0)[: max(2, n // 4)]
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = acf / acf[:1]
        ok = np.isfinite(rho[0]) & (acf[0] > 0)
        rho = rho[1:, ok]
        # sum up to the first lag indistinguishable from 0 (|rho| < 2 / sqrt(n)): beyond it
        # the squared estimates only add their own bias (~1/n each)
        small = np.abs(rho) < 2 / np.sqrt(valid.sum(axis=0)[ok])
        first = np.where(small.any(axis=0), small.argmax(axis=0), rho.shape[0])
        inside = np.arange(rho.shape[0])[:, None] < first[None, :]
        taus.extend(dt * (1 + 2 * np.sum(np.where(inside, rho**2, 0.0), axis=0)))
    if not taus:
        raise SchemaError(
            "activity: no worm holds 8 or more finite samples of a neuron; cannot set the "
            "window from the data (expected longer recordings, or pass `window`)"
        )
    return float(np.median(taus))


def _as_activity(obj: Any) -> tuple[xr.DataArray, np.ndarray]:
    """Coerce to activity (worm, time, neuron) and its per-worm clock (worm, time)."""
    if isinstance(obj, str | os.PathLike):
        obj = load(obj)
    if isinstance(obj, xr.Dataset):
        var = "activity" if "activity" in obj.data_vars else None
        obj = as_dataarray(obj, var=var, name="activity")
    if not isinstance(obj, xr.DataArray):
        raise TypeError(
            f"`activity` must be a DataArray or Dataset with dims (worm, time, neuron); "
            f"got {type(obj).__name__}"
        )
    if "worm" not in obj.dims and set(obj.dims) == {"time", "neuron"}:
        obj = obj.expand_dims(worm=["0"])
    if set(obj.dims) != {"worm", "time", "neuron"}:
        raise SchemaError(f"activity: expected dims ('worm', 'time', 'neuron'); found {obj.dims}")
    da = as_dataarray(obj, dims=("worm", "time", "neuron"), name="activity")
    da = da.transpose("worm", "time", "neuron")
    if "neuron" not in da.coords:
        da = da.assign_coords(neuron=[str(k) for k in range(da.sizes["neuron"])])
    if "worm" not in da.coords:
        da = da.assign_coords(worm=[str(k) for k in range(da.sizes["worm"])])
    if "timestamps" in da.coords and set(da.coords["timestamps"].dims) == {"worm", "time"}:
        clock = da.coords["timestamps"].transpose("worm", "time").values.astype(float)
    elif "time" in da.coords:
        clock = np.broadcast_to(
            da["time"].values.astype(float), (da.sizes["worm"], da.sizes["time"])
        )
    else:  # pragma: no cover - validate() already requires a clock
        raise SchemaError("activity: dim 'time' has no coordinate; expected seconds")
    return da, np.array(clock, dtype=float)


def _windows(clock: np.ndarray, window: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    t0, t1 = np.nanmin(clock), np.nanmax(clock)
    n = int(np.floor((t1 - t0) / step + 1e-9)) + 1  # the last window may be partial
    starts = t0 + step * np.arange(n)
    return starts, starts + window


def _samples_per_window(clock: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Samples of each worm in each window ``[start, stop)``: (worm, window)."""
    counts = np.empty((clock.shape[0], starts.size), dtype=np.int64)
    for w, c in enumerate(clock):
        c = np.sort(c[np.isfinite(c)])
        counts[w] = np.searchsorted(c, stops, "left") - np.searchsorted(c, starts, "left")
    return counts


# --------------------------------------------------------------------------------------
# 1. affinities
# --------------------------------------------------------------------------------------


def affinity(
    activity: Any,
    window: float | None = None,
    *,
    step: float | None = None,
    method: str = "derivative_correlation",
    smooth: int = 3,
    min_samples: int = 3,
    align: str = "start",
    progress: bool | None = None,
    scheduler: Any = None,
) -> xr.DataArray:
    """Pairwise affinities of neuronal traces in sliding time windows, per worm.

    Parameters
    ----------
    activity : xarray.DataArray, xarray.Dataset or path
        Dims (worm, time, neuron) (a Dataset's ``activity`` variable), NaN for
        unrecorded neurons/samples. Per-worm clocks in seconds are read from a
        ``timestamps`` (worm, time) coordinate when present, else from ``time``.
    window : float, optional
        Window length in seconds. Windows lie on one clock shared by all worms,
        starting at the earliest sample. Default (None): set from the data,
        ``AUTO_SAMPLES`` (30) times the correlation time of the signal the affinity
        compares (see [`time_scale`][]), so that each window holds about 30
        independent samples whatever the sampling rate or smoothness of the traces;
        at most a quarter of the longest recording. ``attrs`` record the rule, the
        time scale and the window chosen.
    step : float, optional
        Step between window starts in seconds (default: ``window``, no overlap).
    method : str
        Affinity (see `AFFINITIES`): ``"derivative_correlation"`` (default:
        positive part of the pairwise-complete Pearson correlation of the smoothed
        time derivatives in the window: 0 on average for independent neurons, high
        when two neurons rise and fall together), ``"derivative"`` (our own
        derivative-based affinity, *not* the paper's unpublished formula: mean over
        the window of the rectified product of the standardised time derivatives,
        ``max(z_i z_j, 0)`` with ``z = (dx/dt) / std(dx/dt)`` per worm and neuron; its
        chance level is ``1/pi``, not 0), ``"abs_derivative"``, ``"correlation"``
        (positive part of the Pearson correlation of the traces) or
        ``"abs_correlation"`` (its absolute value).
    smooth : int
        Moving-average width (samples) applied before differentiating (derivative
        methods only).
    min_samples : int
        A pair needs this many samples where both neurons are finite in a window;
        otherwise its affinity there is NaN (missing, never 0).
    align : str
        ``"start"`` (default): each worm's clock starts at 0 (its first sample), so
        windows compare worms at the same time since the start of their recording;
        ``"none"``: clocks are used as they are (already on a common experimental clock).
    progress : bool, optional
        Show a progress bar over worms (None: ``nd.config``).
    scheduler : None, str, distributed.Client or cluster
        Where the worms run, one task each: ``"threads"``, ``"processes"``, a
        ``distributed.Client``, a cluster or a scheduler address (None:
        ``neurodata.config``'s, by default this process). Results do not depend on it.

    Returns
    -------
    xarray.DataArray
        ``affinity`` with dims (window, worm, pair), float32, coordinates
        ``window_start``/``window_stop`` (s), ``worm``, and ``neuron_i``/``neuron_j``
        along ``pair`` (all pairs i < j of the neurons recorded in at least one worm).
        ``attrs`` hold the parameters; with an automatic window also
        ``window_rule`` and ``time_scale`` (s).
    """
    _, on_derivatives = pick_affinity(method)
    progress = resolve("progress", progress)
    scheduler = resolve("scheduler", scheduler)
    if window is not None and not (np.isscalar(window) and np.isfinite(window) and window > 0):
        raise SchemaError(f"`window` must be a positive number of seconds or None; got {window!r}")
    if step is not None and not (np.isscalar(step) and np.isfinite(step) and step > 0):
        raise SchemaError(f"`step` must be a positive number of seconds; got {step!r}")
    min_samples = check_int(min_samples, "min_samples", minimum=2)
    pick(("start", "none"), align, "align")
    da, clock = _as_activity(activity)
    if align == "start":
        with np.errstate(invalid="ignore"):
            first = np.array([np.nanmin(c) if np.isfinite(c).any() else 0.0 for c in clock])
        clock = clock - first[:, None]
    values = np.asarray(da.values, dtype=np.float64)
    recorded = np.isfinite(values).any(axis=(0, 1))
    if recorded.sum() < 2:
        raise SchemaError(
            f"activity: {int(recorded.sum())} neuron(s) hold finite values; expected >= 2"
        )
    neurons = da["neuron"].values.astype(str)[recorded]
    values = values[:, :, recorded]
    auto = {}
    if window is None:
        tau = time_scale(values, clock, derivatives=on_derivatives, smooth=smooth)
        longest = float(np.nanmax(clock) - np.nanmin(clock))
        window = float(min(AUTO_SAMPLES * tau, longest / 4))
        auto = {"window_rule": f"{AUTO_SAMPLES} x time_scale (at most 1/4 of the recording)",
                "time_scale": float(tau)}  # fmt: skip
    window = float(window)
    step = window if step is None else float(step)
    iu, ju = np.triu_indices(len(neurons), k=1)
    starts, stops = _windows(clock, float(window), float(step))
    # keep only windows some worm can fill, before allocating the (large) output tensor
    usable = (_samples_per_window(clock, starts, stops) >= int(min_samples)).any(axis=0)
    starts, stops = starts[usable], stops[usable]
    out = np.full((len(starts), da.sizes["worm"], len(iu)), np.nan, dtype=np.float32)
    shared = dict(starts=starts, stops=stops, method=method, smooth=smooth,
                  min_samples=min_samples, pairs=(iu, ju))  # fmt: skip
    n_worms = da.sizes["worm"]
    if scheduler is None:  # in process: each worm's windows are written straight into `out`
        for w in _progress(range(n_worms), desc="affinities", enabled=progress, unit="worm"):
            _worm_affinity(values[w], clock[w], out=out[:, w], **shared)
    else:
        worms = run_tasks(_worm_affinity, ((values[w], clock[w]) for w in range(n_worms)),
                          shared=shared, scheduler=scheduler, total=n_worms, progress=progress,
                          desc="affinities")  # fmt: skip
        for w, block in worms:
            out[:, w] = block
            del block  # one worm's block alive at a time
    # windows where some pair is observed, one window at a time (no tensor-size temporary)
    filled = np.array([np.isfinite(block).any() for block in out], dtype=bool)
    if not filled.any():
        dt = sampling_period(clock, regular=False, what="activity")
        raise SchemaError(
            f"activity: no window of {window:g} s holds {min_samples} shared samples of any "
            f"pair (sampling step {dt:g} s); expected a longer `window`"
        )
    if not filled.all():  # rare (no pair shared in a window): the only copy of the tensor
        out, starts, stops = out[filled], starts[filled], stops[filled]
    result = xr.DataArray(
        out,
        dims=("window", "worm", "pair"),
        coords={
            "window_start": ("window", starts, {"units": "s"}),
            "window_stop": ("window", stops, {"units": "s"}),
            "worm": da["worm"].values,
            "neuron_i": ("pair", neurons[iu].astype(str)),
            "neuron_j": ("pair", neurons[ju].astype(str)),
        },
        name="affinity",
        attrs={
            "long_name": f"{method} affinity, dimensionless",
            "method": method,
            "window": float(window),
            "step": float(step),
            "smooth": int(smooth),
            "min_samples": int(min_samples),
            "align": align,
            **auto,
        },
    )
    return result


def _worm_affinity(
    values: np.ndarray,
    clock: np.ndarray,
    *,
    starts: np.ndarray,
    stops: np.ndarray,
    method: str,
    smooth: int,
    min_samples: int,
    pairs: tuple[np.ndarray, np.ndarray],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Affinities (window, pair) of one worm's traces (time, neuron): one task.

    Written into ``out`` (window, pair), NaN-initialised, when given.
    """
    kernel, on_derivatives = pick_affinity(method)
    iu, ju = pairs
    if out is None:
        out = np.full((len(starts), len(iu)), np.nan, dtype=np.float32)
    x = derivative_scores(values, clock, smooth) if on_derivatives else values
    for k, (start, stop) in enumerate(zip(starts, stops)):
        idx = (clock >= start) & (clock < stop)
        if idx.sum() < min_samples:
            continue
        aff, count = kernel(x[idx])
        aff = np.where(count >= min_samples, aff, np.nan)
        out[k] = aff[iu, ju]
    return out
