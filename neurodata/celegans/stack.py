"""Several worms in one Dataset, and resampling them to a common rate.

A worm Dataset (from [`neurodata.load`][] on a Flavell file, the homogenized
table or an NWB file) has ``activity(worm, time, neuron)`` on the canonical
axis, ``activity_roi(worm, time, roi)`` and its own clock ``timestamps(worm,
time)``. `stack` concatenates worms along ``worm`` without touching a
single value: shorter recordings are padded with NaN (``timestamps`` too), ROI
numbers are united (NaN where a worm has no such unplaced ROI). [`resample`][]
is the one explicit step that changes values: linear interpolation of every
worm onto a common grid.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from ..errors import SchemaError
from ..schema import append_history, validate

__all__ = ["identified_counts", "resample", "stack"]

# fill values of the per-(worm, roi) and per-(worm, neuron) coordinates where a worm lacks them
_FILL = {
    "roi_label": "",
    "roi_status": "",
    "roi_uncertain": False,
    "neuron_label": "",
    "neuron_uncertain": False,
    "neuron_duplicate": False,
}


def _check_worm(ds: xr.Dataset, i: int) -> None:
    if not isinstance(ds, xr.Dataset) or "activity" not in ds or "worm" not in ds.dims:
        raise SchemaError(
            f"datasets[{i}]: expected a worm Dataset with activity(worm, time, neuron); "
            f"got {type(ds).__name__} with dims {tuple(getattr(ds, 'dims', ()))}"
        )
    if "timestamps" not in ds.coords and "time" not in ds.coords:
        raise SchemaError(f"datasets[{i}]: has neither a 'timestamps' nor a 'time' coordinate")


def stack(datasets: Iterable[xr.Dataset]) -> xr.Dataset:
    """Stack worm Datasets along ``worm``, each keeping its own clock.

    Parameters
    ----------
    datasets : iterable of xarray.Dataset
        Worm Datasets with ``activity(worm, time, neuron)`` and ``timestamps(worm,
        time)`` (or a shared ``time`` coordinate, e.g. after [`resample`][]).
        Worm ids must be unique.

    Returns
    -------
    xarray.Dataset
        Dims (worm, time, neuron) and (worm, time, roi); ``time`` is as long as
        the longest recording, the others are padded with NaN (values and
        ``timestamps``). Per-worm attrs (source, labels, history) move to
        ``worm``-indexed coordinates ``source``; ``attrs["history"]`` records the stacking.
    """
    items = list(datasets)
    if not items:
        raise SchemaError("`datasets` must hold at least one worm Dataset; got none")
    for i, ds in enumerate(items):
        _check_worm(ds, i)
    worms = [str(w) for ds in items for w in ds["worm"].values]
    dup = sorted({w for w in worms if worms.count(w) > 1})
    if dup:
        raise SchemaError(f"worm ids must be unique across `datasets`; repeated: {dup}")
    shared_time = all("time" in ds.coords for ds in items)
    if not shared_time:
        items = [_timestamps(ds) for ds in items]
    n_time = max(ds.sizes["time"] for ds in items)
    padded = []
    for ds in items:
        ds = ds.copy()
        ds.coords["source"] = ("worm", [str(ds.attrs.get("source", ""))] * ds.sizes["worm"])
        if not shared_time and ds.sizes["time"] < n_time:
            ds = ds.pad(time=(0, n_time - ds.sizes["time"]))
        padded.append(ds)
    if "roi" in set().union(*(ds.dims for ds in padded)):
        rois = np.unique(np.concatenate([ds["roi"].values for ds in padded if "roi" in ds.dims]))
        padded = [_reindex_roi(ds, rois) for ds in padded]
    out = xr.concat(
        padded,
        dim="worm",
        join="outer" if shared_time else "exact",
        data_vars="all",
        coords="different",
        compat="equals",
        combine_attrs="drop",
    )
    for name, value in _FILL.items():
        if name in out.coords and out[name].dtype == object:
            out[name] = out[name].where(out[name].notnull(), value)
    if "timestamps" in out.coords:
        out["timestamps"].attrs["units"] = "s"
    for name in ("roi_uncertain", "neuron_uncertain", "neuron_duplicate"):
        if name in out.coords:
            out[name] = out[name].astype(bool)
    keep = {
        k: v
        for k, v in items[0].attrs.items()
        if k in ("sfreq", "signal", "uncertain", "duplicates", "min_confidence")
        and all(ds.attrs.get(k) == v or _both_nan(ds.attrs.get(k), v) for ds in items)
    }
    out.attrs = keep
    out = append_history(out, f"stacked {len(items)} worms ({', '.join(worms)})")
    return validate(out)


def _both_nan(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)


def _timestamps(ds: xr.Dataset) -> xr.Dataset:
    if "timestamps" in ds.coords:
        return ds
    raise SchemaError(
        "cannot stack a worm with a shared 'time' axis and one with 'timestamps'; "
        "resample() all worms first"
    )


def _reindex_roi(ds: xr.Dataset, rois: np.ndarray) -> xr.Dataset:
    if "roi" not in ds.dims:
        ds = ds.expand_dims(roi=0)
        ds = ds.assign_coords(roi=np.array([], dtype=int))
    fill = {name: value for name, value in _FILL.items() if name in ds.variables}
    out = ds.reindex(roi=rois, fill_value={**fill, "activity_roi": np.nan})
    return out


def resample(ds: xr.Dataset, rate: float, *, duration: float | None = None) -> xr.Dataset:
    """Resample worm recordings to a common rate by linear interpolation.

    Parameters
    ----------
    ds : xarray.Dataset
        One or several worms (from `stack` or a loader) with per-worm
        clocks ``timestamps(worm, time)`` in seconds, first frame at 0.
    rate : float
        Target sampling rate in Hz (the homogenized dataset used about 3 Hz).
    duration : float, optional
        Length of the common grid in seconds (default: the longest recording).

    Returns
    -------
    xarray.Dataset
        Every variable along ``time`` sampled at ``t = 0, 1/rate, 2/rate, ...``;
        ``time`` becomes a shared coordinate (s) with ``attrs["sfreq"] = rate``
        and ``timestamps`` is dropped. Each new sample is the linear
        interpolation of the two original frames around it (exact at original
        frames); it is NaN after the end of a worm's recording and wherever one
        of those two frames is NaN. No smoothing or anti-aliasing filter is
        applied: downsampling a signal with content above ``rate / 2`` aliases it.
    """
    if not (np.isscalar(rate) and np.isfinite(rate) and rate > 0):
        raise SchemaError(f"`rate` must be a positive number of Hz; got {rate!r}")
    if "timestamps" not in ds.coords:
        raise SchemaError(
            "resample() needs per-worm clocks in a 'timestamps(worm, time)' coordinate"
        )
    stamps = ds["timestamps"].transpose("worm", "time").values.astype(float)
    end = float(np.nanmax(stamps)) if duration is None else float(duration)
    grid = np.arange(int(np.floor(end * rate + 1e-9)) + 1) / rate
    variables = {}
    for name, var in ds.data_vars.items():
        if "time" not in var.dims:
            variables[name] = var
            continue
        var = var.transpose("worm", "time", ...)
        values = np.asarray(var.values, dtype=float)
        out = np.empty((values.shape[0], grid.size, *values.shape[2:]))
        for w in range(values.shape[0]):
            out[w] = _interp(stamps[w], values[w], grid, tol=1e-9 / rate)
        variables[name] = xr.Variable(var.dims, out, var.attrs)
    coords = {k: v for k, v in ds.coords.items() if "time" not in v.dims}
    coords["time"] = ("time", grid, {"units": "s"})
    out = xr.Dataset(variables, coords=coords, attrs=dict(ds.attrs))
    out.attrs["sfreq"] = float(rate)
    out = append_history(out, f"resampled to {rate:g} Hz by linear interpolation")
    return validate(out, "timeseries")


def _interp(t: np.ndarray, x: np.ndarray, grid: np.ndarray, *, tol: float = 0.0) -> np.ndarray:
    """Linear interpolation of ``x`` (time, ...) at ``grid``; NaN outside and next to NaN.

    Grid points within ``tol`` s outside the recording are its first or last frame (the
    grid's own rounding: a last frame at 1.9999999999999998 s is the grid's 2 s).
    """
    valid = ~np.isnan(t)
    t, x = t[valid], x[valid]
    out = np.full((grid.size, *x.shape[1:]), np.nan)
    if t.size == 0:
        return out
    if t.size == 1:
        out[np.abs(grid - t[0]) <= tol] = x[0]
        return out
    flat = x.reshape(x.shape[0], -1)
    live = ~np.isnan(flat).all(axis=0)
    if not live.all():  # neurons never recorded stay NaN without being interpolated
        out2 = out.reshape(grid.size, -1)
        out2[:, live] = _interp(t, flat[:, live], grid, tol=tol)
        return out2.reshape(out.shape)
    inside = (grid >= t[0] - tol) & (grid <= t[-1] + tol)
    g = np.clip(grid[inside], t[0], t[-1])
    j = np.clip(np.searchsorted(t, g, side="right"), 1, t.size - 1)
    w = (g - t[j - 1]) / (t[j] - t[j - 1])
    lo, hi = x[j - 1], x[j]
    value = hi - lo
    value *= w.reshape(-1, *([1] * (x.ndim - 1)))
    value += lo
    at_lo, at_hi = w == 0, w == 1  # exact at original frames, even next to a NaN frame
    value[at_lo] = lo[at_lo]
    value[at_hi] = hi[at_hi]
    out[inside] = value
    return out


def identified_counts(ds: xr.Dataset) -> dict[str, int]:
    """How many neuron slots each worm fills (non-NaN somewhere in ``activity``)."""
    filled = ds["activity"].notnull().any("time").sum("neuron")
    return {str(w): int(n) for w, n in zip(ds["worm"].values, filled.values)}
