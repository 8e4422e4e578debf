"""Array kernels of banded ridge regression and variance partitioning.

Banded ridge fits one linear model on several feature spaces ("bands": two
layers, or a layer plus word rate and sound power) with one penalty per band
and target. Penalising band ``b`` by ``alpha / gamma_b`` is ordinary ridge on
the features ``sqrt(gamma_b) X_b`` with penalty ``alpha``, i.e. kernel ridge on
``K = sum_b gamma_b X_b X_b'`` (himalaya's multiple-kernel ridge). The band
weights ``gamma`` lie on the simplex (only ``gamma / alpha`` matters); each
candidate ``gamma`` is scored for every alpha by the per-target
cross-validation of `neurodata.analyses.encoding._ridge` (one decomposition per
fold, training targets projected once), and each target keeps the best
(candidate, alpha) pair. Candidates are visited in order and a target moves to
a later candidate only if its score improves by more than the dtype's machine
epsilon (so ties stay with the earlier candidate, as in himalaya's
``solve_multiple_kernel_ridge_random_search``); within a candidate, ties go to
the larger alpha. The refit on all samples uses, for every candidate chosen by
some target, one decomposition and each target's own alpha.

Variance partitioning (de Heer et al. 2017, J Neurosci) compares the held-out
R^2 of models fitted on every non-empty subset of bands: with ``f(T)`` the R^2
of bands ``T`` and ``h(T) = f(all) - f(all minus T)``, the variance explained
by exactly the bands ``S`` (and no other) is the Moebius inversion
``g(S) = sum_{T subset of S} (-1)^{|S|-|T|} h(T)``: for two bands,
``g({A}) = f(AB) - f(B)`` (unique to A) and ``g({A, B}) = f(A) + f(B) - f(AB)``
(shared). [`split_r2`][] is the product-measure split of one joint model's R^2
(himalaya's ``r2_score_split``), whose per-band terms sum to the joint R^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, product
from typing import Any

import numpy as np

from ..._progress import progress as _progress_bar
from ..._registry import check_int
from ...errors import SchemaError
from . import _ridge

__all__ = [
    "SEARCHES",
    "band_predictions",
    "banded_cv_arrays",
    "banded_fit_arrays",
    "grid_candidates",
    "partition_components",
    "random_candidates",
    "split_r2",
]


# --------------------------------------------------------------------------------------
# candidate band weights on the simplex
# --------------------------------------------------------------------------------------


def random_candidates(
    n_bands: int,
    n_iter: int = 20,
    *,
    concentration: float | Sequence[float] = (0.1, 1.0),
    seed: int = 0,
) -> np.ndarray:
    """Band weights drawn from Dirichlet distributions; the first row is uniform.

    Concentrations are cycled through row by row (small ones give sparse
    weights near the corners of the simplex, 1 spreads them evenly), as in
    himalaya's random search.
    """
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    conc = np.atleast_1d(np.asarray(concentration, dtype=np.float64))
    if conc.size == 0 or np.any(conc <= 0):
        raise SchemaError(f"`concentration` must be positive numbers; got {concentration!r}")
    rng = np.random.default_rng(seed)
    out = np.empty((int(n_iter), n_bands))
    out[0] = 1.0 / n_bands
    for i in range(1, int(n_iter)):
        out[i] = rng.dirichlet(np.full(n_bands, conc[i % conc.size]))
    return out


def grid_candidates(n_bands: int, n_steps: int = 9, *, span: float = 3.0) -> np.ndarray:
    """A grid of band weights: log10 ratios in [-span, span], plus one band alone.

    For two bands, ``n_steps`` log-spaced ratios ``gamma_1 / gamma_2`` from
    ``10^-span`` to ``10^span`` and the two corners (one band switched off).
    For more bands, every combination of ``n_steps`` log-weights per band,
    normalised and de-duplicated, plus the corners; best kept to 2-3 bands.
    """
    if not (isinstance(n_steps, int | np.integer) and n_steps >= 2):
        raise SchemaError(f"`n_steps` must be an int >= 2; got {n_steps!r}")
    logs = np.linspace(-span / 2, span / 2, int(n_steps))
    if n_bands == 1:
        return np.ones((1, 1))
    rows = [np.full(n_bands, 1.0 / n_bands)]
    if n_bands == 2:
        w = 10.0 ** (2 * logs)
        rows += [np.array([v, 1.0]) / (v + 1.0) for v in w]
    else:
        for combo in product(logs, repeat=n_bands):
            v = 10.0 ** np.asarray(combo)
            rows.append(v / v.sum())
    rows += list(np.eye(n_bands))
    grid = np.array(rows)
    _, first = np.unique(np.round(grid, 10), axis=0, return_index=True)
    return grid[np.sort(first)]


#: Searches over band weights: name -> function(n_bands, n_iter, concentration, seed).
SEARCHES = {
    "random": lambda n_bands, n_iter, concentration, seed: random_candidates(
        n_bands, n_iter, concentration=concentration, seed=seed
    ),
    "grid": lambda n_bands, n_iter, concentration, seed: grid_candidates(n_bands),
}


def check_candidates(gammas: np.ndarray, n_bands: int) -> np.ndarray:
    """Rows of non-negative band weights, normalised to sum to one."""
    gammas = np.atleast_2d(np.asarray(gammas, dtype=np.float64))
    if gammas.ndim != 2 or gammas.shape[1] != n_bands or gammas.shape[0] == 0:
        raise SchemaError(
            f"band weights must have shape (n_candidates, {n_bands}); got {gammas.shape}"
        )
    if not np.all(np.isfinite(gammas)) or np.any(gammas < 0) or np.any(gammas.sum(1) <= 0):
        raise SchemaError("band weights must be finite, non-negative and not all zero in a row")
    return gammas / gammas.sum(1, keepdims=True)


# --------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------


def _scaled(Xs: Sequence[np.ndarray], gamma: np.ndarray) -> np.ndarray:
    return np.hstack([np.sqrt(g) * np.asarray(X, dtype=np.float64) for X, g in zip(Xs, gamma)])


def _factor(X: np.ndarray) -> np.ndarray:
    """A matrix F with F F' = X X' and at most n_samples columns (X itself when narrow).

    Cross-validated ridge scores depend on the features only through the
    linear kernel (centring on training means included), so a wide band is
    replaced by its kernel's square root while scoring candidates: the cost
    per candidate no longer grows with the band's number of features.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] <= X.shape[0]:
        return X
    lam, U = _ridge._eigh(X @ X.T)
    keep = lam > lam.max() * X.shape[0] * np.finfo(np.float64).eps
    return U[:, keep] * np.sqrt(lam[keep])


