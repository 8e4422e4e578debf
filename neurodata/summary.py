"""What a dataset holds, in a few numbers: dims, rates, duration, channels, provenance."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import xarray as xr

from ._sampling import attr_sfreq, is_regular
from .schema import UNIT_DIMS, infer_kinds

__all__ = ["SUMMARY_DIMS", "summarize"]

#: Label dims a summary reports (count and first labels), in this order.
SUMMARY_DIMS = (*UNIT_DIMS, "layer", "worm", "subject")

_MAX_LABELS = 8


def _time_info(obj: xr.Dataset | xr.DataArray) -> dict[str, Any]:
    if "time" not in obj.dims:
        return {}
    info: dict[str, Any] = {"n_times": int(obj.sizes["time"])}
    sfreq = attr_sfreq(obj)
    times = None
    if "time" in obj.coords and obj.coords["time"].dtype.kind == "f":
        times = np.asarray(obj.coords["time"].values, dtype=float)
    elif "timestamps" in obj.coords:
        times = np.asarray(obj.coords["timestamps"].values, dtype=float)
    if times is not None and times.size > 1 and np.isfinite(times).any():
        steps = np.diff(times, axis=-1)
        step = float(np.nanmedian(steps))
        if sfreq is None and step > 0:
            info["sfreq_estimated"] = round(1.0 / step, 6)
        span = np.nanmax(times, axis=-1) - np.nanmin(times, axis=-1)
        info["duration_s"] = float(np.nanmax(span)) + (1.0 / sfreq if sfreq else step)
        info["regular"] = is_regular(times)
    if sfreq is not None:
        info["sfreq"] = float(sfreq)
    return info


def _labels(obj: xr.Dataset | xr.DataArray, dim: str) -> dict[str, Any]:
    if dim not in obj.dims:
        return {}
    out: dict[str, Any] = {"count": int(obj.sizes[dim])}
    if dim in obj.coords:
        values = [str(v) for v in obj.coords[dim].values[:_MAX_LABELS]]
        out["first"] = values
    if dim == "channel":
        if "ch_type" in obj.coords:
            out["types"] = dict(Counter(str(v) for v in obj.coords["ch_type"].values))
        if "bad" in obj.coords and obj.coords["bad"].dtype.kind == "b":
            out["bad"] = [str(c) for c in obj.coords["channel"].values[obj.coords["bad"].values]]
    return out


def _events(obj: xr.Dataset | xr.DataArray) -> dict[str, Any]:
    if not isinstance(obj, xr.Dataset) or "event" not in obj.dims or "label" not in obj:
        return {}
    counts = Counter(str(v) for v in obj["label"].values)
    return {"count": int(obj.sizes["event"]), "labels": dict(counts.most_common(_MAX_LABELS))}


def _identified(obj: xr.Dataset | xr.DataArray) -> dict[str, int]:
    """Identified neurons per worm, from the small ``neuron_roi(worm, neuron)`` coordinate."""
    if "neuron_roi" not in obj.coords or set(obj.coords["neuron_roi"].dims) != {"worm", "neuron"}:
        return {}
    filled = obj.coords["neuron_roi"].notnull().sum("neuron")
    return {str(w): int(n) for w, n in zip(obj.coords["worm"].values, filled.values)}


def summarize(obj: xr.Dataset | xr.DataArray) -> dict[str, Any]:
    """A JSON-able summary of labelled data.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Any neurodata object (dims from `neurodata.schema.DIMS`).

    Returns
    -------
    dict
        ``type``, ``kinds``, ``dims`` (sizes), ``variables`` (dims, dtype, units,
        lazy), time information (``sfreq``, ``duration_s``), label dims
        (``channel``, ``neuron``, ``parcel``, ``layer``: count and first labels),
        ``events``, provenance attrs (``source``, ``source_format``,
        ``start_time``, ``neurodata_version``, ``history``) and ``attrs``: every
        other attr, long values cut to 200 characters. Reads no bulk data.
    """
    arrays = (
        {"(unnamed)" if obj.name is None else obj.name: obj}
        if isinstance(obj, xr.DataArray)
        else dict(obj.data_vars)
    )
    variables = {}
    for name, da in arrays.items():
        entry: dict[str, Any] = {
            "dims": [str(d) for d in da.dims],
            "shape": [int(s) for s in da.shape],
            "dtype": str(da.dtype),
            "lazy": da.chunks is not None,
        }
        for key in ("units", "long_name"):
            if key in da.attrs:
                entry[key] = str(da.attrs[key])
        variables[str(name)] = entry
    summary: dict[str, Any] = {
        "type": type(obj).__name__,
        "kinds": infer_kinds(obj),
        "dims": {str(k): int(v) for k, v in obj.sizes.items()},
        "variables": variables,
    }
    time = _time_info(obj)
    if time:
        summary["time"] = time
    for dim in SUMMARY_DIMS:
        info = _labels(obj, dim)
        if info:
            summary[dim] = info
    identified = _identified(obj)
    if identified:
        summary["identified_neurons"] = identified
    events = _events(obj)
    if events:
        summary["events"] = events
    provenance = {key: obj.attrs[key] for key in _PROVENANCE if key in obj.attrs}
    if provenance:
        summary["provenance"] = {
            k: v if isinstance(v, str | list) else str(v) for k, v in provenance.items()
        }
    # every other attr (e.g. a loader's ``dropped_edges`` or ``nwb_other_series``): what was
    # left out of a file is said in its attrs, so the summary shows them all
    other = {str(k): _attr_text(v) for k, v in obj.attrs.items() if k not in _SHOWN}
    if other:
        summary["attrs"] = other
    return summary


_PROVENANCE = ("source", "source_format", "start_time", "neurodata_version", "history")
#: Attrs the summary already shows elsewhere (time information, provenance).
_SHOWN = frozenset({*_PROVENANCE, "sfreq"})


def _attr_text(value: Any, limit: int = 200) -> Any:
    """A JSON-able attr value: numbers, bools and short strings as they are, else text
    cut to ``limit`` characters."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    text = (
        "; ".join(map(str, value)) if isinstance(value, list | tuple | np.ndarray) else str(value)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."
