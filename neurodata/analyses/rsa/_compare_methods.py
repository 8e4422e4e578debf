"""Numpy kernels behind [`neurodata.analyses.rsa.compare`][]: ranks and similarity measures.

Inputs are RDM vectors (upper triangles, one RDM per row); outputs are
``(n_a, n_b)`` similarity matrices. Rank-based measures rank (or sort) each
vector once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

import numpy as np

from ..._config import resolve_n_jobs
from ..._registry import pick as _pick
from ..._threads import blas_threads
from ...errors import SchemaError
from ._kendall import kendall
from ._sorting import argsort

__all__ = ["COMPARE_METHODS", "compare_vectors", "rank"]


def _rank_row(row: np.ndarray, out: np.ndarray) -> None:
    m = row.size
    order, maybe_ties = argsort(row)
    if not maybe_ties:
        out[order] = np.arange(1, m + 1, dtype=float)
        return
    srt = row[order]
    new = np.empty(m, dtype=bool)
    new[0] = True
    np.not_equal(srt[1:], srt[:-1], out=new[1:])
    if new.all():
        out[order] = np.arange(1, m + 1, dtype=float)
        return
    dense = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], m)
    out[order] = (0.5 * (starts + ends + 1))[dense]


def rank(vectors: np.ndarray, *, n_jobs: int | None = None) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of every row; like ``scipy.stats.rankdata``.

    One sort per row (see `_sorting.argsort`) and a scatter; the tie pass runs
    only for rows that may have ties. ``n_jobs`` threads share the rows (numpy sorts without
    the GIL; None: ``nd.config``'s ``n_jobs``, else 1).
    """
    n_jobs = resolve_n_jobs(n_jobs)
    v = np.atleast_2d(np.asarray(vectors, dtype=float))
    out = np.empty(v.shape, dtype=float)
    if n_jobs == 1 or len(v) == 1:
        for row, dest in zip(v, out):
            _rank_row(row, dest)
        return out
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        list(pool.map(_rank_row, v, out))
    return out


def _cosine(va: np.ndarray, vb: np.ndarray) -> np.ndarray:
    na = np.sqrt(np.einsum("ij,ij->i", va, va))
    nb = np.sqrt(np.einsum("ij,ij->i", vb, vb))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (va @ vb.T) / na[:, None] / nb[None, :]
    out[(na == 0)[:, None] | (nb == 0)[None, :]] = 0.0  # rsatoolbox: 0 for zero vectors
    return out


def _center(v: np.ndarray) -> np.ndarray:
    return v - v.mean(axis=1, keepdims=True)


