"""Aligning recordings and stacking them along ``subject`` (behind [`neurodata.collections`][]).

Every function here takes ``items``: a list of ``(subject, path, Dataset)`` for
recordings opened lazily; nothing computes their data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._sampling import attr_sfreq
from .errors import NeurodataError

__all__ = [
    "RAGGED_DIMS",
    "CollectionError",
    "MismatchError",
    "hard_mismatch",
    "mismatch",
    "stack",
    "tree",
]

#: Dims whose length differs between recordings by nature (annotations): always padded.
RAGGED_DIMS = ("event",)


class CollectionError(NeurodataError, ValueError):
    """Recordings cannot form a collection (duplicate subjects, nothing found, bad metadata)."""


class MismatchError(CollectionError):
    """Recordings of a collection differ (dims, sizes, labels, sampling rate) where they must agree."""


# --------------------------------------------------------------------------------------
# comparing recordings
# --------------------------------------------------------------------------------------


def _structure(ds: xr.Dataset) -> tuple:
    return tuple(sorted((str(n), tuple(map(str, v.dims))) for n, v in ds.data_vars.items()))


def mismatch(items: list[tuple[str, Path, xr.Dataset]]) -> str | None:
    """Why these recordings cannot be stacked as they are (None when they can)."""
    _, first_path, first = items[0]
    rate = attr_sfreq(first)
    for _, path, ds in items[1:]:
        if _structure(ds) != _structure(first):
            return (
                f"{path}: variables {dict(_structure(ds))} differ from {first_path.name}'s "
                f"{dict(_structure(first))}"
            )
        if attr_sfreq(ds) != rate:
            return f"{path}: sampling rate {attr_sfreq(ds)} Hz; {first_path.name} has {rate} Hz"
        for dim in first.dims:
            if dim in RAGGED_DIMS:
                continue
            if ds.sizes.get(dim) != first.sizes[dim]:
                return (
                    f"{path}: dim {dim!r} has {ds.sizes.get(dim)} elements; "
                    f"{first_path.name} has {first.sizes[dim]}"
                )
            if dim in first.indexes and dim in ds.indexes:
                a, b = set(first.indexes[dim]), set(ds.indexes[dim])
                if a != b:  # the same labels in another order are aligned, not a mismatch
                    only, missing = sorted(map(str, b - a))[:5], sorted(map(str, a - b))[:5]
                    return (
                        f"{path}: {dim!r} labels differ from {first_path.name}'s "
                        f"(has {only} and lacks {missing})"
                    )
    return None


def hard_mismatch(items: list[tuple[str, Path, xr.Dataset]]) -> str | None:
    """Differences no join can reconcile: variables/dims, sampling rate, unlabelled sizes."""
    _, first_path, first = items[0]
    for _, path, ds in items[1:]:
        if _structure(ds) != _structure(first):
            return (
                f"{path}: variables {dict(_structure(ds))} differ from {first_path.name}'s "
                f"{dict(_structure(first))}"
            )
        if attr_sfreq(ds) != attr_sfreq(first):
            return (
                f"{path}: sampling rate {attr_sfreq(ds)} Hz; {first_path.name} has {attr_sfreq(first)} Hz "
                "(neurodata does not resample silently: resample first, or use join='tree')"
            )
        for dim in first.dims:
            unlabelled = dim not in first.indexes or dim not in ds.indexes
            if dim in RAGGED_DIMS or dim == "time" or not unlabelled:
                continue
            if ds.sizes[dim] != first.sizes[dim]:
                return (
                    f"{path}: unlabelled dim {dim!r} has {ds.sizes[dim]} elements; "
                    f"{first_path.name} has {first.sizes[dim]} (no labels to align on)"
                )
    return None


# --------------------------------------------------------------------------------------
# aligning and stacking
# --------------------------------------------------------------------------------------


def _target_labels(items: list[tuple[str, Path, xr.Dataset]], dim: str, join: str) -> pd.Index:
    indexes = [ds.indexes[dim] for _, _, ds in items]
    target = indexes[0]
    for index in indexes[1:]:
        if join == "outer":
            target = target.append(index[~index.isin(target)])
        elif join == "inner":
            target = target[target.isin(index)]
        elif set(index) != set(target):  # exact: same labels, any order (first order kept)
            raise MismatchError(mismatch(items) or f"{dim!r} labels differ")
    if len(target) == 0:
        raise MismatchError(f"the recordings have no {dim!r} label in common (join={join!r})")
    return target


def _time_target(items: list[tuple[str, Path, xr.Dataset]], join: str) -> np.ndarray:
    times = [np.asarray(ds["time"].values) for _, _, ds in items]
    lengths = [t.size for t in times]
    if join == "exact" and len(set(lengths)) > 1:
        raise MismatchError(mismatch(items) or "durations differ")
    longest = times[int(np.argmax(lengths))] if join == "outer" else times[int(np.argmin(lengths))]
    rate = attr_sfreq(items[0][2])
    tol = 0.5 / rate if rate else 0.0
    for (_, path, _), t in zip(items, times):
        n = min(t.size, longest.size)
        if not np.allclose(t[:n], longest[:n], rtol=0, atol=tol):
            raise MismatchError(
                f"{path}: time axis starts at {t[0]:g} s or is sampled differently from the "
                f"others (first {longest[0]:g} s); cannot align by sample"
            )
    return longest


def _time_coords(values: np.ndarray, attrs: dict[str, Any]) -> xr.Coordinates:
    index = xr.indexes.PandasIndex(pd.Index(values, name="time"), "time")
    coords = xr.Coordinates.from_xindex(index)
    coords["time"].attrs = dict(attrs)
    return coords


def share_time(ds: xr.Dataset, cache: dict[tuple, xr.Coordinates]) -> xr.Dataset:
    """Give a regular ``time`` axis the one coordinate object shared by every
    recording of the same length, rate and start (``cache``), so that opening
    thousands of recordings holds one time axis per distinct length, not one each."""
    rate = attr_sfreq(ds)
    if rate is None or "time" not in ds.indexes or ds.sizes["time"] == 0:
        return ds
    values = ds["time"].values
    key = (values.size, rate, float(values[0]))
    if key not in cache:
        regular = key[2] + np.arange(values.size) / rate
        cache[key] = _time_coords(regular, ds["time"].attrs)
    shared = cache[key]
    if shared["time"].variable is ds["time"].variable or not np.array_equal(
        values, shared["time"].values
    ):
        return ds
    return ds.assign_coords(shared)


def _fill(dtype: np.dtype) -> tuple[np.dtype, Any]:
    if dtype.kind in "OUS":
        return np.dtype(object), ""
    if dtype.kind == "b":
        return np.dtype(bool), False
    if dtype.kind == "c":
        return dtype, np.nan
    return np.result_type(dtype, np.float32), np.nan


def _conform(ds: xr.Dataset, targets: dict[str, Any], ragged: dict[str, int]) -> xr.Dataset:
    """Reindex/pad/crop one recording to the target labels and lengths (lazily)."""
    if "time" in targets:
        n = ds.sizes["time"]
        want = targets["time"]["time"].size
        if n > want:
            ds = ds.isel(time=slice(0, want))
        elif n < want:
            ds = _pad(ds, "time", want - n)
        ds = ds.assign_coords(targets["time"])
    for dim, labels in targets.items():
        if dim == "time":
            continue
        if not ds.indexes[dim].equals(labels):
            ds = ds.reindex({dim: labels}, fill_value=_fill_values(ds, dim))
    for dim, size in ragged.items():
        if dim in ds.dims and ds.sizes[dim] < size:
            ds = _pad(ds, dim, size - ds.sizes[dim])
    return ds


def _fill_values(ds: xr.Dataset, dim: str) -> dict[str, Any]:
    return {name: _fill(v.dtype)[1] for name, v in ds.variables.items() if dim in v.dims}


def _pad(ds: xr.Dataset, dim: str, extra: int) -> xr.Dataset:
    out = {}
    for name, var in ds.variables.items():
        if dim not in var.dims or name == dim:
            out[name] = var
            continue
        dtype, fill = _fill(var.dtype)
        var = var.astype(dtype) if dtype != var.dtype else var
        out[name] = var.pad({dim: (0, extra)}, mode="constant", constant_values=fill)
    coords = {k: v for k, v in out.items() if k in ds.coords and k != dim}
    data = {k: v for k, v in out.items() if k in ds.data_vars}
    return xr.Dataset(data, coords=coords, attrs=ds.attrs)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float | np.generic) and np.ndim(value) == 0


def _same(values: list[Any]) -> bool:
    first = values[0]
    for value in values[1:]:
        if type(value) is not type(first):
            return False
        if isinstance(first, np.ndarray):
            nan = first.dtype.kind in "fc"
            if first.shape != value.shape or not np.array_equal(first, value, equal_nan=nan):
                return False
        elif not (value == first or (_scalar(first) and pd.isna(first) and pd.isna(value))):
            return False
    return True


def stack(items: list[tuple[str, Path, xr.Dataset]], join: str) -> xr.Dataset:
    """One Dataset with dims ``(subject, ...)``: recordings aligned per ``join``
    ("exact", "inner" or "outer"), stacked lazily (dask) along ``subject``."""
    import dask.array as da

    first = items[0][2]
    targets: dict[str, Any] = {}
    for dim in first.dims:
        if dim in RAGGED_DIMS:
            continue
        if dim == "time" and attr_sfreq(first) is not None:
            times = _time_target(items, join)
            targets["time"] = _time_coords(times, first["time"].attrs)
        elif dim in first.indexes:
            targets[dim] = _target_labels(items, str(dim), join)
    ragged = {d: max(ds.sizes.get(d, 0) for _, _, ds in items) for d in RAGGED_DIMS}
    ragged = {d: n for d, n in ragged.items() if d in first.dims}
    conformed = [_conform(ds, targets, ragged) for _, _, ds in items]
    subjects = [s for s, _, _ in items]
    ref = conformed[0]
    data_vars = {}
    for name, var in ref.data_vars.items():
        arrays = [c[name].variable.transpose(*var.dims).data for c in conformed]
        if any(isinstance(a, da.Array) for a in arrays):
            stacked = da.stack([_as_dask(a) for a in arrays])
        else:  # small in-memory variables (annotations) stay in memory
            stacked = np.stack([np.asarray(a) for a in arrays])
        attrs = _common({k: v for k, v in c[name].attrs.items()} for c in conformed)
        data_vars[name] = xr.Variable(("subject", *var.dims), stacked, attrs)
    coords: dict[str, Any] = {"subject": ("subject", np.array(subjects, dtype=object))}
    for name, coord in ref.coords.items():
        if name in ref.dims:
            coords[name] = coord.variable
            continue
        values = [np.asarray(c[name].values) for c in conformed]
        if _same(values):
            coords[name] = coord.variable
        else:
            coords[name] = xr.Variable(("subject", *coord.dims), np.stack(values), coord.attrs)
    if "time" in targets:
        coords["n_time"] = ("subject", np.array([ds.sizes["time"] for _, _, ds in items]))
    for dim in ragged:
        coords[f"n_{dim}"] = ("subject", np.array([ds.sizes.get(dim, 0) for _, _, ds in items]))
    attrs = _common(ds.attrs for _, _, ds in items)
    for key in sorted({k for _, _, ds in items for k in ds.attrs} - set(attrs)):
        values = [ds.attrs.get(key) for _, _, ds in items]
        if all(_scalar(v) for v in values) and key not in coords:
            coords[key] = ("subject", np.array(values, dtype=object if _is_text(values) else None))
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _as_dask(array: Any) -> Any:
    import dask.array as da

    if isinstance(array, da.Array):
        return array
    return da.from_array(array, chunks=-1) if array.dtype == object else da.asarray(array)


def _is_text(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _common(attr_dicts: Any) -> dict[str, Any]:
    dicts = list(attr_dicts)
    keys = set(dicts[0]).intersection(*dicts[1:]) if dicts else set()
    return {k: dicts[0][k] for k in dicts[0] if k in keys and _same([d[k] for d in dicts])}


def tree(
    items: list[tuple[str, Path, xr.Dataset]], meta: dict[str, xr.Variable], reason: str | None
) -> xr.DataTree:
    """A DataTree: metadata along ``subject`` on the root, one child per subject."""
    subjects = [s for s, _, _ in items]
    root = xr.Dataset(
        coords={"subject": ("subject", np.array(subjects, dtype=object)), **meta},
        attrs={"collection_join": "tree"} | ({"collection_mismatch": reason} if reason else {}),
    )
    nodes: dict[str, Any] = {"/": root}
    for i, (subject, _, ds) in enumerate(items):
        node = ds.copy(deep=False)
        node.attrs = dict(ds.attrs) | {
            k: v.values[i].item() if hasattr(v.values[i], "item") else v.values[i]
            for k, v in meta.items()
        }
        nodes[subject] = node
    return xr.DataTree.from_dict(nodes)
