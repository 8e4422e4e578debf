"""Permutation engine for frequency-tagging tests (numpy, time axis last).

The statistic is the neighbour-bin SNR at each tagged bin. Only the Fourier
coefficients of the tagged bins and of their neighbours are needed, so every
permutation is one matrix product with a permuted DFT basis: with
``basis[k, t] = w[t] exp(-2 pi i k t / n_fft)``, shuffling the samples of ``x``
by ``pi`` gives ``sum_t basis[k, t] x[pi(t)] == (basis[:, argsort(pi)] @ x)[k]``.
The null statistics are streamed: counts (and, for the max-statistic
correction, the per-family maxima) are accumulated, never the whole null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._progress import progress as _bar
from .._stats import fdr_bh

#: Budget for one batch of permuted coefficients (complex128 entries).
_BATCH_ENTRIES = 4_000_000


@dataclass(frozen=True)
class TagDesign:
    """Which bins are needed and how their values become SNRs.

    ``bins`` are the unique rfft bins needed; ``target`` (F,) indexes the tagged
    bin of each frequency in ``bins`` and ``noise`` (F, 2 * n_neighbors) its
    neighbours; ``scale`` (len(bins),) turns |coefficient| (or its square) into
    the spectrum's units.
    """

    bins: np.ndarray
    target: np.ndarray
    noise: np.ndarray
    scale: np.ndarray
    power: bool


def values(coef: np.ndarray, design: TagDesign, average: str) -> np.ndarray:
    """Spectrum values (..., bins) from coefficients (..., trial, bins)."""
    if average == "evoked":
        mag = np.abs(coef.mean(axis=-2))
        return (mag**2 if design.power else mag) * design.scale
    mag = np.abs(coef)
    mag = mag**2 if design.power else mag
    return mag.mean(axis=-2) * design.scale


def snr_at_targets(vals: np.ndarray, design: TagDesign) -> np.ndarray:
    """Neighbour-bin SNR (..., F) from spectrum values (..., bins)."""
    noise = vals[..., design.noise].mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = vals[..., design.target] / noise
    out[~np.isfinite(out)] = np.nan
    return out


def real_matmul(x: np.ndarray, basis_t: np.ndarray) -> np.ndarray:
    """``x @ basis_t`` for real ``x`` (..., T) and complex ``basis_t`` (T, K) as two real
    BLAS products (numpy's mixed real/complex matmul does not use BLAS)."""
    flat = x.reshape(-1, x.shape[-1])
    out = (flat @ basis_t.real) + 1j * (flat @ basis_t.imag)
    return out.reshape(*x.shape[:-1], basis_t.shape[1])


def _permuted_coefficients(x: np.ndarray, basis_t: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """(P, U, K) coefficients of ``x`` (U, T) with its samples shuffled by each row of
    ``perms`` (P, T), from the transposed basis ``basis_t`` (T, K)."""
    n_perm, n_times = perms.shape
    n_bins = basis_t.shape[1]
    if x.shape[0] <= n_bins:  # few units: shuffling the data is cheaper
        return real_matmul(x[:, perms].transpose(1, 0, 2), basis_t)
    inverse = np.argsort(perms, axis=1)
    stacked = basis_t[inverse].transpose(1, 0, 2).reshape(n_times, n_perm * n_bins)
    out = real_matmul(x, stacked)  # (U, P * K)
    return out.reshape(x.shape[0], n_perm, n_bins).transpose(1, 0, 2)


def null_snr_batches(
    x: np.ndarray,
    basis: np.ndarray,
    design: TagDesign,
    *,
    average: str,
    shuffle: str,
    n_permutations: int,
    rng: np.random.Generator,
    progress: bool,
    block: int = 1,
    dtype: type = np.float64,
):
    """Yield null SNR arrays of shape (batch, U, F) for data ``x`` (U, R, T).

    The permuted products run in ``dtype`` (float32 is ~3x faster through BLAS;
    the nulls then carry ~1e-6 relative rounding).
    """
    x = np.asarray(x, dtype=dtype)
    basis = np.asarray(basis, dtype=np.result_type(dtype, np.complex64))
    n_units, n_trials, n_times = x.shape
    n_bins = basis.shape[0]

    def draw(size: int) -> np.ndarray:
        blocks = rng.permuted(np.tile(np.arange(n_times // block), (size, 1)), axis=1)
        return (blocks[:, :, None] * block + np.arange(block)).reshape(size, n_times)

    per_perm = max(n_units * n_bins * n_trials, n_times * n_bins)
    batch = max(1, min(n_permutations, _BATCH_ENTRIES // per_perm))
    basis_t = np.ascontiguousarray(basis.T)
    starts = range(0, n_permutations, batch)
    if shuffle == "trials":
        coef = real_matmul(x, np.ascontiguousarray(basis.T))
    elif average == "evoked" or n_trials == 1:
        evoked = x.mean(axis=1)
    for start in _bar(starts, desc="permutations", enabled=progress, unit="batch"):
        size = min(batch, n_permutations - start)
        if shuffle == "trials":
            signs = rng.choice(np.array([-1.0, 1.0]), size=(size, n_trials))
            perm_coef = np.einsum("pr,urk->purk", signs, coef)
            vals = values(perm_coef, design, "evoked")
        elif average == "evoked" or n_trials == 1:
            perms = draw(size)
            c = _permuted_coefficients(evoked, basis_t, perms)  # (P, U, K)
            vals = values(c[:, :, None, :], design, "evoked")
        else:
            c = np.empty((size, n_units, n_trials, n_bins), dtype=basis.dtype)
            for r in range(n_trials):
                perms = draw(size)
                c[:, :, r] = _permuted_coefficients(x[:, r], basis_t, perms)
            vals = values(c, design, "frequency")
        yield snr_at_targets(vals, design)


def family_ids(shape: tuple[int, ...], family_axes: tuple[int, ...]) -> np.ndarray:
    """Integer family label of every element of an array of ``shape``.

    Elements that differ only along ``family_axes`` share a family.
    """
    others = [ax for ax in range(len(shape)) if ax not in family_axes]
    if not others:
        return np.zeros(shape, dtype=int)
    grids = np.indices(shape)
    return np.ravel_multi_index(tuple(grids[ax] for ax in others), [shape[ax] for ax in others])


class NullAccumulator:
    """Streams null statistics into exceedance counts and per-family maxima.

    ``observed`` has any shape; ``families`` labels its elements (same shape).
    """

    def __init__(self, observed: np.ndarray, families: np.ndarray, tail: str = "greater"):
        self.observed = observed
        self.families = families.ravel()
        self.n_families = int(self.families.max()) + 1 if self.families.size else 0
        self.tail = tail
        self.counts = np.zeros(observed.shape)
        self.maxima: list[np.ndarray] = []
        self.n = 0

    def _stat(self, a: np.ndarray) -> np.ndarray:
        return np.abs(a) if self.tail == "two-sided" else (-a if self.tail == "less" else a)

    def add(self, null: np.ndarray) -> None:
        """Add a batch of null statistics of shape (batch, *observed.shape)."""
        obs = self._stat(self.observed)
        stat = self._stat(null)
        with np.errstate(invalid="ignore"):
            self.counts += (stat >= obs).sum(axis=0)
        flat = np.where(np.isnan(stat), -np.inf, stat).reshape(stat.shape[0], -1)
        if self.n_families == 1:
            maxima = flat.max(axis=1, keepdims=True)
        else:
            maxima = np.full((stat.shape[0], self.n_families), -np.inf)
            for p in range(stat.shape[0]):
                np.maximum.at(maxima[p], self.families, flat[p])
        self.maxima.append(maxima)
        self.n += stat.shape[0]

    def p_values(self) -> np.ndarray:
        """Uncorrected permutation p-values, (1 + exceedances) / (1 + n)."""
        p = (1.0 + self.counts) / (1.0 + self.n)
        p[np.isnan(self.observed)] = np.nan
        return p

    def corrected(self, method: str) -> np.ndarray:
        """p-values corrected within each family by ``method``."""
        p = self.p_values()
        if method == "none":
            return p
        out = np.full(p.shape, np.nan)
        flat_p, flat_out = p.ravel(), out.ravel()
        if method == "maxstat":
            maxima = np.concatenate(self.maxima, axis=0)  # (n, n_families)
            obs = self._stat(self.observed).ravel()
            for fam in range(self.n_families):
                members = np.flatnonzero((self.families == fam) & np.isfinite(obs))
                ordered = np.sort(maxima[:, fam])
                exceed = self.n - np.searchsorted(ordered, obs[members], side="left")
                flat_out[members] = (1.0 + exceed) / (1.0 + self.n)
            return out
        for fam in range(self.n_families):
            members = np.flatnonzero(self.families == fam)
            if method == "fdr":
                flat_out[members] = fdr_bh(flat_p[members])
            else:  # bonferroni
                n_tests = np.isfinite(flat_p[members]).sum()
                flat_out[members] = np.minimum(1.0, flat_p[members] * n_tests)
        return out


CORRECTIONS = ("fdr", "maxstat", "bonferroni", "none")
