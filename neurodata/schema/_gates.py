"""The coercion gates of `neurodata.schema` (private; the package re-exports the public names)."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._sampling import seconds_factor
from ..errors import SchemaError
from ._validate import (
    ArrayLike,
    _describe,
    validate,
)


def _from_path(path: str | os.PathLike) -> xr.Dataset | xr.DataArray:
    from ..io import load  # lower layer; imported here to keep `import neurodata.schema` light

    return load(path)


def as_dataset(obj: Any, *, name: str | None = None) -> xr.Dataset:
    """Coerce a path, DataArray or Dataset into a validated Dataset.

    Parameters
    ----------
    obj : str, os.PathLike, xarray.DataArray or xarray.Dataset
        A file/store readable by [`neurodata.load`][], or labelled data.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.Dataset
    """
    if isinstance(obj, str | os.PathLike):
        obj = _from_path(obj)
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name if obj.name is not None else "data", promote_attrs=True)
    if not isinstance(obj, xr.Dataset):
        raise TypeError(f"expected a path, DataArray or Dataset; got {type(obj).__name__}")
    return validate(obj, name=name)


def _labelled_array(
    array: Any,
    dims: Sequence[str] | None,
    name: str | None,
    *,
    coords: Any = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.DataArray:
    """A plain array with one dim name per axis (the array gates' shared check)."""
    if dims is None:
        raise SchemaError(
            f"{name or 'array'}: a plain array of shape {tuple(np.shape(array))} needs "
            "`dims` naming each axis, e.g. dims=('time', 'channel')"
        )
    if len(dims) != np.ndim(array):
        raise SchemaError(
            f"{name or 'array'}: `dims` {tuple(dims)} has {len(dims)} names for an array "
            f"with {np.ndim(array)} axes (shape {tuple(np.shape(array))})"
        )
    return xr.DataArray(array, dims=tuple(dims), coords=coords, attrs=dict(attrs or {}))


def as_dataarray(
    obj: Any,
    dims: Sequence[str] | None = None,
    *,
    var: str | None = None,
    coords: Mapping[Hashable, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    kind: str | None = None,
    name: str | None = None,
) -> xr.DataArray:
    """Coerce a path, array (with explicit dims), DataArray or Dataset into a DataArray.

    A path is read with [`neurodata.load`][]; a Dataset gives up its one variable
    (or ``var``), the Dataset's attrs filling in those the variable lacks. Labelled
    input gets its ``time``/``timestamps`` clocks converted to float seconds; a plain
    array is only labelled. The result is then validated (against ``kind`` if
    given). For data that must have a time axis, use [`as_timeseries`][].

    Parameters
    ----------
    obj : str, os.PathLike, array_like, xarray.DataArray or xarray.Dataset
        The data. A Dataset (or a path to one) must hold a single data variable
        unless ``var`` names one.
    dims : sequence of str, optional
        Dim names for a plain array (required then: neurodata never guesses
        which axis is time). For a DataArray, the dims it must have (any order).
    var : str, optional
        Variable to take from a Dataset.
    coords, attrs : mapping, optional
        Coordinates / attributes for a plain array.
    kind : str, optional
        Kind of data to validate against (see `KINDS`).
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.DataArray
        Validated labelled data.
    """
    if isinstance(obj, str | os.PathLike):
        name = name or os.path.basename(os.fspath(obj))
        obj = _from_path(obj)
    if isinstance(obj, xr.Dataset):
        obj = _take_variable(obj, var, name)
    elif isinstance(obj, xr.DataArray):
        pass
    else:
        array = (
            obj if hasattr(obj, "__array_function__") or hasattr(obj, "dask") else np.asarray(obj)
        )
        obj = _labelled_array(array, dims, name, coords=coords, attrs=attrs)
        return validate(obj, kind, name=name)
    if dims is not None:
        missing = [d for d in dims if d not in obj.dims]
        if missing:
            raise SchemaError(
                f"{_describe(obj, name)}: expected dims {tuple(dims)}; found {obj.dims} "
                f"(missing {missing})"
            )
    obj = _in_seconds(obj, _describe(obj, name))
    return validate(obj, kind, name=name)


def _take_variable(ds: xr.Dataset, var: str | None, name: str | None) -> xr.DataArray:
    where = _describe(ds, name)
    if var is not None:
        if var not in ds.data_vars:
            raise SchemaError(
                f"{where}: `var` must be one of {sorted(map(str, ds.data_vars))}; got {var!r}"
            )
        da = ds[var]
    elif len(ds.data_vars) == 1:
        da = next(iter(ds.data_vars.values()))
    else:
        raise SchemaError(
            f"{where}: holds {len(ds.data_vars)} variables {sorted(map(str, ds.data_vars))}; "
            "pass `var` to choose one"
        )
    for key, value in ds.attrs.items():
        da.attrs.setdefault(key, value)
    return da


def _in_seconds(obj: xr.DataArray, where: str) -> xr.DataArray:
    """``obj`` with its ``time``/``timestamps`` clocks in float seconds (``units="s"``).

    A clock without units is seconds; ``ms``/``us`` (and timedelta64) are converted; any other
    unit raises. The input is never modified.
    """
    for key in ("time", "timestamps"):
        if key not in obj.coords or (key == "time" and "time" not in obj.dims):
            continue
        coord = obj.coords[key]
        if coord.dtype.kind == "m":
            values = coord.values / np.timedelta64(1, "s")
        elif coord.dtype.kind == "f" or (coord.dtype.kind in "iu" and "units" in coord.attrs):
            # integer clocks without units are sample indices, not seconds: validate refuses them
            factor = seconds_factor(coord.attrs.get("units"), f"{where}: coordinate {key!r}")
            if factor == 1.0 and coord.dtype.kind == "f" and coord.attrs.get("units") == "s":
                continue
            values = np.asarray(coord.values, dtype=float) * factor
        else:
            continue  # datetime64 and others: validate says what is expected
        attrs = {**coord.attrs, "units": "s"}
        obj = obj.assign_coords({key: xr.Variable(coord.dims, values, attrs=attrs)})
    return obj


#: Dims of a plain array given to [`as_timeseries`][] with ``sfreq`` and no ``dims``: time is
#: the last axis, as in MNE (``Raw.get_data()``, ``Epochs.get_data()``) and ``scipy.signal``.
DEFAULT_ARRAY_DIMS: Mapping[int, tuple[str, ...]] = {
    1: ("time",),
    2: ("channel", "time"),
    3: ("trial", "channel", "time"),
}


def _time_coordinate(
    n: int, sfreq: float | None, times: ArrayLike | None, where: str
) -> xr.Variable:
    if times is not None:
        values = np.asarray(times, dtype=float)
        if values.shape != (n,):
            raise SchemaError(
                f"{where}: `times` has shape {values.shape}; expected ({n},) to match 'time'"
            )
    elif sfreq is not None:
        if not (np.isfinite(sfreq) and sfreq > 0):
            raise SchemaError(f"{where}: `sfreq` must be a positive number (Hz); got {sfreq!r}")
        values = np.arange(n, dtype=float) / float(sfreq)
    else:
        raise SchemaError(
            f"{where}: dim 'time' has no coordinate; pass `sfreq` (Hz) or `times` (seconds)"
        )
    return xr.Variable("time", values, attrs={"units": "s"})


def as_timeseries(
    obj: Any,
    dims: Sequence[str] | None = None,
    *,
    sfreq: float | None = None,
    times: ArrayLike | None = None,
    units: str | None = None,
    var: str | None = None,
    name: str | None = None,
) -> xr.DataArray:
    """Coerce input into a validated time series with a ``time`` dim in seconds.

    Like [`as_dataarray`][], but a ``time`` dim is required, and when the input has
    no clock one is built from ``sfreq`` or ``times``; a plain array given with either
    and no ``dims`` has time on its last axis. Unlabelled ``channel``/``neuron`` dims
    get string labels, and the result is validated as kind ``"timeseries"``.

    Parameters
    ----------
    obj : str, os.PathLike, array_like, xarray.DataArray or xarray.Dataset
        The series. Plain arrays need ``dims`` (e.g. ``("time", "channel")``) and
        ``sfreq`` or ``times``. Missing label coordinates of ``channel``/``neuron``
        become ``"0"``, ``"1"``, ...
    dims : sequence of str, optional
        Dim names of a plain array; must include ``"time"``. Default for a plain array
        given with ``sfreq`` or ``times``: time is the last axis, as in MNE and
        ``scipy.signal`` (`DEFAULT_ARRAY_DIMS`: ``(time,)``, ``(channel, time)``,
        ``(trial, channel, time)``).
    sfreq : float, optional
        Sampling rate in Hz; builds ``time`` as ``arange(n) / sfreq`` when the
        input has no time coordinate, and is stored in ``attrs["sfreq"]``.
    times : array_like, optional
        Sample times in seconds (for irregular series).
    units : str, optional
        Physical units of the values (``"V"``, ...), stored in ``attrs["units"]``.
    var : str, optional
        Variable to take from a Dataset.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.DataArray
        Dims include ``time`` (float seconds, ``units="s"``). A ``time`` coordinate without
        ``units`` is taken to be seconds; ``units="ms"`` or ``"us"`` (and timedelta64) are
        converted to seconds; any other unit raises [`SchemaError`][].
    """
    if dims is not None and "time" not in dims:
        raise SchemaError(f"{name or 'array'}: `dims` {tuple(dims)} must include 'time'")
    if isinstance(obj, str | os.PathLike | xr.Dataset | xr.DataArray):
        da = as_dataarray(obj, var=var, name=name) if not isinstance(obj, xr.DataArray) else obj
    else:
        array = obj if hasattr(obj, "dask") else np.asarray(obj)
        if dims is None and (sfreq is not None or times is not None):
            dims = DEFAULT_ARRAY_DIMS.get(np.ndim(array))
        da = _labelled_array(array, dims, name)
    where = _describe(da, name)
    if "time" not in da.dims:
        raise SchemaError(f"{where}: a time series needs a 'time' dim; found dims {da.dims}")
    da = _in_seconds(da, where)
    if "time" not in da.coords and "timestamps" not in da.coords:
        da = da.assign_coords(time=_time_coordinate(da.sizes["time"], sfreq, times, where))
    if sfreq is not None:
        da.attrs["sfreq"] = float(sfreq)
    if units is not None:
        da.attrs["units"] = units
    for dim in ("channel", "neuron"):
        if dim in da.dims and dim not in da.coords:
            da = da.assign_coords({dim: [str(i) for i in range(da.sizes[dim])]})
    return validate(da, "timeseries", name=name)


def as_annotations(obj: Any, *, name: str | None = None) -> xr.Dataset:
    """Coerce annotations into a Dataset along ``event``.

    Parameters
    ----------
    obj : xarray.Dataset, pandas.DataFrame or mapping
        With ``onset`` (s), ``label`` and optionally ``duration`` (s, default 0).
        Other columns are kept as variables along ``event``. Overlapping
        annotations are kept as they are.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.Dataset
        Variables ``onset``, ``duration`` (float seconds) and ``label`` (str) along ``event``.
    """
    import pandas as pd

    if isinstance(obj, xr.Dataset):
        ds = obj
    else:
        frame = obj if isinstance(obj, pd.DataFrame) else pd.DataFrame(dict(obj))
        missing = [c for c in ("onset", "label") if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"{name or 'annotations'}: need columns ['onset', 'label'] (and optionally "
                f"'duration'); missing {missing} among {list(frame.columns)}"
            )
        frame = frame.reset_index(drop=True)
        if "duration" not in frame.columns:
            frame["duration"] = 0.0
        data = {}
        for col in frame.columns:
            values = frame[col].to_numpy()
            if col in ("onset", "duration"):
                values = values.astype(float)
            elif col == "label" or values.dtype == object:
                values = np.array([str(v) for v in values], dtype=object)
            attrs = {"units": "s"} if col in ("onset", "duration") else {}
            data[str(col)] = xr.Variable("event", values, attrs=attrs)
        ds = xr.Dataset(data)
    return validate(ds, "annotations", name=name)
