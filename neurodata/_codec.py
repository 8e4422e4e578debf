"""How neurodata's own stores encode what zarr and netCDF cannot hold as is.

Attributes of any JSON type (prefixed ``neurodata-json:``), numpy arrays and
scalars in attributes, fixed-width strings, and whether a DataArray was saved.
``_encode`` runs before writing; ``_decode`` undoes it after opening.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._bounds import MIN_BYTES, check_declared
from .errors import FormatError

__all__ = ["_decode", "_encode"]

_JSON_PREFIX = "neurodata-json:"
_DTYPE_ATTR = "_neurodata_dtype"
_DATAARRAY_ATTR = "_neurodata_dataarray"
_UNNAMED = "__xarray_dataarray_variable__"


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": _to_jsonable(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return {"__npscalar__": _to_jsonable(value.item()), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise FormatError(
        f"attribute value {value!r} of type {type(value).__name__} cannot be stored; "
        "expected str, numbers, bool, None, lists, dicts or numpy arrays"
    )


def _from_jsonable(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = np.dtype(value["dtype"])
            items = np.asarray(value["__ndarray__"], dtype=object)  # no wider than the JSON
            if items.size * dtype.itemsize > MIN_BYTES:  # e.g. a '<U100000000' dtype
                raise FormatError(
                    f"{where}: an attribute array of {items.size} {dtype} values declares "
                    f"{items.size * dtype.itemsize} bytes; expected at most {MIN_BYTES}"
                )
            return items.astype(dtype)
        if "__npscalar__" in value:
            return np.dtype(value["dtype"]).type(value["__npscalar__"])
        return {k: _from_jsonable(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v, where) for v in value]
    return value


def _encode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, str) and not value.startswith(_JSON_PREFIX):
            out[str(key)] = value
        elif type(value) in (int, float):  # exact python numbers round-trip natively
            out[str(key)] = value
        else:
            out[str(key)] = _JSON_PREFIX + json.dumps(_to_jsonable(value), allow_nan=True)
    return out


def _decode_attrs(attrs: Mapping[str, Any], where: str) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if key == _DTYPE_ATTR:
            continue
        if isinstance(value, str) and value.startswith(_JSON_PREFIX):
            value = _from_jsonable(json.loads(value[len(_JSON_PREFIX) :]), where)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _encode(obj: xr.Dataset | xr.DataArray) -> xr.Dataset:
    if isinstance(obj, xr.DataArray):
        name = obj.name if obj.name is not None else _UNNAMED
        if name in obj.coords:
            raise FormatError(f"DataArray name {name!r} clashes with a coordinate of the same name")
        ds = obj.to_dataset(name=name)
        root_attrs = {_DATAARRAY_ATTR: str(name)}
    elif isinstance(obj, xr.Dataset):
        ds = obj
        root_attrs = _encode_attrs(obj.attrs)
    else:
        raise TypeError(f"can only save an xarray Dataset or DataArray; got {type(obj).__name__}")
    encoded = {}
    for name, var in ds.variables.items():
        var = var.copy(deep=False)
        var.encoding = {}
        attrs = _encode_attrs(var.attrs)
        if var.dtype.kind in "UO" and var.chunks is not None:
            var = var.load()  # string labels are small; backends would load them anyway
        if var.dtype.kind == "U":
            attrs[_DTYPE_ATTR] = var.dtype.str
            var = var.astype(object)
            var.encoding = {"dtype": str}
        elif var.dtype == object:
            _check_strings(var, str(name))
            attrs[_DTYPE_ATTR] = "|O"
            var.encoding = {"dtype": str}
        var.attrs = attrs
        encoded[name] = var
    out = xr.Dataset(
        {name: encoded[name] for name in ds.data_vars},
        coords={name: encoded[name] for name in ds.coords},
        attrs=root_attrs,
    )
    return _regular_chunks(out)


def _check_strings(var: xr.Variable, name: str) -> None:
    flat = var.values.ravel()
    bad = next((v for v in flat if not isinstance(v, str)), None)
    if bad is not None:
        raise FormatError(
            f"variable {name!r} holds objects of type {type(bad).__name__} ({bad!r}); "
            "only str objects can be stored"
        )
    if any("\x00" in v for v in flat):
        raise FormatError(f"variable {name!r} holds strings with NUL characters, which stores drop")


def _regular_chunks(ds: xr.Dataset) -> xr.Dataset:
    """Zarr needs equal chunks along each dim (but the last): rechunk dask arrays if not."""
    fix = {}
    for var in ds.variables.values():
        if var.chunks is None:
            continue
        for dim, sizes in zip(var.dims, var.chunks):
            if len(set(sizes[:-1])) > 1 or (len(sizes) > 1 and sizes[-1] > sizes[0]):
                fix[dim] = max(sizes)
    return ds.chunk(fix) if fix else ds


def _decode(ds: xr.Dataset, where: str = "store", stored: int = 0) -> xr.Dataset | xr.DataArray:
    """Undo ``_encode``, building the Dataset once (linear in the number of variables).

    ``stored`` bytes back the fixed-width string dtypes the attrs ask for (`check_declared`).
    """
    decoded = {}
    for name, var in ds.variables.items():
        dtype = var.attrs.get(_DTYPE_ATTR)
        attrs = _decode_attrs(var.attrs, where)
        if dtype is not None and var.dtype != np.dtype(dtype):
            dtype = np.dtype(dtype)
            if dtype.kind not in "UO":  # what _encode records, nothing else
                raise FormatError(
                    f"{where}: variable {name!r} asks for dtype {dtype} in {_DTYPE_ATTR}; "
                    "expected a string dtype ('<U<n>' or '|O')"
                )
            what = f"variable {name!r} as {dtype}"
            check_declared(where, what, var.size * dtype.itemsize, stored)
            var = var.astype(dtype)
        var = var.copy(deep=False)
        var.attrs = attrs
        decoded[name] = var
    ds = xr.Dataset(
        {name: decoded[name] for name in ds.data_vars},
        coords={name: decoded[name] for name in ds.coords},
        attrs=ds.attrs,
    )
    marker = ds.attrs.get(_DATAARRAY_ATTR)
    if marker is not None:
        da = ds[marker]
        if marker == _UNNAMED:
            da.name = None
        return da
    ds.attrs = _decode_attrs(ds.attrs, where)
    return ds
