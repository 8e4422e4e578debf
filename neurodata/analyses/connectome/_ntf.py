"""Memory-bounded non-negative CP (PARAFAC) of a 3-way tensor with missing entries.

The updates are tensorly's (``non_negative_parafac_hals``: Gillis & Glineur HALS
with 5 inner sweeps per mode; ``non_negative_parafac``: multiplicative updates),
started from tensorly's own random initialisation, so that on a complete tensor
the factors and the objective equal tensorly's at the same seed (a test checks).
What differs is how the tensor is touched: the MTTKRP of every mode is
accumulated over chunks of the last axis (neuron pairs), so no unfolding,
Khatri-Rao product or float64 copy of the tensor is ever made; the memory needed
beyond the float32 tensor itself is one chunk of ``batch`` pairs.

Missing entries (NaN) are handled as tensorly's masked ``non_negative_parafac``
does: before each mode update they are imputed from the current model
(expectation-maximisation), chunk by chunk, and the reconstruction error is
measured on the observed entries only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..._threads import blas_threads as _limit_blas

__all__ = ["NTF_METHODS", "factor_similarity", "fit_ntf", "observed_slices"]

#: bytes of float32 tensor per chunk when ``batch`` is not given
_CHUNK_BYTES = 16 * 2**20


def _initial_factors(shape: tuple[int, ...], rank: int, seed: int, dtype) -> list[np.ndarray]:
    """tensorly's ``initialize_cp(init="random", non_negative=True)`` without the tensor."""
    import tensorly as tl
    from tensorly.random import random_cp

    rng = tl.check_random_state(seed)
    with tl.backend_context("numpy"):
        _, factors = random_cp(shape, rank, normalise_factors=False, random_state=rng, dtype=dtype)
    return [np.abs(np.asarray(f, dtype=dtype)) for f in factors]


def _chunks(n: int, batch: int):
    for start in range(0, n, batch):
        yield slice(start, min(start + batch, n))


def _sum_squares(x: np.ndarray, where: np.ndarray) -> float:
    """Sum of squares of the observed entries, accumulated in float64 without a float64 copy."""
    return float(np.sum(np.square(x), where=where, dtype=np.float64))


