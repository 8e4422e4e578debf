"""NWB ophys: ``RoiResponseSeries`` (in ``Fluorescence``/``DfOverF``) as ``(time, roi)`` (private).

The ``roi`` coordinate holds the ids of the ``PlaneSegmentation`` rows the
series refers to (``rois``), as pynwb's ``rois.table.id`` gives them, not the
row positions; every scalar column of that table (e.g. suite2p's ``iscell``)
becomes a coordinate along ``roi``. The masks (``image_mask``, ``pixel_mask``,
``voxel_mask``) are left in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ._nwb_values import _decode, _value_attrs

__all__ = ["OPHYS_KINDS", "ophys_variables"]

OPHYS_KINDS = ("Fluorescence", "DfOverF", "RoiResponseSeries")

_MASKS = {"image_mask", "pixel_mask", "voxel_mask", "reference_images"}


def _roi_coords(series: Any, n_rois: int) -> dict[str, Any]:
    rois = getattr(series, "rois", None)
    if rois is None:
        return {"roi": ("roi", np.arange(n_rois))}
    rows = np.asarray(rois.data[:], dtype=int)
    table = rois.table
    coords: dict[str, Any] = {"roi": ("roi", np.asarray(table.id[:])[rows])}
    for name in table.colnames:
        column = table[name]
        if name in _MASKS or name in ("roi", "time") or not hasattr(column, "data"):
            continue
        if type(column).__name__ in ("VectorIndex", "DynamicTableRegion"):
            continue
        if f"{name}_index" in table.colnames:  # a ragged column's values
            continue
        values = np.asarray(column.data[:])
        if values.ndim != 1 or len(values) != len(table):
            continue
        if values.dtype.kind in "SO":
            values = np.array([str(_decode(v)) for v in values], dtype=object)
        coords[name] = ("roi", values[rows])
    return coords


def ophys_variables(
    path: Path,
    picks: list[str],
    found: dict[str, tuple[str, Any]],
    times: Callable[[Any], np.ndarray],
    scaled: Callable[[Path, Any, bool], Any],
    lazy: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Data variables and ``roi`` coords of the picked ophys series (one clock, one ROI set).

    Each series becomes one variable: ``dff`` for a ``DfOverF`` series,
    ``activity`` otherwise, or the series' own name when two would share a name.
    """
    kinds = {key: found[key][0] for key in picks}
    others = [k for k, kind in kinds.items() if kind not in OPHYS_KINDS]
    if others:
        raise FormatError(
            f"{path}: `series` mixes ophys responses with {others}; read them separately"
        )
    first = found[picks[0]][1]
    clock = times(first)
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    base = {key: "dff" if kind == "DfOverF" else "activity" for key, kind in kinds.items()}
    for key in picks:
        series = found[key][1]
        data = scaled(path, series, lazy)
        data = data[:, None] if data.ndim == 1 else data
        these = _roi_coords(series, data.shape[1])
        if coords and not np.array_equal(these["roi"][1], coords["roi"][1]):
            raise FormatError(
                f"{path}: series {key!r} covers ROIs {these['roi'][1][:8].tolist()}, "
                f"{picks[0]!r} covers {coords['roi'][1][:8].tolist()}; read them separately"
            )
        stamps = times(series)
        if stamps.shape != clock.shape or not np.allclose(stamps, clock, rtol=0, atol=1e-9):
            raise FormatError(
                f"{path}: series {key!r} and {picks[0]!r} are not on one clock; "
                "read them separately"
            )
        coords = coords or these
        name = base[key]
        if list(base.values()).count(name) > 1:
            name = key.rsplit("/", 1)[-1]
        data_vars[name] = (("time", "roi"), data, _value_attrs(series, kinds[key]))
    return data_vars, coords