def _band_slices(Xs: Sequence[np.ndarray]) -> list[slice]:
    stops = np.cumsum([X.shape[1] for X in Xs])
    return [slice(int(b - X.shape[1]), int(b)) for X, b in zip(Xs, stops)]


def banded_fit_arrays(
    Xs: Sequence[np.ndarray],
    Y: np.ndarray,
    gammas: np.ndarray,
    candidate: np.ndarray,
    alphas: np.ndarray,
    *,
    fit_intercept: bool = True,
    targets_batch: int | None = 2048,
    dtype: np.dtype = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (features, targets) on the unscaled bands and intercepts (targets,).

    Target ``j`` uses band weights ``gammas[candidate[j]]`` and penalty ``alphas[j]``.
    """
    dtype = np.dtype(dtype)
    n_features = sum(X.shape[1] for X in Xs)
    coef = np.zeros((n_features, Y.shape[1]), dtype=dtype)
    intercept = np.zeros(Y.shape[1], dtype=np.float64)
    slices = _band_slices(Xs)
    for c in np.unique(candidate):
        idx = np.flatnonzero(candidate == c)
        gamma = gammas[c]
        w, b = _ridge.ridge_fit_arrays(
            _scaled(Xs, gamma),
            np.asarray(Y[:, idx]),
            alphas[idx],
            fit_intercept=fit_intercept,
            targets_batch=targets_batch,
            dtype=dtype,
        )
        for sl, g in zip(slices, gamma):
            w[sl] *= np.sqrt(g).astype(dtype)  # weights of the unscaled features
        coef[:, idx] = w
        intercept[idx] = b
    return coef, intercept


def banded_cv_arrays(
    Xs: Sequence[np.ndarray],
    Y: np.ndarray,
    gammas: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    settings: Any,
    *,
    refit: bool = True,
    progress: bool = False,
    device: str | None = None,
) -> dict[str, np.ndarray]:
    """Per-target band weights and alpha by cross-validation, then refit on all samples.

    Returns a dict with ``candidate`` (t,) index into ``gammas``, ``band_weight``
    (bands, t), ``best_alpha`` (t,), ``cv_score`` (t,), ``candidate_scores``
    (n_candidates, t): the mean CV score of each candidate at its best alpha,
    and with ``refit`` ``coef`` (features, t) and ``intercept`` (t,).
    """
    alphas, dtype = settings.alphas_array, settings.np_dtype
    fit_intercept, targets_batch, show_progress = (
        settings.fit_intercept,
        settings.targets_batch,
        progress,
    )
    n_targets = Y.shape[1]
    eps = np.finfo(dtype).eps
    best = np.full(n_targets, -np.inf)
    candidate = np.zeros(n_targets, dtype=np.intp)
    best_alpha = np.full(n_targets, np.nan)
    candidate_scores = np.empty((len(gammas), n_targets))
    factors = [_factor(X) for X in Xs]
    bar = _progress_bar(
        range(len(gammas)), desc="band weights", enabled=show_progress, unit="candidate"
    )
    for c in bar:
        out = _ridge.ridge_cv_arrays(
            _scaled(factors, gammas[c]), Y, splits, settings, refit=False, device=device
        )
        scores = np.where(np.isnan(out["cv_score"]), -np.inf, out["cv_score"])
        candidate_scores[c] = out["cv_score"]
        better = scores > best + eps
        best[better] = scores[better]
        candidate[better] = c
        best_alpha[better] = out["best_alpha"][better]
    never = ~np.isfinite(best)  # every score NaN: keep the first candidate, the largest alpha
    best_alpha[never] = np.max(alphas)
    result: dict[str, np.ndarray] = {
        "candidate": candidate,
        "band_weight": gammas[candidate].T.copy(),
        "best_alpha": best_alpha,
        "cv_score": np.where(never, np.nan, best),
        "candidate_scores": candidate_scores,
    }
    if refit:
        result["coef"], result["intercept"] = banded_fit_arrays(
            Xs,
            Y,
            gammas,
            candidate,
            best_alpha,
            fit_intercept=fit_intercept,
            targets_batch=targets_batch,
            dtype=dtype,
        )
    return result


def band_predictions(
    Xs: Sequence[np.ndarray], coef: np.ndarray, intercept: np.ndarray
) -> np.ndarray:
    """Per-band predictions (bands, samples, targets); their sum plus the intercept is the joint one."""
    parts = [np.asarray(X, dtype=coef.dtype) @ coef[sl] for X, sl in zip(Xs, _band_slices(Xs))]
    out = np.stack(parts)
    out[0] += intercept.astype(coef.dtype)
    return out


# --------------------------------------------------------------------------------------
# variance partitioning
# --------------------------------------------------------------------------------------


def split_r2(y: np.ndarray, band_preds: np.ndarray) -> np.ndarray:
    """Product-measure split of the held-out R^2 over bands (bands, targets).

    ``R2_b = sum_t (2 y_t p_bt - p_bt sum_c p_ct) / sum_t y_t^2`` on centred
    responses and centred band predictions; the terms sum to the R^2 of the
    (mean-corrected) joint prediction, and a band whose prediction is
    orthogonal to the others gets its own R^2.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(band_preds, dtype=np.float64)
    yc = y - y.mean(0)
    pc = p - p.mean(1, keepdims=True)
    total = pc.sum(0)
    sst = np.square(yc).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * np.einsum("st,bst->bt", yc, pc) - np.einsum("bst,st->bt", pc, total)) / sst


def subsets(n_bands: int) -> list[tuple[int, ...]]:
    """Every non-empty subset of band indices, by size then order."""
    return [c for k in range(1, n_bands + 1) for c in combinations(range(n_bands), k)]


def partition_components(r2: dict[tuple[int, ...], np.ndarray], n_bands: int) -> dict:
    """Variance explained by exactly each subset of bands (Moebius inversion of subset R^2).

    ``r2`` maps every non-empty subset (sorted tuple of band indices) to its
    held-out R^2 (targets,). Returns the same keys mapped to ``g(S)``: for a
    single band its unique variance, for larger sets the variance they share
    and no other band explains. The components sum to the R^2 of all bands.
    """
    full = tuple(range(n_bands))

    def f(t: tuple[int, ...]) -> np.ndarray:
        return r2[t] if t else np.zeros_like(r2[full])

    def h(t: tuple[int, ...]) -> np.ndarray:
        rest = tuple(i for i in full if i not in t)
        return r2[full] - f(rest)

    out = {}
    for s in subsets(n_bands):
        acc = np.zeros_like(r2[full])
        for k in range(1, len(s) + 1):
            for t in combinations(s, k):
                acc = acc + (-1) ** (len(s) - k) * h(t)
        out[s] = acc
    return out
