"""Validation against the conventions of `neurodata.schema` (private; the package re-exports the public names)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr

from .._registry import pick as _pick
from .._sampling import REGULAR_RTOL
from ..errors import SchemaError
from ._vocabulary import (
    _NOT_UNITS,
    _POSITION_COORDS,
    DIMS,
    LABEL_DIMS,
)

# --------------------------------------------------------------------------------------
# problem finders: each yields human-readable strings; validate() raises on the first
# --------------------------------------------------------------------------------------


def _variables(obj: xr.DataArray | xr.Dataset) -> Iterator[tuple[str, xr.DataArray]]:
    """(description, variable) for every data variable and coordinate."""
    if isinstance(obj, xr.DataArray):
        yield (f"variable {obj.name!r}" if obj.name is not None else "data"), obj.variable
    else:
        for name, var in obj.data_vars.items():
            yield f"variable {name!r}", var.variable
    for name, coord in obj.coords.items():
        yield f"coordinate {name!r}", coord.variable


def _dim_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    for dim in obj.dims:
        dim = str(dim)
        base = dim[:-2] if dim.endswith("_2") else dim
        if base in DIMS:
            continue
        close = difflib.get_close_matches(dim.lower(), list(DIMS), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of {sorted(DIMS)}"
        users = [label for label, var in _variables(obj) if dim in var.dims]
        where = f"{users[0]} has " if users else ""
        yield f"{where}dim {dim!r}, which is not a neurodata dim{hint}"


def _units_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    for label, var in _variables(obj):
        units = var.attrs.get("units")
        if units is None:
            continue
        if not isinstance(units, str):
            yield f"{label} has units {units!r} of type {type(units).__name__}; expected a string"
        elif units.strip().lower() in _NOT_UNITS:
            yield (
                f"{label} has units {units!r}, which is not a physical unit; "
                "drop `units` and describe the quantity in `long_name` (e.g. 'dF/F, dimensionless')"
            )


def _unitless_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    """What a loader returns (``attrs["source_format"]`` set) says the unit of every numeric
    data variable, or in ``long_name`` what the number is (e.g. dimensionless)."""
    if "source_format" not in obj.attrs:
        return
    arrays = [obj] if isinstance(obj, xr.DataArray) else list(obj.data_vars.values())
    for da in arrays:
        if da.dtype.kind in "iufc" and not da.attrs.get("units") and not da.attrs.get("long_name"):
            name = da.name if da.name is not None else "data"
            yield (
                f"variable {name!r} (read from {obj.attrs['source_format']}) has neither `units` "
                "nor a `long_name`; expected its physical unit, or a long_name saying what the "
                "number is (e.g. 'dF/F, dimensionless')"
            )


def _attr_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    start = obj.attrs.get("start_time")
    if start is not None:
        try:
            datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        except ValueError:
            yield f"attr 'start_time' must be an ISO-8601 string; got {start!r}"
    sfreq = obj.attrs.get("sfreq")
    if sfreq is not None and not (np.isscalar(sfreq) and np.isfinite(sfreq) and sfreq > 0):
        yield f"attr 'sfreq' must be a positive number (Hz); got {sfreq!r}"


def _time_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if "time" not in obj.dims:
        return
    if "time" in obj.coords:
        coord = obj.coords["time"]
    elif "timestamps" in obj.coords and "time" in obj.coords["timestamps"].dims:
        coord = obj.coords["timestamps"]
    else:
        yield (
            "dim 'time' has no coordinate; expected float seconds in coordinate 'time' "
            "(or per-record clocks in a 'timestamps' coordinate spanning 'time')"
        )
        return
    name = coord.name
    if coord.dtype.kind != "f":
        found = "datetime64" if coord.dtype.kind == "M" else str(coord.dtype)
        yield (
            f"coordinate {name!r} has dtype {found}; expected float seconds from recording start"
        )
        return
    units = coord.attrs.get("units")
    if units not in (None, "s"):  # no units means seconds (see the data model)
        yield (
            f"coordinate {name!r} has units {units!r}; expected seconds ('s' or no units; "
            "as_timeseries converts 'ms' and 'us')"
        )
    values = np.asarray(coord.values, dtype=float)
    if name == "time" and np.isnan(values).any():
        yield "coordinate 'time' holds NaN; expected finite seconds"
        return
    steps = np.diff(values, axis=-1)
    if np.any(steps[~np.isnan(steps)] <= 0):
        yield f"coordinate {name!r} is not strictly increasing"
        return
    sfreq = _find_attr(obj, "sfreq")
    if sfreq is not None and np.isscalar(sfreq) and sfreq > 0 and steps.size:
        step = float(np.nanmedian(steps))
        if abs(step * sfreq - 1) > REGULAR_RTOL:
            yield (
                f"attr 'sfreq' is {sfreq:g} Hz but coordinate {name!r} steps by {step:g} s "
                f"({1 / step:g} Hz)"
            )


def _find_attr(obj: xr.DataArray | xr.Dataset, key: str) -> Any:
    if key in obj.attrs:
        return obj.attrs[key]
    if isinstance(obj, xr.Dataset):
        for var in obj.data_vars.values():
            if key in var.attrs:
                return var.attrs[key]
    return None


def _frequency_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if "frequency" not in obj.dims:
        return
    if "frequency" not in obj.coords:
        yield "dim 'frequency' has no coordinate; expected Hz"
        return
    coord = obj.coords["frequency"]
    if coord.dtype.kind not in "fiu":
        yield f"coordinate 'frequency' has dtype {coord.dtype}; expected numbers in Hz"
        return
    if coord.attrs.get("units") != "Hz":
        yield f"coordinate 'frequency' has units {coord.attrs.get('units')!r}; expected 'Hz'"
    values = np.asarray(coord.values, dtype=float)
    if np.any(values < 0) or np.any(np.diff(values) <= 0):
        yield "coordinate 'frequency' must be non-negative and strictly increasing"


def _label_problems(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    for dim in obj.dims:
        if dim not in LABEL_DIMS or dim not in obj.coords:
            continue
        coord = obj.coords[dim]
        if not _is_str_dtype(coord.dtype):
            yield f"coordinate {dim!r} has dtype {coord.dtype}; expected string labels"
            continue
        values = coord.values.tolist()
        if len(set(values)) != len(values):
            dup = sorted({v for v in values if values.count(v) > 1})[:5]
            yield f"coordinate {dim!r} has duplicate labels {dup}; expected unique labels"
    if "bad" in obj.coords and obj.coords["bad"].dtype.kind != "b":
        yield f"coordinate 'bad' has dtype {obj.coords['bad'].dtype}; expected bool"
    for axis in _POSITION_COORDS:
        if axis not in obj.coords or obj.coords[axis].dtype.kind != "f":
            continue
        values = np.asarray(obj.coords[axis].values, dtype=float)
        if np.nanmax(np.abs(values), initial=0.0) > 2.0:
            yield (
                f"coordinate {axis!r} has values up to {np.nanmax(np.abs(values)):g}; "
                "expected metres (millimetres? divide by 1000)"
            )


def _is_str_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "USOT"


_CONVENTION_CHECKS: tuple[Callable[[Any], Iterable[str]], ...] = (
    _dim_problems,
    _units_problems,
    _unitless_problems,
    _attr_problems,
    _time_problems,
    _frequency_problems,
    _label_problems,
)


# --------------------------------------------------------------------------------------
# kinds of data
# --------------------------------------------------------------------------------------


def _data_arrays(obj: xr.DataArray | xr.Dataset) -> list[xr.DataArray]:
    return [obj] if isinstance(obj, xr.DataArray) else list(obj.data_vars.values())


def _kind_timeseries(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if not any("time" in da.dims for da in _data_arrays(obj)):
        yield f"a time series needs a 'time' dim; found dims {tuple(map(str, obj.dims))}"


def _kind_spectrum(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if not any("frequency" in da.dims for da in _data_arrays(obj)):
        yield f"a spectrum needs a 'frequency' dim; found dims {tuple(map(str, obj.dims))}"


def _kind_annotations(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if not isinstance(obj, xr.Dataset):
        yield "annotations must be a Dataset with variables onset, duration, label along 'event'"
        return
    missing = [v for v in ("onset", "duration", "label") if v not in obj.variables]
    if missing:
        yield f"annotations need variables ['onset', 'duration', 'label']; missing {missing}"
        return
    for name in ("onset", "duration", "label"):
        if obj[name].dims != ("event",):
            yield f"variable {name!r} has dims {obj[name].dims}; expected ('event',)"
            return
    for name in ("onset", "duration"):
        if obj[name].dtype.kind != "f":
            yield f"variable {name!r} has dtype {obj[name].dtype}; expected float seconds"
        elif obj[name].attrs.get("units") != "s":
            yield f"variable {name!r} has units {obj[name].attrs.get('units')!r}; expected 's'"
    if obj["duration"].dtype.kind == "f" and bool((obj["duration"] < 0).any()):
        yield "variable 'duration' has negative values; expected durations >= 0 s"
    if not _is_str_dtype(obj["label"].dtype):
        yield f"variable 'label' has dtype {obj['label'].dtype}; expected strings"


def _kind_connectome(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    da = obj if isinstance(obj, xr.DataArray) else obj.get("weight")
    if da is None:
        yield "a connectome Dataset needs a variable 'weight' with dims (synapse_type, pre, post)"
        return
    if "pre" not in da.dims or "post" not in da.dims:
        yield f"connectome weights need dims ('pre', 'post'); found {da.dims}"
        return
    extra = set(map(str, da.dims)) - {"pre", "post", "synapse_type", "worm", "subject"}
    if extra:
        yield f"connectome weights have unexpected dims {sorted(extra)}"
    if _is_lazy(da):
        return
    values = np.asarray(da.values, dtype=float)
    if np.any(values[~np.isnan(values)] < 0):
        yield "connectome weights must be >= 0 (number of synapses or contact size)"
    if "synapse_type" in da.coords and "electrical" in da.coords["synapse_type"].values.tolist():
        if da.sizes["pre"] == da.sizes["post"] and np.array_equal(
            da.coords["pre"].values, da.coords["post"].values
        ):
            gap = da.sel(synapse_type="electrical").transpose(..., "pre", "post").values
            if not np.allclose(gap, np.swapaxes(gap, -1, -2), equal_nan=True):
                yield "electrical (gap-junction) weights must be symmetric in (pre, post)"


def _kind_activations(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    positions = {"token", "word", "stimulus", "condition", "time"}
    for da in _data_arrays(obj):
        dims = set(map(str, da.dims))
        if "layer" in dims and "unit" in dims and dims & positions:
            return
    yield (
        "activations need dims ('layer', <position>, 'unit') with <position> one of "
        f"{sorted(positions)}; found dims {tuple(map(str, obj.dims))}"
    )


def _kind_rdm(obj: xr.DataArray | xr.Dataset) -> Iterator[str]:
    if not _data_arrays(obj):
        yield "an RDM needs a variable with dims (<dim>, <dim>_2); found no variables"
    for da in _data_arrays(obj):
        pair = [str(d) for d in da.dims if str(d) + "_2" in da.dims]
        if not pair:
            yield f"an RDM needs dims (<dim>, <dim>_2); found {da.dims}"
            continue
        dim = pair[0]
        if da.sizes[dim] != da.sizes[dim + "_2"]:
            yield f"RDM dims {dim!r} and {dim + '_2'!r} differ in size"
            continue
        if _is_lazy(da):
            continue
        mat = da.transpose(..., dim, dim + "_2").values.astype(float)
        scale = max(float(np.nanmax(np.abs(mat), initial=0.0)), 1.0)
        if not np.allclose(mat, np.swapaxes(mat, -1, -2), atol=1e-8 * scale, equal_nan=True):
            yield f"RDM {da.name!r} is not symmetric in ({dim!r}, {dim + '_2'!r})"
        diag = np.diagonal(mat, axis1=-2, axis2=-1)
        if np.any(np.abs(diag[~np.isnan(diag)]) > 1e-8 * scale):
            yield f"RDM {da.name!r} has a non-zero diagonal"


def _is_lazy(da: xr.DataArray) -> bool:
    return da.chunks is not None


#: Kinds of data and the checker of each (generator of problems).
KINDS: Mapping[str, Callable[[Any], Iterable[str]]] = {
    "timeseries": _kind_timeseries,
    "annotations": _kind_annotations,
    "connectome": _kind_connectome,
    "activations": _kind_activations,
    "rdm": _kind_rdm,
    "spectrum": _kind_spectrum,
}


def _describe(obj: Any, name: str | None) -> str:
    if name:
        return name
    source = getattr(obj, "attrs", {}).get("source")
    if source:
        return os.path.basename(str(source).rstrip("/")) or str(source)
    if isinstance(obj, xr.DataArray):
        return f"DataArray {obj.name!r}" if obj.name is not None else "DataArray"
    return "Dataset"


def problems(obj: xr.DataArray | xr.Dataset, kind: str | Sequence[str] | None = None) -> list[str]:
    """Every way in which ``obj`` breaks neurodata's conventions.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Labelled data with any neurodata dims.
    kind : str or sequence of str, optional
        Also check against these kinds of data (keys of `KINDS`).

    Returns
    -------
    list of str
        One message per problem; empty when ``obj`` is valid.
    """
    if not isinstance(obj, xr.DataArray | xr.Dataset):
        raise TypeError(f"expected an xarray DataArray or Dataset; got {type(obj).__name__}")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    checkers = [_pick(KINDS, k, "kind") for k in kinds]
    found: list[str] = []
    for check in (*_CONVENTION_CHECKS, *checkers):
        found.extend(check(obj))
    return found


def validate(
    obj: xr.DataArray | xr.Dataset,
    kind: str | Sequence[str] | None = None,
    *,
    name: str | None = None,
) -> xr.DataArray | xr.Dataset:
    """Check ``obj`` against neurodata's conventions and return it unchanged.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Labelled data; dims must come from `DIMS` (``time``, ``channel``, ...).
    kind : str or sequence of str, optional
        Kind(s) of data to check for: one of `KINDS` (``"timeseries"``,
        ``"annotations"``, ``"connectome"``, ``"activations"``, ``"rdm"``, ``"spectrum"``).
    name : str, optional
        How to call ``obj`` in messages (default: the basename of ``attrs["source"]``).

    Returns
    -------
    obj
        The input, unchanged.

    Raises
    ------
    SchemaError
        Naming the offending dim/coordinate/attr, what was expected and what was
        found. All problems are listed in ``err.problems``.
    """
    found = problems(obj, kind)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        err = SchemaError(f"{_describe(obj, name)}: {found[0]}{more}")
        err.problems = found
        raise err
    return obj


def infer_kinds(obj: xr.DataArray | xr.Dataset) -> list[str]:
    """The kinds of `KINDS` that ``obj`` satisfies (without the generic checks)."""
    return [kind for kind, check in KINDS.items() if not list(check(obj))]


# --------------------------------------------------------------------------------------
# coercion gates
# --------------------------------------------------------------------------------------

ArrayLike = Any