def _model(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The CP model of one chunk, ``sum_r a[i, r] b[j, r] c[k, r]``, as one matrix product."""
    kr = (a[:, None, :] * b[None, :, :]).reshape(-1, a.shape[1])
    return (kr @ c.T).reshape(a.shape[0], b.shape[0], c.shape[0])


def _chunk_rows(shape: tuple[int, ...], batch: int | None) -> int:
    return int(batch) if batch else max(1, _CHUNK_BYTES // max(1, 4 * shape[0] * shape[1]))


def observed_slices(data: np.ndarray, batch: int | None = None) -> list[np.ndarray]:
    """For each mode of a 3-way tensor, which slices hold at least one finite entry.

    Computed chunk by chunk along the last axis: no full-size boolean temporary.
    """
    keep = [np.zeros(n, dtype=bool) for n in data.shape]
    for sl in _chunks(data.shape[2], _chunk_rows(data.shape, batch)):
        finite = np.isfinite(data[:, :, sl])
        keep[0] |= finite.any(axis=(1, 2))
        keep[1] |= finite.any(axis=(0, 2))
        keep[2][sl] = finite.any(axis=(0, 1))
    return keep


class _Tensor:
    """A (window, worm, pair) float32 tensor read chunk by chunk, with EM imputation.

    ``index`` (one integer array per mode) restricts the tensor to a sub-tensor
    without copying it: only one chunk of the sub-tensor is ever materialised.
    """

    def __init__(self, data: np.ndarray, batch: int | None, index=None):
        self.data = data
        self.index = index
        self.shape = tuple(len(i) for i in index) if index is not None else data.shape
        self.batch = _chunk_rows(self.shape, batch)
        self.has_missing = False
        self.norm2 = 0.0
        for sl in _chunks(self.shape[2], self.batch):
            block = self.block(sl)
            observed = ~np.isnan(block)
            self.has_missing |= not observed.all()
            self.norm2 += _sum_squares(block, observed)

    def block(self, sl: slice) -> np.ndarray:
        """The chunk ``[:, :, sl]`` of the (sub-)tensor."""
        if self.index is None:
            return self.data[:, :, sl]
        windows, worms, pairs = self.index
        return self.data[np.ix_(windows, worms, pairs[sl])]

    def blocks(self, factors: list[np.ndarray]):
        """Yield (pair slice, observed-or-imputed block) for every chunk."""
        a, b, c = factors
        for sl in _chunks(self.shape[2], self.batch):
            block = self.block(sl)
            if self.has_missing:
                missing = np.isnan(block)
                if missing.any():
                    block = np.where(missing, _model(a, b, c[sl]), block)
            yield sl, block

    def mttkrp(self, factors: list[np.ndarray], mode: int) -> np.ndarray:
        a, b, c = factors
        rank = a.shape[1]
        out = np.zeros((self.shape[mode], rank), dtype=a.dtype)
        for sl, block in self.blocks(factors):
            if mode == 2:
                kr = (a[:, None, :] * b[None, :, :]).reshape(-1, rank)
                out[sl] = block.reshape(-1, block.shape[2]).T @ kr
                continue
            n0, n1, n2 = block.shape
            t = (block.reshape(n0 * n1, n2) @ c[sl]).reshape(n0, n1, rank)
            out += (t * b[None]).sum(1) if mode == 0 else (t * a[:, None]).sum(0)
        return out

    def masked_error2(self, factors: list[np.ndarray]) -> float:
        a, b, c = factors
        total = 0.0
        for sl in _chunks(self.shape[2], self.batch):
            block = self.block(sl)
            resid = block - _model(a, b, c[sl])
            total += _sum_squares(resid, ~np.isnan(resid))
        return total


def _hals_nnls(utm: np.ndarray, utu: np.ndarray, v: np.ndarray, n_iter: int = 5) -> np.ndarray:
    """tensorly's ``hals_nnls`` (row-wise HALS, tol 1e-7, epsilon 0) on ``V`` (rank, n)."""
    v = v.copy()
    rank = utm.shape[0]
    err0 = None
    for iteration in range(n_iter):
        err = 0.0
        for k in range(rank):
            if utu[k, k]:
                num = utm[k] - utu[k] @ v + utu[k, k] * v[k]
                new = np.clip(num / utu[k, k], 0, None)
                err += float(np.linalg.norm(v[k] - new) ** 2)
                v[k] = new
        if iteration == 0:
            err0 = err
        if err < 10e-8 * err0:
            break
    return v


def _gram_product(factors: list[np.ndarray], skip: int) -> np.ndarray:
    rank = factors[0].shape[1]
    out = np.ones((rank, rank), dtype=factors[0].dtype)
    for i, f in enumerate(factors):
        if i != skip:
            out = out * (f.T @ f)
    return out


def _update_hals(tensor: _Tensor, factors: list[np.ndarray], mode: int) -> np.ndarray:
    gram = _gram_product(factors, mode)
    mttkrp = tensor.mttkrp(factors, mode)
    factors[mode] = _hals_nnls(mttkrp.T, gram, factors[mode].T).T
    return mttkrp


def _update_mu(tensor: _Tensor, factors: list[np.ndarray], mode: int, eps: float = 1e-12):
    gram = _gram_product(factors, mode)
    mttkrp = tensor.mttkrp(factors, mode)
    numerator = np.clip(mttkrp, eps, None)
    denominator = np.clip(factors[mode] @ gram, eps, None)
    factors[mode] = factors[mode] * numerator / denominator
    return mttkrp


#: NTF update rules: name -> one mode update (tensor, factors, mode) -> MTTKRP used.
NTF_METHODS: Mapping[str, Callable[..., np.ndarray]] = {"hals": _update_hals, "mu": _update_mu}


def fit_ntf(
    data: np.ndarray,
    rank: int,
    *,
    update: Callable[..., np.ndarray],
    seed: int,
    n_iter_max: int = 200,
    tol: float = 1e-6,
    batch: int | None = None,
    progress: Callable | None = None,
    blas_threads: int | None = 1,
    index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[list[np.ndarray], list[float]]:
    """Non-negative CP of a 3-way float32 tensor (NaN = missing).

    Returns the factors (weights folded in, as tensorly's with
    ``normalize_factors=False``) and the relative reconstruction error of every
    iteration (observed entries only when entries are missing). ``blas_threads``
    limits the BLAS threads during the fit (``None``: ``nd.config``'s, else no limit): the products are
    thin (``rank`` columns), so threads bring little and contend on busy machines.
    ``index`` (integer positions per mode) fits the sub-tensor
    ``data[np.ix_(*index)]`` without ever forming it.
    """
    with _limit_blas(blas_threads):
        return _fit(data, rank, update, seed, n_iter_max, tol, batch, progress, index)


def _fit(data, rank, update, seed, n_iter_max, tol, batch, progress, index=None):
    dtype = data.dtype if data.dtype in (np.float32, np.float64) else np.float32
    tensor = _Tensor(data, batch, index)
    factors = _initial_factors(tensor.shape, rank, seed, dtype)
    norm = np.sqrt(tensor.norm2) if tensor.norm2 > 0 else 1.0
    errors: list[float] = []
    iterations = range(n_iter_max) if progress is None else progress(range(n_iter_max))
    for iteration in iterations:
        for mode in range(3):
            mttkrp = update(tensor, factors, mode)
        if not tol:
            continue
        if tensor.has_missing:
            error = np.sqrt(tensor.masked_error2(factors)) / norm
        else:  # tensorly's identity: |X - M|^2 = |X|^2 + |M|^2 - 2 <X, M>
            model2 = float(np.sum(_gram_product(factors, -1)))
            inner = float(np.sum(mttkrp * factors[-1]))
            error = np.sqrt(abs(tensor.norm2 + model2 - 2 * inner)) / norm
        errors.append(float(error))
        if iteration >= 1 and abs(errors[-2] - errors[-1]) < tol:
            break
    return factors, errors


def _unit_columns(f: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(f, axis=0)
    return f / np.where(norms > 0, norms, 1.0)


def factor_similarity(first: list[np.ndarray], second: list[np.ndarray]) -> float:
    """Mean factor match score of two CP models (components matched by the Hungarian method).

    The score of a matched pair of components is the product over modes of the
    cosine similarity of their factor columns (1: identical up to scale).
    """
    from scipy.optimize import linear_sum_assignment

    sim = np.ones((first[0].shape[1], second[0].shape[1]))
    for f, g in zip(first, second):
        sim = sim * np.abs(_unit_columns(f).T @ _unit_columns(g))
    rows, cols = linear_sum_assignment(-sim)
    return float(sim[rows, cols].mean())
