"""Per-layer pattern matrices of activations whose layers differ in width (NaN-padded units)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ._rdm import as_patterns

__all__ = ["layer_matrices", "rdm_vectors"]


def layer_matrices(
    patterns: Any, dim: str = "stimulus", layer_dim: str = "layer", *, name: str = "patterns"
) -> tuple[list[str], list[np.ndarray], xr.DataArray]:
    """(layer names, (n_condition, n_feature) matrices, the patterns) of every layer.

    Features that are NaN for every condition of a layer are padding (layers
    narrower than the widest, as [`neurodata.models.extract_activations`][]
    returns them) and are dropped; any other NaN is an error. Patterns without
    `layer_dim` give one unnamed layer (``""``).
    """
    data, feature = as_patterns(patterns, dim, name=name)
    extra = [d for d in data.dims if d not in (dim, feature, layer_dim)]
    if extra:
        raise SchemaError(
            f"{name}: has dims {data.dims}; expected ({layer_dim!r},) {dim!r}, {feature!r} "
            f"(select or stack {extra} first)"
        )
    if layer_dim in data.dims:
        names = [str(v) for v in data[layer_dim].values]
        stack = np.asarray(data.transpose(layer_dim, dim, feature).values, dtype=float)
    else:
        names, stack = [""], np.asarray(data.transpose(dim, feature).values, dtype=float)[None]
    out = []
    for layer, x in zip(names, stack):
        x = x[:, ~np.isnan(x).all(axis=0)]
        if x.shape[1] == 0 or not np.isfinite(x).all():
            raise SchemaError(
                f"{name}: layer {layer!r} holds NaN or infinite values (beyond NaN padding of "
                "whole units) or no units"
            )
        out.append(x)
    return names, out, data


def rdm_vectors(matrices: list[np.ndarray], method: str) -> np.ndarray:
    """Upper-triangle RDM vectors (scipy squareform order) of each pattern matrix."""
    from ._rdm_methods import RDM_KERNELS

    kernel = RDM_KERNELS[method][0]
    n = matrices[0].shape[0]
    iu = np.triu_indices(n, k=1)
    return np.stack([kernel(x)[iu] for x in matrices])
