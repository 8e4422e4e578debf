"""How an RDM comparison and its ranking of layers change when units or stimuli are subsampled.

Shi, Shea-Brown & Buice (2019) showed that the brain-model similarity of
mouse visual cortex and its ranking of network layers depend on how many
neurons were recorded: [`subsampling_curve`][] measures that dependence on
one's own data, for the brain's neurons/voxels (``over="unit"``) or for the
stimuli (``over="stimulus"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _progress
from ..._registry import check_int
from ..._registry import pick as _pick
from ...errors import SchemaError
from ._compare_methods import COMPARE_METHODS, compare_vectors
from ._layers import layer_matrices
from ._rdm_methods import RDM_KERNELS

__all__ = ["SUBSAMPLE_OVER", "subsampling_curve"]

#: What [`subsampling_curve`][] can subsample.
SUBSAMPLE_OVER = ("unit", "stimulus")


def _brain_vector(
    brain: xr.DataArray, dim: str, rdm_method: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(patterns (n, f), None) for brain patterns or (None, square RDM) for a brain RDM."""
    if f"{dim}_2" in brain.dims:
        extra = [d for d in brain.dims if d not in (dim, f"{dim}_2")]
        if extra:
            raise SchemaError(f"brain: one RDM expected; found extra dims {extra} (select one)")
        return None, np.asarray(brain.transpose(dim, f"{dim}_2").values, dtype=float)
    _, mats, _ = layer_matrices(brain, dim, layer_dim="__none__", name="brain")
    return mats[0], None


def _default_sizes(n: int, low: int) -> np.ndarray:
    return np.unique(np.geomspace(min(low, n), n, 8).round().astype(int))


