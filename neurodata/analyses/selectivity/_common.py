"""Coercion gates of the selectivity analyses: unit activations and condition labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError

__all__ = ["as_activation", "as_labels", "as_unit_map", "from_features", "unit_matrix"]


def as_activation(activation: Any, dim: str, *, name: str = "activation") -> xr.DataArray:
    """The (``dim``, ``layer``, ``unit``, ...) DataArray of ``activation`` (a Dataset's
    ``activation`` variable), ``dim`` first; extra dims are kept."""
    if isinstance(activation, xr.Dataset):
        if "activation" not in activation:
            raise SchemaError(
                f"`{name}`: a Dataset must hold an 'activation' variable; found "
                f"{sorted(map(str, activation.data_vars))}"
            )
        activation = activation["activation"]
    if not isinstance(activation, xr.DataArray):
        raise SchemaError(
            f"`{name}` must be an xarray DataArray or Dataset with dims ({dim!r}, 'layer', "
            f"'unit'); got {type(activation).__name__}"
        )
    missing = [d for d in (dim, "unit") if d not in activation.dims]
    if missing:
        raise SchemaError(
            f"`{name}` has dims {tuple(map(str, activation.dims))}; expected {dim!r} and 'unit' "
            "(and usually 'layer', as extract_activations writes)"
        )
    return activation.transpose(dim, ...)


def as_labels(
    activation: xr.DataArray, labels: Any, dim: str, *, name: str = "condition"
) -> np.ndarray:
    """Labels along ``dim``: a coordinate name of ``activation``, a DataArray or an array."""
    if isinstance(labels, str):
        if labels not in activation.coords:
            raise SchemaError(
                f"`{name}`={labels!r} is not a coordinate of the activations; found "
                f"{sorted(str(c) for c in activation.coords if activation[c].dims == (dim,))}"
            )
        labels = activation.coords[labels]
    if isinstance(labels, xr.DataArray):
        if labels.dims != (dim,):
            raise SchemaError(f"`{name}` has dims {labels.dims}; expected ({dim!r},)")
        values = np.asarray(labels.values)
    else:
        values = np.asarray(labels)
    if values.shape != (activation.sizes[dim],):
        raise SchemaError(
            f"`{name}` holds {values.size} labels; expected one per {dim!r} "
            f"({activation.sizes[dim]})"
        )
    return values


def as_unit_map(data: Any, *, name: str, var: str = "statistic") -> xr.DataArray:
    """A (``layer``, ``unit``, ...) map: a DataArray, or ``var`` of a Dataset."""
    if isinstance(data, xr.Dataset):
        if var not in data:
            raise SchemaError(
                f"`{name}`: a Dataset must hold {var!r}; found {sorted(map(str, data.data_vars))}"
            )
        data = data[var]
    if not isinstance(data, xr.DataArray) or "unit" not in data.dims:
        found = tuple(map(str, data.dims)) if isinstance(data, xr.DataArray) else type(data)
        raise SchemaError(f"`{name}` must be a DataArray with a 'unit' dim; got {found}")
    return data


def unit_matrix(activation: xr.DataArray, dim: str) -> tuple[np.ndarray, xr.DataArray]:
    """(``dim``, features) float64 matrix of ``activation`` (``dim`` first) and the template
    (the other dims, with their coordinates) that [`from_features`][] fills back."""
    template = activation.isel({dim: 0}, drop=True)
    values = np.asarray(activation.values, dtype=np.float64).reshape(activation.sizes[dim], -1)
    return values, template


def from_features(
    values: np.ndarray, template: xr.DataArray, name: str, **attrs: Any
) -> xr.DataArray:
    """A flat feature vector back onto the template's dims and coordinates."""
    out = template.copy(data=np.asarray(values).reshape(template.shape))
    out.name = name
    out.attrs = attrs
    return out
