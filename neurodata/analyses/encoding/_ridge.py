"""Array kernels of ridge regression with one alpha per target chosen by cross-validation.

For every fold the centred training features are diagonalised once, in float64,
through whichever Gram matrix is smaller:

- primal (features <= training samples): ``Xc'Xc = V diag(lam) V'``;
- dual / kernel (features > training samples): ``Xc Xc' = U diag(lam) U'``.

Both give held-out predictions of the same form ``pred(alpha) = W diag(1 / (lam + alpha)) Q``
with ``W`` (test, k) computed once per fold and ``Q`` (k, targets) the training targets
projected once per fold and batch of targets; scoring an alpha then costs one
(test x k) @ (k x batch) product, and no array larger than (test, batch) is ever
held for an alpha. The primal projection reuses ``X'Y`` of the whole batch
(``Xtr'Ytr = X'Y - Xex'Yex``), so a fold costs its excluded samples, not its
training samples. The refit on all samples uses the same decomposition with each
target's own alpha.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._distributed import run_tasks
from ..._threads import blas_threads
from ...errors import SchemaError

__all__ = ["SCORES", "ridge_cv_arrays", "ridge_fit_arrays"]


# --------------------------------------------------------------------------------------
# per-target scores of predictions (n_samples, n_targets) -> (n_targets,)
# --------------------------------------------------------------------------------------


def neg_mse(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Negative mean squared error per target (himalaya's ``l2_neg_loss``)."""
    diff = y - pred
    return -np.einsum("ij,ij->j", diff, diff).astype(np.float64) / y.shape[0]


