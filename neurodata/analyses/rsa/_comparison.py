"""Comparing RDMs: [`compare`][]."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..._registry import pick as _pick
from ...errors import SchemaError
from ._compare_methods import COMPARE_METHODS, compare_vectors
from ._rdm import as_rdms, to_vectors

__all__ = ["compare"]


def compare(
    rdms_a: xr.DataArray,
    rdms_b: xr.DataArray,
    method: str = "spearman",
    *,
    dim: str | None = None,
    n_jobs: int | None = None,
    sigma_k: Any = None,
) -> xr.DataArray:
    """Similarity between every RDM of `rdms_a` and every RDM of `rdms_b`.

    Parameters
    ----------
    rdms_a, rdms_b : xarray.DataArray
        RDMs with dims (..., `dim`, `dim`_2) over the same conditions (same
        order). Extra dims (``subject``, ``layer``, ``model`` ...) are crossed.
    method : str
        One of `COMPARE_METHODS`: ``'cosine'``, ``'pearson'`` (alias
        ``'corr'``), ``'spearman'``, ``'rho-a'`` (Spearman without tie
        correction, rsatoolbox's definition), ``'tau-a'`` (Kendall's tau-a),
        ``'tau-b'`` (alias ``'kendall'``), ``'cosine_cov'`` and ``'corr_cov'``
        (cosine/correlation after whitening the RDM entries by the covariance
        of their estimates, Diedrichsen et al. 2021; for i.i.d. pattern noise
        this compares the double-centred second-moment matrices).
        Rank-based methods rank every RDM once.
    dim : str, optional
        Condition dim (default: found from the ``<dim>``/``<dim>_2`` pair).
    n_jobs : int or None
        Threads (``-1``: all CPUs; None: ``nd.config``'s ``n_jobs``, else 1) sharing the ranking of the
        rank-based methods and the pair counts of the Kendall methods. The
        Kendall counts are compiled with numba when it is installed
        (``pip install 'neurodata[rsa]'``), 1.5-2x faster than without.
    sigma_k : array_like or xarray.DataArray, optional
        For ``'cosine_cov'``/``'corr_cov'``: covariance of the condition
        patterns' noise, as rsatoolbox's ``sigma_k`` -- variances ``(dim,)`` or
        a covariance ``(dim, dim_2)`` (a DataArray is put in that order and
        its condition labels must match). Default: i.i.d. (identity).

    Returns
    -------
    xarray.DataArray
        Dims (extra dims of `rdms_a`, extra dims of `rdms_b`); a dim of
        `rdms_b` that `rdms_a` also has gets the suffix ``_2``. attrs: ``method``.
    """
    _pick(COMPARE_METHODS, method, "method")
    rdms_a, dim = as_rdms(rdms_a, dim, name="rdms_a")
    rdms_b, _ = as_rdms(rdms_b, dim, name="rdms_b")
    coord = rdms_a.coords[dim] if dim in rdms_a.coords else None
    other = rdms_b.coords[dim] if dim in rdms_b.coords else None
    if rdms_a.sizes[dim] != rdms_b.sizes[dim]:
        raise SchemaError(
            f"rdms_b: has {rdms_b.sizes[dim]} conditions along {dim!r}; rdms_a has {rdms_a.sizes[dim]}"
        )
    if coord is not None and other is not None and not np.array_equal(coord.values, other.values):
        raise SchemaError(f"rdms_b: {dim!r} labels differ from those of rdms_a (reorder with .sel)")
    if isinstance(sigma_k, xr.DataArray):
        sigma_k = _sigma_k_values(sigma_k, dim, coord)
    va, ta = to_vectors(rdms_a, dim)
    vb, tb = to_vectors(rdms_b, dim)
    sims = compare_vectors(va, vb, method, n_jobs=n_jobs, sigma_k=sigma_k)
    rename = {d: f"{d}_2" for d in tb.dims if d in ta.dims}
    tb = tb.rename(rename) if rename else tb
    dims = [*ta.dims, *tb.dims]
    shape = [*ta.shape, *tb.shape]
    coords = {k: v for k, v in ta.coords.items()}
    coords.update({k: v for k, v in tb.coords.items()})
    result = xr.DataArray(sims.reshape(shape), dims=dims, coords=coords, name="similarity")
    result.attrs = {"method": method, "long_name": f"RDM similarity ({method})"}
    if sigma_k is not None:
        result.attrs["sigma_k"] = "given"
    return result


def _sigma_k_values(sigma_k: xr.DataArray, dim: str, coord: xr.DataArray | None) -> np.ndarray:
    """Values of a labelled ``sigma_k`` with dims (`dim`,) or (`dim`, `dim`_2), checked labels."""
    want = (dim,) if sigma_k.ndim == 1 else (dim, f"{dim}_2")
    if set(sigma_k.dims) != set(want):
        raise SchemaError(f"sigma_k: expected dims {want}; found {sigma_k.dims}")
    sigma_k = sigma_k.transpose(*want)
    if coord is not None:
        for d in want:
            if d in sigma_k.coords and not np.array_equal(sigma_k.coords[d].values, coord.values):
                raise SchemaError(f"sigma_k: {d!r} labels differ from those of the RDMs")
    return np.asarray(sigma_k.values, dtype=float)
