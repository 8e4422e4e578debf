"""Topological RSA (tRSA): geo-topological and geodesic transforms of RDMs.

Lin & Kriegeskorte, "The topology and geometry of neural representations",
PNAS 2024 (arXiv:2309.11028); reference code: github.com/doerlbh/TopologicalRSA.

Per RDM (never pooled across RDMs):

1. rank-transform the dissimilarities and scale the ranks to [0, 1];
2. take the `lower` and `upper` quantiles *of that RDM* as thresholds;
3. the geo-topological matrix (RGTM) is 0 below `lower`, 1 above `upper` and
   linear in between;
4. the geodesic matrix (RGDM) is the shortest-path distance on the graph whose
   edges are the RGTM entries below 1 (pairs above `upper` are not connected),
   rank-transformed again.

Models are selected by leave-one-subject-out nearest-centroid identification of
the region (or layer) label over a grid of (lower, upper) ([`model_selection`][]).
Inputs are never modified. See ``docs/rsa.md`` for how this differs from
``rsatoolbox.rdm.transform.geotopological_transform``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _bar
from ...errors import SchemaError
from ._rdm import _pick, as_rdms, rank

__all__ = [
    "FAMILIES",
    "TRANSFORMS",
    "family",
    "geodesic",
    "geotopological",
    "lu_grid",
    "model_selection",
    "nearest_centroid_accuracy",
]


def _check_lu(lower: float, upper: float) -> tuple[float, float]:
    lower, upper = float(lower), float(upper)
    if not (0.0 <= lower <= upper <= 1.0):
        raise SchemaError(
            f"`lower` and `upper` must satisfy 0 <= lower <= upper <= 1; got {lower}, {upper}"
        )
    return lower, upper


def _gt_vectors(v: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Geo-topological transform of each row of ``v`` (no NaN), per-row quantiles."""
    r = rank(v)
    lo = r.min(axis=1, keepdims=True)
    hi = r.max(axis=1, keepdims=True)
    span = np.where(hi > lo, hi - lo, 1.0)
    r = (r - lo) / span
    q = np.quantile(r, [lower, upper], axis=1)
    gmin, gmax = q[0][:, None], q[1][:, None]
    width = np.where(gmax > gmin, gmax - gmin, np.inf)  # l == u: a step at the threshold
    out = np.clip((r - gmin) / width, 0.0, 1.0)
    out[r > gmax] = 1.0
    out[r < gmin] = 0.0
    return out


def _apply(
    rdm: xr.DataArray, dim: str | None, func: Callable[[np.ndarray], np.ndarray]
) -> xr.DataArray:
    rdm, dim = as_rdms(rdm, dim, name="rdm")
    core = (dim, f"{dim}_2")
    extra = [d for d in rdm.dims if d not in core]
    arr = np.asarray(rdm.transpose(*extra, *core).values, dtype=float)
    n = arr.shape[-1]
    iu0, iu1 = np.triu_indices(n, k=1)
    vec = arr.reshape(-1, n, n)[:, iu0, iu1]  # fancy indexing copies: the input stays intact
    if np.isnan(vec).any():
        raise SchemaError("tRSA transforms need RDMs without NaN dissimilarities")
    vec = func(vec)
    mats = np.zeros((vec.shape[0], n, n))
    mats[:, iu0, iu1] = vec
    mats[:, iu1, iu0] = vec
    out = xr.DataArray(
        mats.reshape(arr.shape),
        dims=(*extra, *core),
        coords={k: c for k, c in rdm.coords.items() if set(c.dims) <= set(rdm.dims)},
    )
    return out.transpose(*rdm.dims)


def geotopological(
    rdm: xr.DataArray, lower: float, upper: float, *, dim: str | None = None
) -> xr.DataArray:
    """Representational geo-topological matrices (RGTM).

    Parameters
    ----------
    rdm : xarray.DataArray
        RDM(s) with dims (..., `dim`, `dim`_2); every RDM is transformed on its own.
    lower, upper : float
        Quantiles in [0, 1] (``lower <= upper``) of each RDM's rank-transformed
        dissimilarities: entries below the `lower` quantile become 0, above the
        `upper` quantile 1, and those in between are scaled linearly. ``(0, 1)``
        gives the rank-transformed RDM scaled to [0, 1].
    dim : str, optional
        Condition dim (default: found from the ``<dim>``/``<dim>_2`` pair).

    Returns
    -------
    xarray.DataArray
        Same dims and coords as `rdm`, values in [0, 1], zero diagonal.
    """
    lower, upper = _check_lu(lower, upper)
    out = _apply(rdm, dim, lambda v: _gt_vectors(v, lower, upper))
    out.attrs = {
        "transform": "geotopological",
        "lower": lower,
        "upper": upper,
        "long_name": "representational geo-topological matrix",
    }
    return out.rename("rgtm")