def r2(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per target (scikit-learn's ``r2_score`` definition)."""
    sse = np.square(y - pred).sum(0, dtype=np.float64)
    sst = np.square(y - y.mean(0, dtype=np.float64).astype(y.dtype)).sum(0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - sse / sst


def pearson_r(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pearson correlation per target (NaN where either side is constant)."""
    yc = y - y.mean(0, dtype=np.float64).astype(y.dtype)
    pc = pred - pred.mean(0, dtype=np.float64).astype(pred.dtype)
    num = (yc * pc).sum(0, dtype=np.float64)
    den = np.sqrt(np.square(yc).sum(0, dtype=np.float64) * np.square(pc).sum(0, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


#: Scores used to choose alphas and to report held-out performance.
SCORES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "neg_mse": neg_mse,
    "r2": r2,
    "r": pearson_r,
}


# --------------------------------------------------------------------------------------
# decomposition
# --------------------------------------------------------------------------------------


@dataclass
class _Basis:
    """Eigen-decomposition of one training set, ready to predict held-out samples."""

    train: np.ndarray
    test: np.ndarray | None
    excluded: np.ndarray  # samples neither in train (test + gaps), for X'Y updates
    mean_x: np.ndarray  # (p,) float64, zeros without intercept
    eigvals: np.ndarray  # (k,) float64, >= 0
    vectors: np.ndarray  # (p, k) primal V or (n_train, k) dual U, in `dtype`
    dual: bool
    W: np.ndarray | None  # (n_test, k) in `dtype`
    ones_proj: np.ndarray | None  # dual only: U' 1 (k,), to centre targets cheaply
    centred: bool  # whether an intercept is fitted (targets centred on training means)


def _eigh(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric eigen-decomposition (the caller sets the BLAS threads, see ``_threads``)."""
    return np.linalg.eigh(G)


def _decompose(
    X64: np.ndarray,
    train: np.ndarray,
    test: np.ndarray | None,
    *,
    fit_intercept: bool,
    dtype: np.dtype,
    gram: np.ndarray | None = None,
    sum_x: np.ndarray | None = None,
) -> _Basis:
    n_samples, n_features = X64.shape
    excluded = np.setdiff1d(np.arange(n_samples), train, assume_unique=True)
    n_train = len(train)
    dual = n_features > n_train
    if not dual and gram is not None and sum_x is not None and len(excluded) < n_train:
        # Gram of the training rows from the whole-data Gram: costs the excluded rows only
        Xex = X64[excluded]
        G = gram - Xex.T @ Xex
        mean_x = (sum_x - Xex.sum(0)) / n_train if fit_intercept else np.zeros(n_features)
        if fit_intercept:
            G -= n_train * np.outer(mean_x, mean_x)
        Xtr = None
    else:
        Xtr = X64[train]
        mean_x = Xtr.mean(0) if fit_intercept else np.zeros(n_features)
        if fit_intercept:
            Xtr = Xtr - mean_x
        G = Xtr @ Xtr.T if dual else Xtr.T @ Xtr
    eigvals, vectors = _eigh(G)
    eigvals = np.clip(eigvals, 0.0, None)
    ones_proj = vectors.sum(0) if dual else None
    W = None
    if test is not None:
        Xte = X64[test] - mean_x
        if dual:
            W = (Xte @ Xtr.T) @ vectors
        else:
            W = Xte @ vectors
        W = W.astype(dtype)
    return _Basis(
        train,
        test,
        excluded,
        mean_x,
        eigvals,
        vectors.astype(dtype),
        dual,
        W,
        ones_proj,
        fit_intercept,
    )


def _project(
    basis: _Basis, X: np.ndarray, Yb: np.ndarray, XtY: np.ndarray | None, sum_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Training targets of one batch projected on the basis: Q (k, b), and their mean."""
    train, excluded = basis.train, basis.excluded
    n_train = len(train)
    if basis.dual:
        Ytr = Yb[train]
        Q = basis.vectors.T @ Ytr
        if not basis.centred:
            return Q, np.zeros(Yb.shape[1])
        mean_y = Ytr.mean(0, dtype=np.float64)
        Q -= np.outer(basis.ones_proj, mean_y).astype(Q.dtype)
        return Q, mean_y
    if XtY is not None and len(excluded) < n_train:
        Xex, Yex = X[excluded], Yb[excluded]
        mean_y = (sum_y - Yex.sum(0, dtype=np.float64)) / n_train
        XtrY = XtY - Xex.T @ Yex
    else:
        Ytr = Yb[train]
        mean_y = Ytr.mean(0, dtype=np.float64)
        XtrY = X[train].T @ Ytr
    if not basis.centred:
        return basis.vectors.T @ XtrY, np.zeros(Yb.shape[1])
    # Xc'Yc = Xtr'Ytr - n mean_x mean_y'
    XtrY -= (n_train * np.outer(basis.mean_x, mean_y)).astype(XtrY.dtype)
    return basis.vectors.T @ XtrY, mean_y


def _best_alpha(mean_scores: np.ndarray) -> np.ndarray:
    """Index of the best alpha per target (alphas ascending); ties go to the larger alpha."""
    scores = np.where(np.isnan(mean_scores), -np.inf, mean_scores)
    n_alphas = scores.shape[0]
    return n_alphas - 1 - np.argmax(scores[::-1], axis=0)


def _check_alphas(alphas: Sequence[float] | np.ndarray) -> np.ndarray:
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if (
        alphas.ndim != 1
        or alphas.size == 0
        or not np.all(np.isfinite(alphas))
        or np.any(alphas <= 0)
    ):
        raise SchemaError(
            f"`alphas` must be a non-empty 1-d sequence of positive numbers; got {alphas!r}"
        )
    if np.unique(alphas).size != alphas.size:
        raise SchemaError(f"`alphas` must not repeat values; got {alphas.tolist()}")
    return alphas


def _batches(n_targets: int, targets_batch: int | None) -> list[slice]:
    if targets_batch is None:
        targets_batch = n_targets
    if not (isinstance(targets_batch, int | np.integer) and targets_batch >= 1):
        raise SchemaError(f"`targets_batch` must be a positive int or None; got {targets_batch!r}")
    return [slice(s, min(s + targets_batch, n_targets)) for s in range(0, n_targets, targets_batch)]


def ridge_fit_arrays(
    X: np.ndarray,
    Y: np.ndarray,
    alphas: np.ndarray,
    *,
    fit_intercept: bool = True,
    targets_batch: int | None = 2048,
    dtype: np.dtype = np.float32,
    basis: _Basis | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge coefficients (p, t) and intercepts (t,) with one alpha per target."""
    dtype = np.dtype(dtype)
    X64 = np.asarray(X, dtype=np.float64)
    n_samples, n_features = X64.shape
    alphas = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (Y.shape[1],))
    if basis is None:
        basis = _decompose(
            X64, np.arange(n_samples), None, fit_intercept=fit_intercept, dtype=dtype
        )
    Xd = X64.astype(dtype)
    coef = np.empty((n_features, Y.shape[1]), dtype=dtype)
    intercept = np.zeros(Y.shape[1], dtype=np.float64)
    for batch in _batches(Y.shape[1], targets_batch):
        Yb = np.ascontiguousarray(Y[:, batch], dtype=dtype)
        coef[:, batch], intercept[batch] = _fit_batch(Yb, alphas[batch], Xd, basis, dtype)
    return coef, intercept


def _fit_batch(
    Yb: np.ndarray, alphas: np.ndarray, Xd: np.ndarray, basis: _Basis, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (p, b) and intercepts (b,) of one batch of targets on the full basis."""
    sum_y = Yb.sum(0, dtype=np.float64)
    XtY = None if basis.dual else Xd.T @ Yb
    Q, mean_y = _project(basis, Xd, Yb, XtY, sum_y)
    F = (1.0 / (basis.eigvals[:, None] + alphas[None, :])).astype(dtype)
    Q *= F
    if basis.dual:
        coef = (Xd - basis.mean_x.astype(dtype)).T @ (basis.vectors @ Q)
    else:
        coef = basis.vectors @ Q
    intercept = np.zeros(Yb.shape[1], dtype=np.float64)
    if basis.centred:
        intercept = mean_y - basis.mean_x @ coef.astype(np.float64)
    return coef, intercept


def _cv_batch(
    Yb: np.ndarray,
    *,
    Xd: np.ndarray,
    bases: list[_Basis],
    full: _Basis | None,
    alphas_sorted: np.ndarray,
    score: str,
) -> dict[str, np.ndarray]:
    """Cross-validation (and refit) of one batch of targets: an independent task.

    Returns the mean score over folds of every alpha (n_alphas, b) and, when
    ``full`` is given, the refit ``coef`` (p, b) and ``intercept`` (b,) at each
    target's best alpha (which depends on that target's scores only).
    """
    dtype = Xd.dtype
    score_fn = SCORES[score]
    # aligned and contiguous: arrays received from another process may be neither
    Yb = np.require(Yb, dtype=dtype, requirements=["C", "A"])
    sum_y = Yb.sum(0, dtype=np.float64)
    XtY = Xd.T @ Yb if not all(b.dual for b in bases) else None
    scores = np.zeros((len(alphas_sorted), Yb.shape[1]), dtype=np.float64)
    for basis in bases:
        Q, mean_y = _project(basis, Xd, Yb, XtY, sum_y)
        Yte = Yb[basis.test] - mean_y.astype(dtype)
        # buffers reused for every alpha: no large temporary per alpha (on workers whose
        # allocator returns freed memory to the system, each would cost page faults)
        pred, FQ = np.empty_like(Yte), np.empty_like(Q)
        for i, alpha in enumerate(alphas_sorted):
            np.multiply(Q, (1.0 / (basis.eigvals + alpha)).astype(dtype)[:, None], out=FQ)
            np.matmul(basis.W, FQ, out=pred)
            if score == "neg_mse":  # neg_mse's arithmetic, in place
                np.subtract(Yte, pred, out=pred)
                scores[i] -= np.einsum("ij,ij->j", pred, pred).astype(np.float64) / len(pred)
            else:
                scores[i] += score_fn(Yte, pred)
        del Q, Yte, pred, FQ
    del XtY
    scores /= len(bases)
    out = {"scores": scores}
    if full is not None:
        best = alphas_sorted[_best_alpha(scores)]
        out["coef"], out["intercept"] = _fit_batch(Yb, best, Xd, full, dtype)
    return out


def ridge_cv_arrays(
    X: np.ndarray,
    Y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    settings: Any,
    *,
    refit: bool = True,
    progress: bool = False,
    device: str | None = None,
    scheduler: Any = None,
    max_in_flight: int | None = None,
) -> dict[str, np.ndarray]:
    """Per-target alpha by cross-validation over ``splits``, then refit on all samples.

    ``settings`` (a `RidgeSettings`) gives the alphas, scoring,
    intercept, dtype, batch size and backend; its folds are not used here (``splits``
    are the folds).

    ``backend="torch"`` runs the cross-validation products in torch on ``device``
    (the decompositions and the refit stay in numpy).

    With the numpy backend every batch of targets is one independent task
    (`_cv_batch`: scores of every alpha, best alpha, refit) run by
    `neurodata._distributed.run_tasks` on ``scheduler`` (None: in this
    process); the decompositions are computed here once and shared.

    Returns a dict with ``best_alpha`` (t,), ``alpha_index`` (t,), ``cv_score`` (t,)
    (mean over folds at the best alpha), ``scores`` (n_alphas, t) (mean over
    folds), and, when ``refit``, ``coef`` (p, t) and ``intercept`` (t,).
    """
    alphas = settings.alphas_array
    fit_intercept, score, dtype = settings.fit_intercept, settings.score, settings.np_dtype
    targets_batch, backend, show_progress = settings.targets_batch, settings.backend, progress
    order = np.argsort(alphas)
    alphas_sorted = alphas[order]
    X64 = np.asarray(X, dtype=np.float64)
    n_samples, n_features = X64.shape
    n_targets = Y.shape[1]
    gram = X64.T @ X64 if n_features <= n_samples else None
    sum_x = X64.sum(0)
    # one BLAS limit for all the decompositions of this call (package policy, ``_threads``):
    # memory-bound eigh runs on one thread up to 2048 features or samples
    small = min(n_features, n_samples) <= 2048
    with blas_threads(1 if small else None):
        bases = [
            _decompose(
                X64, train, test, fit_intercept=fit_intercept, dtype=dtype, gram=gram, sum_x=sum_x
            )
            for train, test in splits
        ]
        full = (
            _decompose(
                X64,
                np.arange(n_samples),
                None,
                fit_intercept=fit_intercept,
                dtype=dtype,
                gram=gram,
                sum_x=sum_x,
            )
            if refit
            else None
        )
    del gram
    Xd = X64.astype(dtype)
    del X64
    batches = _batches(n_targets, targets_batch)
    if backend == "torch":
        if scheduler is not None:
            raise SchemaError("`scheduler` runs the numpy backend; got backend='torch'")
        from . import _ridge_torch

        mean_scores = _ridge_torch.cv_scores(
            Xd,
            Y,
            alphas_sorted,
            bases,
            score=score,
            batches=batches,
            dtype=dtype,
            device=device,
            show_progress=show_progress,
        )
    else:
        mean_scores = np.empty((len(alphas), n_targets), dtype=np.float64)
        coef = np.empty((n_features, n_targets), dtype=dtype) if refit else None
        intercept = np.zeros(n_targets, dtype=np.float64) if refit else None
        # one task per batch of targets: the features and bases are shared (scattered
        # once on a cluster), each task carries its batch of targets only; batches are
        # read lazily, so ``Y`` may be a memory map (or any array sliced on demand)
        results = run_tasks(
            _cv_batch,
            ((np.ascontiguousarray(Y[:, batch], dtype=dtype),) for batch in batches),
            shared={
                "Xd": Xd,
                "bases": bases,
                "full": full,
                "alphas_sorted": alphas_sorted,
                "score": score,
            },
            scheduler=scheduler,
            max_in_flight=max_in_flight,
            total=len(batches),
            progress=show_progress,
            desc="ridge_cv",
        )
        for k, res in results:
            batch = batches[k]
            mean_scores[:, batch] = res["scores"]
            if refit:
                coef[:, batch], intercept[batch] = res["coef"], res["intercept"]
            del res
    best_sorted = _best_alpha(mean_scores)
    out: dict[str, np.ndarray] = {
        "alpha_index": order[best_sorted],
        "best_alpha": alphas_sorted[best_sorted],
        "cv_score": mean_scores[best_sorted, np.arange(n_targets)],
        "scores": mean_scores[np.argsort(order)],
    }
    if refit and backend != "torch":
        out["coef"], out["intercept"] = coef, intercept
    elif refit:
        coef, intercept = ridge_fit_arrays(
            Xd,
            Y,
            out["best_alpha"],
            fit_intercept=fit_intercept,
            targets_batch=targets_batch,
            dtype=dtype,
            basis=full,
        )
        out["coef"], out["intercept"] = coef, intercept
    return out
