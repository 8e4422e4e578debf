"""neurodata's data model as code: dimension names, coordinates, attrs and units.

Everything that passes between loaders, models and analyses is an
`xarray.Dataset` or `xarray.DataArray` with named dims drawn from
`DIMS`. [`validate`][] checks an object against those conventions (and,
optionally, against one *kind* of data from `KINDS`), and the coercion
gates ([`as_dataarray`][], [`as_dataset`][], [`as_timeseries`][],
[`as_annotations`][]) turn paths, arrays with explicit dims and xarray objects
into validated labelled data. Public functions call one gate first and do not
re-check shapes afterwards.

Conventions checked (see ``DESIGN.md``):

- every dim is a known neurodata dim (``time``, ``channel``, ...), or such a dim
  with the suffix ``_2`` (the second axis of a square matrix, e.g. an RDM);
- a ``time`` dim has a float coordinate in seconds (``units="s"``), strictly
  increasing; ``attrs["sfreq"]`` (Hz), when present, agrees with its steps;
  per-record clocks (e.g. one per worm) go in a ``timestamps`` coordinate that
  spans ``time`` and may hold NaN as padding;
- a ``frequency`` dim has a non-negative increasing coordinate in Hz;
- ``channel`` and ``neuron`` labels are unique strings; ``bad`` is boolean;
  electrode positions ``x``, ``y``, ``z`` are in metres;
- ``units`` attrs are physical units, never "a.u."-style placeholders (use
  ``long_name`` to say a quantity is dimensionless); in what a loader returns
  (``attrs["source_format"]`` set) every numeric data variable has one or the other;
- ``start_time`` is an ISO-8601 string.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr

from ._registry import pick as _pick
from ._sampling import REGULAR_RTOL, seconds_factor
from .errors import SchemaError

__all__ = [
    "DIMS",
    "KINDS",
    "LABEL_DIMS",
    "UNIT_DIMS",
    "append_history",
    "as_annotations",
    "as_dataarray",
    "as_dataset",
    "as_timeseries",
    "infer_kinds",
    "problems",
    "unit_dims",
    "validate",
    "with_provenance",
]

#: The vocabulary of dimension names and what each one means.
DIMS: Mapping[str, str] = {
    # time and frequency
    "time": "samples of a time series (coordinate: float seconds, units 's')",
    "frequency": "spectral bins (coordinate: Hz)",
    "delay": "FIR delays of features (coordinate: seconds or samples)",
    "lag": "lags of a cross-correlation (coordinate: seconds)",
    "window": "sliding time windows (coordinates: window start/stop in seconds)",
    # space / sensors
    "channel": "electrodes or sensors (coordinate: names; ch_type, x, y, z, bad)",
    "voxel": "fMRI voxels (coordinates i, j, k; affine in attrs)",
    "parcel": "atlas regions (coordinates: label value and name)",
    "neuron": "identified neurons or sorted units (coordinate: names)",
    "roi": "unidentified imaging regions of interest (coordinate: index)",
    "pair": "pairs of channels/neurons (coordinates: <dim>_i, <dim>_j)",
    "pre": "presynaptic neuron of a connectome",
    "post": "postsynaptic neuron of a connectome",
    "synapse_type": "kind of connection (chemical, electrical)",
    # recordings, experiment structure
    "subject": "subjects stacked for group analyses",
    "worm": "C. elegans animals stacked for group analyses",
    "session": "recording sessions",
    "run": "runs (fMRI runs, blocks)",
    "trial": "epochs / trials",
    "sweep": "intracellular (patch-clamp) sweeps (coordinates: series names, sweep_start in s)",
    "event": "annotations (variables onset, duration, label)",
    "stimulus": "items of an experiment (sentences, images, words)",
    "condition": "experimental conditions (RSA)",
    "fold": "cross-validation folds / independent measurement partitions",
    "sample": "observations without an inherent time (e.g. rows of a design matrix)",
    "spike": "spike events of a ragged spike train table",
    # models
    "layer": "ANN layers (coordinate: layer names)",
    "unit": "units / neurons of an ANN layer (coordinate: index)",
    "token": "token positions of a text stream",
    "word": "word positions of a text stream (coordinates: text, onset, offset)",
    "feature": "generic features (columns of a pattern matrix)",
    "model": "candidate models compared against data",
    "y": "image / feature-map rows (pixels, top to bottom)",
    "x": "image / feature-map columns (pixels, left to right)",
    "color": "colour channels of an image (R, G, B; one for grey-scale)",
    "rdm": "RDMs stacked (coordinate: their names, e.g. of an RSA-toolbox file)",
    "brain": "brain measurements compared with models (e.g. monkey IT, human IT)",
    # analysis outputs
    "target": "targets of a regression (voxels, parcels, channels, ... stacked)",
    "alpha": "regularisation strengths",
    "component": "factors/components of a decomposition",
    "community": "detected communities of a graph",
    "bootstrap": "bootstrap resamples",
    "permutation": "permutation resamples",
    "lower": "lower threshold of tRSA's geo-topological transform",
    "upper": "upper threshold of tRSA's geo-topological transform",
    "band": "frequency bands",
    "region": "brain regions of interest (anatomical, not atlas parcels)",
}

#: Dims whose index coordinate holds labels that must be unique strings.
LABEL_DIMS: frozenset[str] = frozenset(
    {"channel", "neuron", "layer", "pre", "post", "synapse_type"}
)

#: Unit-like dims: the parallel measurements of one recording or network (RSA's pattern
#: features, encoding targets, the units of a tagging test), in order of preference.
#: ``region`` counts only where no finer unit dim is present (else it groups units).
UNIT_DIMS: tuple[str, ...] = (
    "feature", "unit", "channel", "neuron", "voxel", "parcel", "roi", "region",
)  # fmt: skip


def unit_dims(dims: Iterable[Hashable]) -> tuple[str, ...]:
    """The unit-like dims among ``dims`` (see [`UNIT_DIMS`][]), in that order."""
    dims = set(dims)
    found = tuple(d for d in UNIT_DIMS if d in dims)
    return found if found == ("region",) else tuple(d for d in found if d != "region")


#: Placeholder strings that are not units (use ``long_name`` instead).
_NOT_UNITS = frozenset({"a.u.", "au", "a.u", "arb", "arbitrary", "arbitrary units", "df/f", "dff"})

_POSITION_COORDS = ("x", "y", "z")


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


def _from_path(path: str | os.PathLike) -> xr.Dataset | xr.DataArray:
    from .io import load  # lower layer; imported here to keep `import neurodata.schema` light

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


# --------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------


def with_provenance(
    obj: xr.Dataset | xr.DataArray, *, source: str | os.PathLike, source_format: str
) -> xr.Dataset | xr.DataArray:
    """Set the provenance attrs every loader adds: ``source``, ``source_format``,
    ``neurodata_version`` and a first ``history`` line. Returns a shallow copy."""
    from ._version import __version__

    obj = obj.copy(deep=False)
    obj.attrs["source"] = os.fspath(source)
    obj.attrs["source_format"] = source_format
    obj.attrs["neurodata_version"] = __version__
    return append_history(obj, f"read {os.path.basename(os.fspath(source))} ({source_format})")


def append_history(obj: xr.Dataset | xr.DataArray, line: str) -> xr.Dataset | xr.DataArray:
    """Append one line to ``attrs["history"]`` (a newline-separated string, as in CF).

    Returns a shallow copy; ``obj`` is not modified.
    """
    obj = obj.copy(deep=False)
    obj.attrs = dict(obj.attrs)
    previous = obj.attrs.get("history")
    obj.attrs["history"] = f"{previous}\n{line}" if previous else line
    return obj
