"""Inference for RSA: noise ceilings, bootstrap, leave-one-subject-out and permutation tests.

Every random procedure takes a ``seed`` (an int, a `numpy.random.Generator`
or ``None``); nothing uses global random state.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _bar
from ..._registry import rng as _rng
from ...errors import SchemaError
from ._comparison import compare
from ._rdm import COMPARE_METHODS, _pick, as_rdms, compare_vectors, rank, to_vectors

__all__ = ["bootstrap", "loso", "noise_ceiling", "permutation_test", "pool"]


def _subject_vectors(rdms: xr.DataArray, dim: str | None, over: str) -> tuple[np.ndarray, str]:
    rdms, dim = as_rdms(rdms, dim, name="rdms")
    extra = [d for d in rdms.dims if d not in (dim, f"{dim}_2")]
    if extra != [over]:
        raise SchemaError(
            f"rdms: expected dims ({over!r}, {dim!r}, {dim + '_2'!r}); found {rdms.dims} "
            f"(select or stack the other dims first)"
        )
    vectors, _ = to_vectors(rdms, dim)
    return vectors, dim


def pool(vectors: np.ndarray, method: str) -> np.ndarray:
    """The RDM vector that best represents ``vectors`` under ``method`` (rsatoolbox's pool_rdm).

    cosine: mean of RMS-normalised vectors; pearson/corr_cov: mean of z-scored
    vectors (minus its minimum); rank methods: mean of the ranks.
    """
    _pick(COMPARE_METHODS, method, "method")
    v = np.atleast_2d(np.asarray(vectors, dtype=float))
    if method in ("cosine", "cosine_cov"):
        v = v / np.sqrt(np.nanmean(v**2, axis=1, keepdims=True))
        return np.nanmean(v, axis=0)
    if method in ("pearson", "corr", "corr_cov"):
        v = v - np.nanmean(v, axis=1, keepdims=True)
        v = v / np.nanstd(v, axis=1, keepdims=True)
        out = np.nanmean(v, axis=0)
        return out - np.nanmin(out)
    ranks = np.full(v.shape, np.nan)
    for i, row in enumerate(v):
        ok = ~np.isnan(row)
        ranks[i, ok] = rank(row[ok])[0]
    return np.nanmean(ranks, axis=0)


def noise_ceiling(
    rdms: xr.DataArray,
    method: str = "spearman",
    *,
    dim: str | None = None,
    over: str = "subject",
    n_jobs: int | None = None,
) -> xr.Dataset:
    """Lower and upper bounds of the noise ceiling (rsatoolbox's ``boot_noise_ceiling``).

    ``upper`` compares each subject's RDM with the [`pool`][] of all subjects (itself
    included), so it overestimates the score of the true model; ``lower`` compares it with
    the pool of the other subjects, which underestimates it. A model whose mean score
    reaches ``lower`` explains the data as well as the subjects explain each other.

    Parameters
    ----------
    rdms : xarray.DataArray
        One RDM per subject, dims (`over`, `dim`, `dim`_2).
    method : str
        Comparison method (see `COMPARE_METHODS`).
    over : str
        Dim of the subjects.
    n_jobs : int or None
        Threads for the comparisons (see [`compare`][neurodata.analyses.rsa.compare]).

    Returns
    -------
    xarray.Dataset
        ``lower`` (each subject against the pool of the others, averaged: the
        leave-one-subject-out bound) and ``upper`` (each subject against the pool
        of all), scalars; ``lower_per_subject``/``upper_per_subject`` along `over`.
    """
    v, _ = _subject_vectors(rdms, dim, over)
    n = v.shape[0]
    if n < 2:
        raise SchemaError(f"a noise ceiling needs at least 2 RDMs along {over!r}; got {n}")
    upper = compare_vectors(pool(v, method), v, method, n_jobs=n_jobs)[0]
    lower = np.array(
        [
            compare_vectors(pool(np.delete(v, s, axis=0), method), v[s], method, n_jobs=n_jobs)[
                0, 0
            ]
            for s in range(n)
        ]
    )
    coords = {over: rdms.coords[over]} if over in rdms.coords else {}
    return xr.Dataset(
        {
            "lower": ((), float(lower.mean())),
            "upper": ((), float(upper.mean())),
            "lower_per_subject": ((over,), lower),
            "upper_per_subject": ((over,), upper),
        },
        coords=coords,
        attrs={"method": method},
    )


def loso(
    rdms: xr.DataArray,
    models: xr.DataArray,
    method: str = "spearman",
    *,
    dim: str | None = None,
    over: str = "subject",
    n_jobs: int | None = None,
) -> xr.Dataset:
    """Leave-one-subject-out evaluation of fixed model RDMs with its noise ceiling.

    Each held-out subject's RDM is compared with every model and with the pool of
    the other subjects (the lower noise-ceiling bound for that subject).

    Parameters
    ----------
    rdms : xarray.DataArray
        Dims (`over`, `dim`, `dim`_2).
    models : xarray.DataArray
        Dims (..., `dim`, `dim`_2), e.g. (``model``, ``condition``, ``condition_2``).
    method : str
        Comparison method (see `COMPARE_METHODS`), also used for the pools.
    dim : str, optional
        The condition dim of the RDMs (default: the dim ``d`` of ``rdms`` with a ``d_2``).
    over : str
        Dim of the subjects.
    n_jobs : int or None
        Threads for the comparisons (see [`compare`][neurodata.analyses.rsa.compare]).

    Returns
    -------
    xarray.Dataset
        ``score`` (`over`, model dims), ``mean`` and ``sem`` over subjects, and
        ``lower``/``upper`` noise-ceiling bounds.
    """
    ceiling = noise_ceiling(rdms, method, dim=dim, over=over, n_jobs=n_jobs)
    score = compare(rdms, models, method, dim=dim, n_jobs=n_jobs)
    n = score.sizes[over]
    return xr.Dataset(
        {
            "score": score,
            "mean": score.mean(over),
            "sem": score.std(over, ddof=1) / np.sqrt(n),
            "lower": ceiling["lower"],
            "upper": ceiling["upper"],
        },
        attrs={"method": method},
    )


def bootstrap(
    rdms: xr.DataArray,
    models: xr.DataArray,
    method: str = "spearman",
    *,
    dim: str | None = None,
    over: str = "subject",
    resample: tuple[str, ...] = ("subject", "condition"),
    n_bootstrap: int = 1000,
    seed: int | np.random.Generator = 0,
    progress: bool | None = None,
    n_jobs: int | None = None,
) -> xr.DataArray:
    """Bootstrap distribution of the mean (over subjects) model evaluation.

    Conditions drawn more than once give pairs of identical conditions; their
    dissimilarities are left out (rsatoolbox does the same), so that the
    bootstrap never compares a pattern with itself.

    Parameters
    ----------
    rdms : xarray.DataArray
        Data RDMs, dims (`over`, `dim`, `dim`_2).
    models : xarray.DataArray
        Model RDMs, dims (..., `dim`, `dim`_2).
    method : str
        Comparison method (see `COMPARE_METHODS`).
    dim : str, optional
        The condition dim of the RDMs (default: the dim ``d`` of ``rdms`` with a ``d_2``).
    over : str
        Dim of the subjects.
    resample : tuple of str
        What to resample with replacement: ``'subject'`` and/or ``'condition'``.
    n_bootstrap : int
        Number of bootstrap samples.
    seed : int or numpy.random.Generator
        Source of randomness (default 0: reproducible).
    progress : bool or None
        A progress bar over the bootstrap samples (None: ``nd.config``).
    n_jobs : int or None
        Threads for the comparisons (see [`compare`][neurodata.analyses.rsa.compare]).

    Returns
    -------
    xarray.DataArray
        Dims (``bootstrap``, model dims): mean similarity over the resampled subjects.
    """
    _pick(COMPARE_METHODS, method, "method")
    unknown = set(resample) - {"subject", "condition"}
    if unknown:
        raise SchemaError(
            f"`resample` must hold 'subject' and/or 'condition'; got {sorted(unknown)}"
        )
    rdms, dim = as_rdms(rdms, dim, name="rdms")
    models, _ = as_rdms(models, dim, name="models")
    core = (dim, f"{dim}_2")
    data = np.asarray(rdms.transpose(over, *core).values, dtype=float)
    mextra = [d for d in models.dims if d not in core]
    mod = np.asarray(models.transpose(*mextra, *core).values, dtype=float)
    n_sub, n = data.shape[0], data.shape[-1]
    mod = mod.reshape(-1, n, n)
    rng = _rng(seed)
    iu0, iu1 = np.triu_indices(n, k=1)
    out = np.empty((n_bootstrap, mod.shape[0]))
    for b in _bar(range(n_bootstrap), desc="bootstrap", enabled=resolve("progress", progress)):
        subj = rng.integers(0, n_sub, n_sub) if "subject" in resample else np.arange(n_sub)
        cond = np.sort(rng.integers(0, n, n)) if "condition" in resample else np.arange(n)
        i, j = cond[iu0], cond[iu1]
        keep = i != j
        i, j = i[keep], j[keep]
        va = data[subj][:, i, j]
        vb = mod[:, i, j]
        out[b] = compare_vectors(va, vb, method, n_jobs=n_jobs).mean(axis=0)
    template = models.isel({dim: 0, f"{dim}_2": 0}, drop=True).transpose(*mextra)
    result = xr.DataArray(
        out.reshape(n_bootstrap, *template.shape),
        dims=("bootstrap", *template.dims),
        coords=template.coords,
        name="similarity",
    )
    result.attrs = {"method": method, "resample": ",".join(resample), "n_bootstrap": n_bootstrap}
    return result


def _pair_index(n: int) -> np.ndarray:
    """n x n matrix of positions in the upper-triangle vector (symmetric, -1 on the diagonal)."""
    idx = -np.ones((n, n), dtype=np.intp)
    iu0, iu1 = np.triu_indices(n, k=1)
    idx[iu0, iu1] = np.arange(iu0.size)
    idx[iu1, iu0] = idx[iu0, iu1]
    return idx


def _prepared(v: np.ndarray, method: str) -> np.ndarray | None:
    """Vectors mapped so that the similarity is a normalised dot product, or None."""
    if method == "cosine":
        out = v
    elif method in ("pearson", "corr"):
        out = v - v.mean(axis=1, keepdims=True)
    elif method in ("spearman", "rho-a"):
        out = rank(v)
        out = out - out.mean(axis=1, keepdims=True)
    else:
        return None
    if method == "rho-a":
        m = v.shape[1]
        return out * np.sqrt(12.0 / (m**3 - m))
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def permutation_test(
    rdms_a: xr.DataArray,
    rdms_b: xr.DataArray,
    method: str = "spearman",
    *,
    dim: str | None = None,
    n_permutations: int = 1000,
    seed: int | np.random.Generator = 0,
    progress: bool | None = None,
    n_jobs: int | None = None,
) -> xr.Dataset:
    """Condition-label permutation test of RDM similarity (one-sided, greater).

    The conditions of `rdms_b` are permuted (rows and columns together). For
    cosine, Pearson, Spearman and rho-a every RDM is ranked/centred once and a
    permutation only re-indexes the prepared vectors. ``n_jobs`` threads run the
    other methods' comparisons (e.g. Kendall's tau-a).

    ``seed`` (int or Generator, default 0) draws the permutations; ``progress`` (None:
    ``nd.config``) shows a bar over them.

    Returns
    -------
    xarray.Dataset
        ``similarity`` (dims of [`compare`][neurodata.analyses.rsa.compare]), ``null``
        (``permutation``, ...) and ``p_value`` = (1 + #null >= observed) / (1 + n).
    """

    observed = compare(rdms_a, rdms_b, method, dim=dim, n_jobs=n_jobs)
    rdms_a, dim = as_rdms(rdms_a, dim, name="rdms_a")
    va, _ = to_vectors(rdms_a, dim)
    vb, _ = to_vectors(rdms_b, dim)
    if np.isnan(va).any() or np.isnan(vb).any():
        raise SchemaError("permutation_test does not support NaN dissimilarities")
    n = rdms_a.sizes[dim]
    idx = _pair_index(n)
    iu0, iu1 = np.triu_indices(n, k=1)
    pa, pb = _prepared(va, method), _prepared(vb, method)
    rng = _rng(seed)
    null = np.empty((n_permutations, va.shape[0], vb.shape[0]))
    for k in _bar(
        range(n_permutations), desc="permutations", enabled=resolve("progress", progress)
    ):
        perm = rng.permutation(n)
        pidx = idx[perm[iu0], perm[iu1]]
        if pa is not None:
            null[k] = pa @ pb[:, pidx].T
        else:
            null[k] = compare_vectors(va, vb[:, pidx], method, n_jobs=n_jobs)
    null = null.reshape(n_permutations, *observed.shape)
    p = (1 + (null >= observed.values[None] - 1e-12).sum(axis=0)) / (1 + n_permutations)
    return xr.Dataset(
        {
            "similarity": observed,
            "null": (("permutation", *observed.dims), null),
            "p_value": (observed.dims, p),
        },
        attrs={"method": method, "n_permutations": n_permutations},
    )