def _whitening(sigma_k: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(W, w): W = sigma_k^(-1/2) (a vector if diagonal) and w = W 1; None for i.i.d. noise."""
    if sigma_k is None:
        return None
    sig = np.asarray(sigma_k, dtype=float)
    if sig.shape == (n,):
        if not (np.all(np.isfinite(sig)) and np.all(sig > 0)):
            raise SchemaError("`sigma_k` (condition variances) must be finite and positive")
        root = 1.0 / np.sqrt(sig)
        return root, root
    if sig.shape != (n, n):
        raise SchemaError(
            f"`sigma_k` must be a ({n},) vector of variances or a ({n}, {n}) covariance "
            f"of the condition patterns; got shape {sig.shape}"
        )
    if not np.allclose(sig, sig.T, rtol=1e-10, atol=1e-12 * np.abs(sig).max()):
        raise SchemaError("`sigma_k` must be symmetric")
    vals, vecs = np.linalg.eigh(sig)
    if vals.min() <= 1e-12 * max(vals.max(), 0.0):
        raise SchemaError("`sigma_k` must be positive definite")
    root = (vecs / np.sqrt(vals)) @ vecs.T
    return root, root.sum(axis=1)


def _whitened(vectors: np.ndarray, n: int, sigma_k: np.ndarray | None = None) -> np.ndarray:
    """RDM vectors in the coordinates where their noise is i.i.d. (Diedrichsen et al. 2021).

    With V = (C Σ Cᵀ)∘(C Σ Cᵀ) the covariance of the distance estimates (C the
    pairwise contrasts, Σ = `sigma_k`, identity by default), ``d1ᵀ V⁻¹ d2`` equals
    the Frobenius product of ``H = Q Σ^(-1/2) (-D/2) Σ^(-1/2) Q`` (Q projects out
    w = Σ^(-1/2) 1). Returned: the upper triangles of H scaled by √2 and its
    diagonal, so that dot products of rows are ``d1ᵀ V⁻¹ d2`` up to one constant.
    With Σ = I, H is the double-centred -D/2 (rsatoolbox's fast path); with a
    full Σ it is the exact solution that rsatoolbox approximates by conjugate
    gradients.
    """
    white = _whitening(sigma_k, n)
    iu = np.triu_indices(n, k=1)
    n_vec = vectors.shape[0]
    out = np.empty((n_vec, iu[0].size + n))
    chunk = max(1, int(2**24 // (n * n)))  # ~128 MiB of n x n matrices at a time
    for start in range(0, n_vec, chunk):
        v = vectors[start : start + chunk]
        g = np.zeros((v.shape[0], n, n))
        g[:, iu[0], iu[1]] = -0.5 * v
        g = g + np.swapaxes(g, 1, 2)
        if white is None:
            g -= g.mean(axis=1, keepdims=True)
            g -= g.mean(axis=2, keepdims=True)
        else:
            root, w = white
            if root.ndim == 1:
                g *= root[:, None] * root[None, :]
            else:
                g = root @ g @ root
            # Q g Q with Q = I - w wᵀ / wᵀw, as rank-one corrections
            ww = w @ w
            gw = g @ w  # (c, n); g is symmetric
            wgw = gw @ w
            g = (
                g
                - (gw[:, :, None] * w[None, None, :] + w[None, :, None] * gw[:, None, :]) / ww
                + wgw[:, None, None] * np.outer(w, w)[None] / ww**2
            )
        out[start : start + chunk, : iu[0].size] = g[:, iu[0], iu[1]] * np.sqrt(2.0)
        out[start : start + chunk, iu[0].size :] = np.diagonal(g, axis1=1, axis2=2)
    return out


def _n_from_pairs(n_pair: int) -> int:
    return round((1 + np.sqrt(1 + 8 * n_pair)) / 2)


def _cmp_cosine(va, vb, **_):
    return _cosine(va, vb)


def _cmp_pearson(va, vb, **_):
    return _cosine(_center(va), _center(vb))


def _centred_ranks(v: np.ndarray, n_jobs: int) -> np.ndarray:
    r = rank(v, n_jobs=n_jobs)
    r -= (v.shape[1] + 1) / 2.0  # the mean of 1..m, with or without ties
    return r


def _cmp_spearman(va, vb, n_jobs=1, **_):
    return _cosine(_centred_ranks(va, n_jobs), _centred_ranks(vb, n_jobs))


def _cmp_rho_a(va, vb, n_jobs=1, **_):
    m = va.shape[1]
    return _centred_ranks(va, n_jobs) @ _centred_ranks(vb, n_jobs).T * 12.0 / (m**3 - m)


def _cmp_tau_a(va, vb, n_jobs=1, **_):
    return kendall(va, vb, "tau-a", n_jobs=n_jobs)


def _cmp_tau_b(va, vb, n_jobs=1, **_):
    return kendall(va, vb, "tau-b", n_jobs=n_jobs)


def _cmp_cosine_cov(va, vb, n, sigma_k=None, **_):
    return _cosine(_whitened(va, n, sigma_k), _whitened(vb, n, sigma_k))


def _cmp_corr_cov(va, vb, n, sigma_k=None, **_):
    return _cosine(_whitened(_center(va), n, sigma_k), _whitened(_center(vb), n, sigma_k))


#: RDM comparison methods (similarities; higher = more similar).
COMPARE_METHODS: Mapping[str, Callable[..., np.ndarray]] = {
    "cosine": _cmp_cosine,
    "pearson": _cmp_pearson,
    "corr": _cmp_pearson,
    "spearman": _cmp_spearman,
    "rho-a": _cmp_rho_a,
    "tau-a": _cmp_tau_a,
    "tau-b": _cmp_tau_b,
    "kendall": _cmp_tau_b,
    "cosine_cov": _cmp_cosine_cov,
    "corr_cov": _cmp_corr_cov,
}

_COV_METHODS = ("cosine_cov", "corr_cov")


def compare_vectors(
    va: np.ndarray,
    vb: np.ndarray,
    method: str = "spearman",
    *,
    n_jobs: int | None = None,
    sigma_k: np.ndarray | None = None,
) -> np.ndarray:
    """Similarity of every pair of RDM vectors (rows of ``va`` x rows of ``vb``).

    Vectors are upper triangles (see [`to_vectors`][]). Entries that are NaN in
    any vector are left out of every comparison. ``n_jobs`` threads (None:
    ``nd.config``'s ``n_jobs``, else 1) share the ranking of the rank-based methods and the rows of ``va`` for the Kendall
    methods (the others are vectorised already).
    ``sigma_k`` (``(n,)`` variances or an ``(n, n)`` covariance of the condition
    patterns) whitens ``'cosine_cov'``/``'corr_cov'``.
    """
    func = _pick(COMPARE_METHODS, method, "method")
    if sigma_k is not None and method not in _COV_METHODS:
        raise SchemaError(f"`sigma_k` applies to {list(_COV_METHODS)}; got method {method!r}")
    va = np.atleast_2d(np.asarray(va, dtype=float))
    vb = np.atleast_2d(np.asarray(vb, dtype=float))
    if va.shape[1] != vb.shape[1]:
        raise SchemaError(
            f"RDM vectors differ in length: {va.shape[1]} and {vb.shape[1]} (different conditions?)"
        )
    n = _n_from_pairs(va.shape[1])
    keep = ~(np.isnan(va).any(axis=0) | np.isnan(vb).any(axis=0))
    if not keep.all():
        if method in _COV_METHODS:
            raise SchemaError(f"method {method!r} does not support NaN dissimilarities")
        va, vb = va[:, keep], vb[:, keep]
    jobs = resolve_n_jobs(n_jobs)
    with _blas_threads(jobs):
        return func(va, vb, n=n, n_jobs=jobs, sigma_k=sigma_k)


def _blas_threads(n_jobs: int) -> contextlib.AbstractContextManager:
    """BLAS limited to ``n_jobs`` threads for the products of RDM vectors.

    The products have a tiny output and a long inner dimension: on a busy
    machine a multi-threaded BLAS spins on them (measured: 2.8 s instead of
    0.08 s for 20 x 20 RDMs of 1000 conditions), on an idle one it gains little.
    """
    return blas_threads(n_jobs)