def subsampling_curve(
    patterns: Any,
    brain: Any,
    over: str = "unit",
    sizes: Sequence[int] | None = None,
    n_draws: int = 20,
    *,
    method: str = "spearman",
    rdm_method: str = "correlation",
    dim: str = "stimulus",
    seed: int = 0,
    progress: bool | None = None,
) -> xr.Dataset:
    """The comparison of every layer with the brain as units or stimuli are subsampled.

    For each size, ``n_draws`` random subsets (without replacement) of the brain's units
    give new brain RDMs (``rdm_method``), or subsets of the stimuli restrict the brain and
    model RDMs alike; each draw is compared with every layer by ``method``. A ``similarity``
    still rising at the largest sizes, or a ``p_same_best`` well below 1, means the score
    or the best layer would change with more recorded units (Shi et al. 2019).

    Parameters
    ----------
    patterns : xarray.DataArray
        Model patterns, dims (``layer``, `dim`, ``unit``) (e.g. from
        [`neurodata.models.extract_activations`][]; NaN-padded units of
        narrower layers are dropped) or (`dim`, ``unit``) for one layer.
    brain : xarray.DataArray
        Brain patterns (`dim`, ``neuron``|``voxel``|``unit``|...) or, for
        ``over="stimulus"`` only, a brain RDM (`dim`, `dim`_2).
    over : {"unit", "stimulus"}
        Draw subsets of the brain's neurons/voxels (the model keeps all its
        units), or subsets of the stimuli (both sides).
    sizes : sequence of int, optional
        Subset sizes (default 8 sizes, geometric, up to all).
    n_draws : int
        Random subsets per size (without replacement).
    method : str
        RDM comparison (see `COMPARE_METHODS`).
    rdm_method : str
        Dissimilarity of the RDMs (default ``"correlation"``).
    dim : str
        The condition dim.
    seed : int
        Seed of the draws.
    progress : bool, optional
        A progress bar over sizes (default: ``nd.config``).

    Returns
    -------
    xarray.Dataset
        ``similarity`` (``size``, ``draw``, ``layer``); ``full`` (``layer``): the
        comparison on all data; ``best_layer`` (``size``, ``draw``); ``p_same_best``
        (``size``): how often a draw picks the full-data best layer;
        ``rank_agreement`` (``size``): mean Spearman correlation between a draw's
        layer profile and the full profile. attrs: ``over``, ``method``, ...
    """
    over = _pick(SUBSAMPLE_OVER, over, "over")
    _pick(COMPARE_METHODS, method, "method")
    _pick(RDM_KERNELS, rdm_method, "rdm_method")
    n_draws = check_int(n_draws, "n_draws", minimum=1)
    names, mats, data = layer_matrices(patterns, dim)
    if not isinstance(brain, xr.DataArray):
        raise TypeError(f"brain: expected an xarray DataArray; got {type(brain).__name__}")
    if dim not in brain.dims or brain.sizes[dim] != data.sizes[dim]:
        raise SchemaError(
            f"brain: needs the {data.sizes[dim]} conditions of the patterns along {dim!r}; has "
            f"dims {dict(brain.sizes)}"
        )
    brain_x, brain_rdm = _brain_vector(brain, dim, rdm_method)
    kernel = RDM_KERNELS[rdm_method][0]
    n = data.sizes[dim]
    iu = np.triu_indices(n, k=1)
    if brain_x is None and over == "unit":
        raise SchemaError(
            "brain: over='unit' subsamples the brain's neurons/voxels, so it needs brain "
            f"patterns ({dim!r}, <neuron|voxel|...>), not an RDM; or use over='stimulus'"
        )
    model_full = [kernel(x) for x in mats]
    brain_full = kernel(brain_x) if brain_rdm is None else brain_rdm
    full = compare_vectors(brain_full[iu][None], np.stack([m[iu] for m in model_full]), method)[0]
    total = brain_x.shape[1] if over == "unit" else n
    sizes = _default_sizes(total, 4) if sizes is None else np.asarray(sizes, dtype=int)
    if (
        sizes.ndim != 1
        or sizes.size == 0
        or sizes.min() < (2 if over == "unit" else 4)
        or sizes.max() > total
    ):
        low = 2 if over == "unit" else 4
        raise SchemaError(
            f"`sizes` must be integers between {low} and {total} (the number of "
            f"{'brain units' if over == 'unit' else 'stimuli'}); got {sizes.tolist()}"
        )
    rng = np.random.default_rng(seed)
    sims = np.empty((sizes.size, n_draws, len(mats)))
    model_vecs = np.stack([m[iu] for m in model_full])
    show = resolve("progress", progress)
    for s, size in enumerate(_progress(sizes.tolist(), desc=f"subsampling {over}", enabled=show)):
        for k in range(n_draws):
            pick = np.sort(rng.choice(total, size=size, replace=False))
            if over == "unit":
                bvec = kernel(brain_x[:, pick])[iu]
                sims[s, k] = compare_vectors(bvec[None], model_vecs, method)[0]
            else:
                sub = np.triu_indices(size, k=1)
                bsq = brain_full[np.ix_(pick, pick)]
                mv = np.stack([m[np.ix_(pick, pick)][sub] for m in model_full])
                sims[s, k] = compare_vectors(bsq[sub][None], mv, method)[0]
    best = np.asarray(names, dtype=object)[np.nanargmax(sims, axis=-1)]
    full_best = names[int(np.nanargmax(full))]
    ranks = _rank_agreement(sims, full) if len(mats) > 2 else np.full(sizes.size, np.nan)
    layer = names if names != [""] else ["patterns"]
    return xr.Dataset(
        {
            "similarity": (("size", "draw", "layer"), sims),
            "full": (("layer",), full),
            "best_layer": (("size", "draw"), best),
            "p_same_best": (("size",), (best == full_best).mean(axis=1)),
            "rank_agreement": (("size",), ranks),
        },
        coords={
            "size": sizes,
            "draw": np.arange(n_draws),
            "layer": np.asarray(layer, dtype=object),
        },
        attrs={
            "over": over,
            "method": method,
            "rdm_method": rdm_method,
            "n_draws": int(n_draws),
            "seed": int(seed),
            "full_best_layer": full_best,
            "subsampled": "brain units" if over == "unit" else "stimuli (both sides)",
        },
    )


def _rank_agreement(sims: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Mean over draws of Spearman(draw profile, full profile), per size."""
    from scipy.stats import rankdata

    rf = rankdata(full)
    rf = (rf - rf.mean()) / rf.std()
    rd = rankdata(sims, axis=-1)
    rd = (rd - rd.mean(-1, keepdims=True)) / rd.std(-1, keepdims=True)
    return (rd * rf).mean(-1).mean(-1)