def _geodesic_vector(g: np.ndarray, n: int, zero_edges: bool) -> np.ndarray:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    iu0, iu1 = np.triu_indices(n, k=1)
    keep = g < 1.0
    if not zero_edges:
        keep &= g > 0.0
    rows, cols, w = iu0[keep], iu1[keep], g[keep]
    graph = sp.csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n, n),
    )
    dist = shortest_path(graph, directed=False)
    return rank(dist[iu0, iu1])[0]


def geodesic(
    rdm: xr.DataArray,
    lower: float,
    upper: float,
    *,
    dim: str | None = None,
    zero_edges: bool = False,
) -> xr.DataArray:
    """Representational geodesic matrices (RGDM): shortest paths on the RGTM graph, ranked.

    Each RDM is transformed by [`geotopological`][] (same ``lower`` and ``upper``); its
    entries below 1 weight a graph on the conditions (pairs above ``upper`` are not
    connected, nor pairs at 0 unless ``zero_edges``), and the shortest-path distances of
    all pairs on that graph (``scipy.sparse.csgraph.shortest_path``) are rank-transformed.
    Every RDM is transformed on its own; NaN dissimilarities raise a ValueError.

    Parameters
    ----------
    rdm : xarray.DataArray
        RDM(s) with dims (..., `dim`, `dim`_2).
    lower, upper : float
        Thresholds of [`geotopological`][].
    zero_edges : bool
        Keep the zero-weight edges (pairs below `lower`, which the transform
        identifies) as zero-length edges. Default False, as in the authors'
        reference code (doerlbh/TopologicalRSA), which builds its graph with
        ``networkx.from_numpy_array``, dropping zero entries: such pairs are only
        connected through other conditions. True makes every pair the transform
        merges geodesically identical.

    Returns
    -------
    xarray.DataArray
        Same dims as `rdm`: average ranks (1 = shortest) of the geodesic
        distances (disconnected pairs are infinitely far, ranked last), zero
        diagonal -- the authors' ``geodesic_transform(..., rank_transform_after=True)``.
    """
    lower, upper = _check_lu(lower, upper)

    def func(v: np.ndarray) -> np.ndarray:
        g = _gt_vectors(v, lower, upper)
        n = round((1 + np.sqrt(1 + 8 * v.shape[1])) / 2)
        return np.stack([_geodesic_vector(row, n, zero_edges) for row in g])

    out = _apply(rdm, dim, func)
    out.attrs = {
        "transform": "geodesic",
        "lower": lower,
        "upper": upper,
        "zero_edges": int(zero_edges),
        "long_name": "representational geodesic matrix (ranks)",
    }
    return out.rename("rgdm")


#: Transforms usable in [`model_selection`][].
TRANSFORMS: Mapping[str, Callable[..., xr.DataArray]] = {
    "geotopological": geotopological,
    "geodesic": geodesic,
}


# --------------------------------------------------------------------------------------
# named (lower, upper) families of the paper
# --------------------------------------------------------------------------------------

_TOL = 1e-3

#: The paper's families of (lower, upper), as predicates (authors' ``check_gt``).
FAMILIES: Mapping[str, Callable[[float, float], bool]] = {
    "local extractor": lambda lo, up: (lo + up) / 2 <= 0.2 + _TOL,
    "global extractor": lambda lo, up: (lo + up) / 2 >= 0.8 - _TOL,
    "geometry sensitive": lambda lo, up: up - lo >= 0.8 - _TOL,
    "topology sensitive": lambda lo, up: lo >= 0.4 - _TOL and up <= 0.6 + _TOL,
}


def family(lower: float, upper: float) -> str:
    """Name of the paper's family of a (lower, upper) pair.

    The first match in the authors' order (local extractor, global extractor,
    geometry sensitive, topology sensitive), else ``'intermediate'``. ``(0, 1)``
    (the rank-transformed RDM) is geometry sensitive.
    """
    lower, upper = _check_lu(lower, upper)
    for name, test in FAMILIES.items():
        if test(lower, upper):
            return name
    return "intermediate"


def lu_grid(resolution: float = 0.05) -> list[tuple[float, float]]:
    """All (lower, upper) with ``lower < upper`` on a lattice of step `resolution` in [0, 1]."""
    steps = round(1 / resolution)
    values = np.round(np.linspace(0.0, 1.0, steps + 1), 10)
    return [(float(lo), float(up)) for i, lo in enumerate(values) for up in values[i + 1 :]]


