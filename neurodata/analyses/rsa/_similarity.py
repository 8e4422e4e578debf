"""Similarity of two representations of the same conditions: linear CKA and Procrustes.

Both take patterns ``(condition, feature)`` (feature dims may differ in name and
size, e.g. ``voxel`` and ``unit``) and broadcast over any extra dims (``layer``,
``subject``): comparing every layer of a network with a brain region is one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ._rdm import _pick, as_patterns

__all__ = ["PROCRUSTES_METRICS", "linear_cka", "procrustes"]


def _centre(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=-2, keepdims=True)


def _hsic_unbiased(k: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Song et al. (2012) unbiased HSIC of Gram matrices (..., n, n)."""
    n = k.shape[-1]
    idx = np.arange(n)
    k = k.copy()
    g = g.copy()
    k[..., idx, idx] = 0.0
    g[..., idx, idx] = 0.0
    kl = np.einsum("...ij,...ij->...", k, g)
    ksum, gsum = k.sum(axis=(-2, -1)), g.sum(axis=(-2, -1))
    cross = np.einsum("...i,...i->...", k.sum(axis=-1), g.sum(axis=-1))
    return (kl + ksum * gsum / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (n * (n - 3))


def _cka_kernel(x: np.ndarray, y: np.ndarray, debiased: bool) -> np.ndarray:
    x, y = _centre(np.asarray(x, dtype=float)), _centre(np.asarray(y, dtype=float))
    if not debiased:
        xy = np.linalg.norm(np.swapaxes(x, -1, -2) @ y, axis=(-2, -1)) ** 2
        xx = np.linalg.norm(np.swapaxes(x, -1, -2) @ x, axis=(-2, -1))
        yy = np.linalg.norm(np.swapaxes(y, -1, -2) @ y, axis=(-2, -1))
        return xy / (xx * yy)
    if x.shape[-2] < 4:
        raise SchemaError(f"debiased CKA needs at least 4 conditions; got {x.shape[-2]}")
    k = x @ np.swapaxes(x, -1, -2)
    g = y @ np.swapaxes(y, -1, -2)
    return _hsic_unbiased(k, g) / np.sqrt(_hsic_unbiased(k, k) * _hsic_unbiased(g, g))


def _two(
    x: xr.DataArray, y: xr.DataArray, dim: str, fx: str | None, fy: str | None
) -> tuple[xr.DataArray, xr.DataArray, str, str]:
    x, fx = as_patterns(x, dim, fx, name="x")
    y, fy = as_patterns(y, dim, fy, name="y")
    if x.sizes[dim] != y.sizes[dim]:
        raise SchemaError(
            f"x and y must hold the same conditions; {dim!r} has {x.sizes[dim]} and {y.sizes[dim]}"
        )
    x = x.drop_vars([c for c in x.coords if dim in x.coords[c].dims])
    y = y.drop_vars([c for c in y.coords if dim in y.coords[c].dims])
    if fx == fy:
        y = y.rename({fy: f"{fy}_2"})
        fy = f"{fy}_2"
    return x, y, fx, fy


def _lift(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: xr.DataArray,
    y: xr.DataArray,
    dim: str,
    fx: str,
    fy: str,
) -> xr.DataArray:
    lazy = x.chunks is not None or y.chunks is not None
    kwargs: dict[str, Any] = {}
    if lazy:
        kwargs = {
            "dask": "parallelized",
            "output_dtypes": [float],
            "dask_gufunc_kwargs": {"allow_rechunk": True},
        }
    return xr.apply_ufunc(
        func, x, y, input_core_dims=[[dim, fx], [dim, fy]], output_core_dims=[[]], **kwargs
    )


def linear_cka(
    x: xr.DataArray,
    y: xr.DataArray,
    dim: str = "condition",
    *,
    debiased: bool = False,
    feature_dim_x: str | None = None,
    feature_dim_y: str | None = None,
) -> xr.DataArray:
    """Linear centred kernel alignment (Kornblith et al. 2019).

    Parameters
    ----------
    x, y : xarray.DataArray
        Patterns with dims (`dim`, feature) and any extra dims, which broadcast
        (e.g. ``layer`` in `x` and ``subject`` in `y` give a (layer, subject) result).
    dim : str
        Condition dim shared by `x` and `y` (same conditions, same order).
    debiased : bool
        Use the unbiased HSIC estimator (Song et al. 2012; "debiased CKA",
        Nguyen et al. 2021), which removes the upward bias of CKA when there
        are few conditions relative to features.
    feature_dim_x, feature_dim_y : str, optional
        Feature dims (default: found as in [`rdm`][neurodata.analyses.rsa.rdm]).

    Returns
    -------
    xarray.DataArray
        CKA in [0, 1] (the debiased estimate can be slightly negative), dims
        the broadcast extra dims.
    """
    x, y, fx, fy = _two(x, y, dim, feature_dim_x, feature_dim_y)
    out = _lift(lambda a, b: _cka_kernel(a, b, debiased), x, y, dim, fx, fy)
    out.attrs = {"long_name": "debiased linear CKA" if debiased else "linear CKA"}
    return out.rename("cka")


def _procrustes_kernel(x: np.ndarray, y: np.ndarray, metric: str) -> np.ndarray:
    x, y = _centre(np.asarray(x, dtype=float)), _centre(np.asarray(y, dtype=float))
    x = x / np.linalg.norm(x, axis=(-2, -1), keepdims=True)
    y = y / np.linalg.norm(y, axis=(-2, -1), keepdims=True)
    nuclear = np.linalg.svd(np.swapaxes(x, -1, -2) @ y, compute_uv=False).sum(axis=-1)
    nuclear = np.clip(nuclear, -1.0, 1.0)
    return PROCRUSTES_METRICS[metric](nuclear)


#: Procrustes metrics from the nuclear norm s = ||X^T Y||_* of normalised patterns.
PROCRUSTES_METRICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "euclidean": lambda s: np.sqrt(np.clip(2.0 - 2.0 * s, 0.0, None)),
    "angular": lambda s: np.arccos(s),
}


def procrustes(
    x: xr.DataArray,
    y: xr.DataArray,
    dim: str = "condition",
    *,
    metric: str = "euclidean",
    feature_dim_x: str | None = None,
    feature_dim_y: str | None = None,
) -> xr.DataArray:
    """Orthogonal Procrustes distance between two representations (Williams et al. 2021).

    Patterns are centred over conditions and scaled to unit Frobenius norm; the
    distance is minimised over orthogonal maps of one feature space onto the
    other (the smaller one implicitly zero-padded):
    ``min_Q ||X - Y Q||_F = sqrt(2 - 2 ||X^T Y||_*)`` (``metric='euclidean'``) or
    the angle ``arccos ||X^T Y||_*`` (``'angular'``, a metric on shapes).

    Parameters
    ----------
    x, y : xarray.DataArray
        Patterns (`dim`, feature) with any extra dims (broadcast).
    metric : str
        ``'euclidean'`` or ``'angular'``.

    Returns
    -------
    xarray.DataArray
        Distances (0 when `y` is a rotated, shifted and scaled copy of `x`).
    """
    _pick(PROCRUSTES_METRICS, metric, "metric")
    x, y, fx, fy = _two(x, y, dim, feature_dim_x, feature_dim_y)
    out = _lift(lambda a, b: _procrustes_kernel(a, b, metric), x, y, dim, fx, fy)
    out.attrs = {"long_name": f"orthogonal Procrustes distance ({metric})", "metric": metric}
    return out.rename("procrustes")
