"""Input coercion for encoding models: arrays or labelled data -> (samples, columns) matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ...schema import as_dataarray
from . import _ridge

_SAMPLE_DIMS = ("time", "sample", "stimulus")  # stimulus: encoding over a stimulus set (images)


def _sample_dim(da: xr.DataArray, what: str) -> str:
    for dim in _SAMPLE_DIMS:
        if dim in da.dims:
            return dim
    raise SchemaError(
        f"{what}: expected a sample dim {list(_SAMPLE_DIMS)}; got dims {tuple(map(str, da.dims))}"
    )


def _as_matrix(obj: Any, what: str, column_dim: str) -> tuple[np.ndarray, xr.DataArray | None]:
    """2-D (samples, columns) array and, for labelled input, the column template.

    The template is a 1-d DataArray along ``column_dim`` carrying the input's
    coordinates (stacked into a MultiIndex when several dims make the columns).
    """
    if isinstance(obj, xr.DataArray | xr.Dataset):
        da = as_dataarray(obj, name=what)
        sample = _sample_dim(da, what)
        others = [str(d) for d in da.dims if d != sample]
        if not others:
            da = da.expand_dims({column_dim: 1}, axis=-1)
        elif len(others) == 1:
            if others[0] != column_dim:
                da = da.rename({others[0]: column_dim})
        else:
            da = da.stack({column_dim: others})
        da = da.transpose(sample, column_dim)
        template = da.isel({sample: 0}, drop=True)
        template = template.drop_vars([c for c in template.coords if sample in da[c].dims])
        return np.asarray(da.values), template
    arr = np.asarray(obj)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise SchemaError(
            f"{what}: expected a 2-d array (samples, {column_dim}s); got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise SchemaError(f"{what}: expected numbers; got dtype {arr.dtype}")
    return arr, None


def _column_array(values: np.ndarray, template: xr.DataArray | None, dim: str) -> xr.DataArray:
    """A 1-d DataArray along ``dim`` with the template's coordinates (or a range)."""
    if template is None:
        return xr.DataArray(values, dims=(dim,), coords={dim: np.arange(values.shape[-1])})
    return xr.DataArray(values, dims=(dim,), coords=dict(template.coords.items()))


def _groups(groups: Any, *objs: Any) -> Any:
    """A coordinate name (e.g. "run") is looked up on the labelled inputs."""
    if isinstance(groups, str):
        for obj in objs:
            if isinstance(obj, xr.DataArray | xr.Dataset) and groups in obj.coords:
                return np.asarray(obj.coords[groups].values)
        raise SchemaError(f"`groups`: no coordinate {groups!r} on the inputs")
    return groups


def _check_pair(X: np.ndarray, Y: np.ndarray) -> None:
    if X.shape[0] != Y.shape[0]:
        raise SchemaError(
            f"features and responses must have the same number of samples; got {X.shape[0]} and "
            f"{Y.shape[0]}"
        )
    for name, arr in (("features", X), ("responses", Y)):
        if not np.all(np.isfinite(arr)):
            raise SchemaError(f"{name}: hold NaN or infinite values; expected finite numbers")


_BACKENDS = ("numpy", "torch")


def _pick_backend(backend: str) -> str:
    if backend not in _BACKENDS:
        raise SchemaError(f"`backend` must be one of {sorted(_BACKENDS)}; got {backend!r}")
    return backend


def _dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise SchemaError(f"`dtype` must be one of ['float32', 'float64']; got {str(dtype)!r}")
    return dtype


def _pick_score(scoring: str) -> str:
    if scoring not in _ridge.SCORES:
        raise SchemaError(f"`scoring` must be one of {sorted(_ridge.SCORES)}; got {scoring!r}")
    return scoring


def _stack_responses(responses: xr.DataArray) -> tuple[xr.DataArray, list[str]]:
    """(time, target) with ``subject`` kept apart: returns the 2-D array and extra dims."""
    sample = _sample_dim(responses, "responses")
    extra = [d for d in ("subject",) if d in responses.dims]
    targets = [str(d) for d in responses.dims if d != sample and d not in extra]
    if not targets:
        raise SchemaError(
            f"responses: expected dims ({sample!r}, <target dim>[, 'subject']); got "
            f"{tuple(map(str, responses.dims))}"
        )
    return responses, extra


def _check_constant(Y: np.ndarray, labels: Any) -> None:
    constant = np.ptp(Y, axis=0) == 0
    if constant.any():
        bad = np.asarray(labels)[constant][:6].tolist()
        raise SchemaError(
            f"responses: {int(constant.sum())} target(s) are constant over time (e.g. {bad}); "
            "a constant time course cannot be scored (all-zero data of an excluded subject?); "
            "drop them before encoding"
        )


def _sampling_period(*objs: Any) -> float:
    """Sampling period (s) from ``attrs["sfreq"]`` or a regular ``time`` coordinate."""
    for obj in objs:
        if not isinstance(obj, xr.DataArray | xr.Dataset):
            continue
        sfreq = obj.attrs.get("sfreq")
        if sfreq:
            return 1.0 / float(sfreq)
        if "time" in obj.coords and obj.sizes.get("time", 0) > 1:
            times = np.asarray(obj["time"].values, dtype=float)
            steps = np.diff(times)
            if np.allclose(steps, steps[0], rtol=1e-3) and steps[0] > 0:
                return float(steps[0])
    raise SchemaError(
        "`drift_cutoff` needs the sampling period: give labelled data with attrs['sfreq'] or a "
        "regular 'time' coordinate, or pass `tr`"
    )