# --------------------------------------------------------------------------------------
# model selection
# --------------------------------------------------------------------------------------


def nearest_centroid_accuracy(
    vectors: np.ndarray, subjects: np.ndarray, labels: np.ndarray
) -> float:
    """Leave-one-subject-out nearest-centroid identification accuracy.

    For each subject, the centroid of every label is the mean vector of the
    other subjects' rows with that label; each of the subject's rows is given
    the label of the nearest centroid (Euclidean; ties go to the first label in
    sorted order, as in scikit-learn's ``NearestCentroid``).

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(n_row, n_feature)`` (vectorised RDMs).
    subjects, labels : numpy.ndarray
        ``(n_row,)`` subject and label of every row.

    Returns
    -------
    float
        Fraction of rows whose label is identified.
    """
    vectors = np.asarray(vectors, dtype=float)
    subjects = np.asarray(subjects)
    labels = np.asarray(labels)
    classes, y = np.unique(labels, return_inverse=True)
    hits = 0
    for s in np.unique(subjects):
        test = subjects == s
        train = ~test
        cent = np.stack([vectors[train & (y == c)].mean(axis=0) for c in range(classes.size)])
        d = (
            (vectors[test] ** 2).sum(axis=1)[:, None]
            - 2 * vectors[test] @ cent.T
            + (cent**2).sum(axis=1)[None, :]
        )
        hits += int((d.argmin(axis=1) == y[test]).sum())
    return hits / labels.size


def model_selection(
    rdms: xr.DataArray,
    *,
    label: str = "region",
    over: str = "subject",
    dim: str | None = None,
    grid: Any = None,
    transform: str = "geotopological",
    progress: bool | None = None,
) -> xr.DataArray:
    """Identification accuracy of each (lower, upper) by LOSO nearest centroid.

    At every (lower, upper) of ``grid``, each RDM is transformed (``transform``) and
    vectorised, and [`nearest_centroid_accuracy`][] leaves out one subject at a time,
    identifying the ``label`` of its RDMs from the centroids of the other subjects'. The
    pair of highest accuracy is the transform that best tells the regions (or layers)
    apart; chance is 1 / the number of labels.

    Parameters
    ----------
    rdms : xarray.DataArray
        Dims (`over`, `label`, `dim`, `dim`_2): one RDM per subject and region
        (or per model instance and layer).
    label : str
        Dim holding what is identified (``region``, ``layer``).
    over : str
        Dim of the independent subjects (left out in turn).
    grid : sequence of (float, float), optional
        (lower, upper) pairs; default [`lu_grid`][] ``(0.05)``.
    transform : str
        ``'geotopological'`` or ``'geodesic'``.
    progress : bool or None
        A progress bar over the grid (None: ``nd.config``).

    Returns
    -------
    xarray.DataArray
        Accuracy with dims (``lower``, ``upper``); NaN where the grid has no pair.
        attrs ``best_lower``/``best_upper`` (first best pair).
    """
    func = _pick(TRANSFORMS, transform, "transform")
    rdms, dim = as_rdms(rdms, dim, name="rdms")
    for d in (label, over):
        if d not in rdms.dims:
            raise SchemaError(f"rdms: expected a {d!r} dim; found {rdms.dims}")
    rdms = rdms.transpose(over, label, dim, f"{dim}_2")
    n_sub, n_lab = rdms.sizes[over], rdms.sizes[label]
    subjects = np.repeat(np.arange(n_sub), n_lab)
    labels = np.tile(np.arange(n_lab), n_sub)
    pairs = lu_grid() if grid is None else [tuple(map(float, p)) for p in grid]
    lowers = sorted({p[0] for p in pairs})
    uppers = sorted({p[1] for p in pairs})
    acc = np.full((len(lowers), len(uppers)), np.nan)
    n = rdms.sizes[dim]
    iu0, iu1 = np.triu_indices(n, k=1)
    for lo, up in _bar(pairs, desc="(lower, upper) grid", enabled=resolve("progress", progress)):
        t = func(rdms, lo, up, dim=dim).values.reshape(-1, n, n)[:, iu0, iu1]
        acc[lowers.index(lo), uppers.index(up)] = nearest_centroid_accuracy(t, subjects, labels)
    out = xr.DataArray(
        acc, dims=("lower", "upper"), coords={"lower": lowers, "upper": uppers}, name="accuracy"
    )
    best = np.unravel_index(np.nanargmax(acc), acc.shape)
    out.attrs = {
        "transform": transform,
        "label": label,
        "over": over,
        "best_lower": lowers[best[0]],
        "best_upper": uppers[best[1]],
        "long_name": "LOSO nearest-centroid identification accuracy",
    }
    return out
