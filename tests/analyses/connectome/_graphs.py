"""Planted weighted block graphs as pair loadings (component, pair), shared by the tests."""

from __future__ import annotations

import numpy as np
import xarray as xr


def block_loadings(sizes, within=1.0, between=0.05, seed=0):
    """Pair loadings of blocks of ``sizes`` neurons: (loadings, labels, names)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    names = np.array([f"N{k:02d}" for k in range(labels.size)])
    iu, ju = np.triu_indices(labels.size, k=1)
    w = np.where(labels[iu] == labels[ju], within, between) * rng.uniform(0.8, 1.2, iu.size)
    da = xr.DataArray(
        w[None],
        dims=("component", "pair"),
        coords={"component": [0], "neuron_i": ("pair", names[iu]), "neuron_j": ("pair", names[ju])},
    )
    return da, labels, names
