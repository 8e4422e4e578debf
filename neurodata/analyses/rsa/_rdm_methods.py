"""Numpy kernels behind [`neurodata.analyses.rsa.rdm`][] and the noise estimators.

Every kernel takes plain arrays whose last axes are the core dims and broadcasts
over any leading axes:

- non-cross-validated kernels: ``x`` of shape ``(..., n_condition, n_feature)``;
- cross-validated kernels: ``x`` of shape ``(..., n_fold, n_condition, n_feature)``;

and returns ``(..., n_condition, n_condition)`` float64 matrices, exactly
symmetric with a zero diagonal. ``precision`` is ``None`` (identity, never
materialised) or a ``(..., n_feature, n_feature)`` precision matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import SchemaError

__all__ = ["NOISE_METHODS", "RDM_KERNELS", "noise_covariance"]


def _finish(d: np.ndarray) -> np.ndarray:
    """Symmetrise exactly and zero the diagonal."""
    d = 0.5 * (d + np.swapaxes(d, -1, -2))
    idx = np.arange(d.shape[-1])
    d[..., idx, idx] = 0.0
    return d


def _whiten(x: np.ndarray, precision: np.ndarray | None) -> np.ndarray:
    """``x @ L`` with ``L L^T = precision`` so that inner products become Mahalanobis ones."""
    if precision is None:
        return x
    precision = np.asarray(precision, dtype=float)
    try:
        root = np.linalg.cholesky(precision)
    except np.linalg.LinAlgError:  # positive semi-definite: symmetric square root
        w, v = np.linalg.eigh(precision)
        root = v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]
    return x @ root


def _from_kernel(k: np.ndarray, n_feature: int) -> np.ndarray:
    """d_ij = k_ii + k_jj - k_ij - k_ji, divided by the number of features."""
    diag = np.diagonal(k, axis1=-2, axis2=-1)
    d = diag[..., :, None] + diag[..., None, :] - k - np.swapaxes(k, -1, -2)
    return _finish(d / n_feature)


def _demean(x: np.ndarray, remove_mean: bool) -> np.ndarray:
    return x - x.mean(axis=-1, keepdims=True) if remove_mean else x


def euclidean(x: np.ndarray, *, remove_mean: bool = False, **_: object) -> np.ndarray:
    """Squared Euclidean distance per feature (rsatoolbox's ``'euclidean'``)."""
    x = _demean(np.asarray(x, dtype=float), remove_mean)
    return _from_kernel(x @ np.swapaxes(x, -1, -2), x.shape[-1])


def mahalanobis(
    x: np.ndarray, *, precision: np.ndarray | None = None, remove_mean: bool = False, **_: object
) -> np.ndarray:
    """Squared Mahalanobis distance per feature: (x_i - x_j) P (x_i - x_j)^T / p."""
    x = _demean(np.asarray(x, dtype=float), remove_mean)
    w = _whiten(x, precision)
    return _from_kernel(w @ np.swapaxes(w, -1, -2), x.shape[-1])


def correlation(x: np.ndarray, **_: object) -> np.ndarray:
    """1 - Pearson correlation between patterns."""
    x = np.asarray(x, dtype=float)
    x = x - x.mean(axis=-1, keepdims=True)
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return _finish(1.0 - x @ np.swapaxes(x, -1, -2))


def cosine(x: np.ndarray, **_: object) -> np.ndarray:
    """1 - cosine similarity between patterns (scipy's ``pdist(..., 'cosine')``)."""
    x = np.asarray(x, dtype=float)
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return _finish(1.0 - x @ np.swapaxes(x, -1, -2))


def _prior(x: np.ndarray, prior_lambda: float, prior_weight: float) -> np.ndarray:
    return (np.asarray(x, dtype=float) + prior_lambda * prior_weight) / (1.0 + prior_weight)


def poisson(
    x: np.ndarray, *, prior_lambda: float = 1.0, prior_weight: float = 0.1, **_: object
) -> np.ndarray:
    """Symmetrised KL divergence between Poisson rates, per feature (rsatoolbox's ``'poisson'``)."""
    x = _prior(x, prior_lambda, prior_weight)
    return _from_kernel(x @ np.swapaxes(np.log(x), -1, -2), x.shape[-1])


def crossnobis(
    x: np.ndarray, *, precision: np.ndarray | None = None, remove_mean: bool = False, **_: object
) -> np.ndarray:
    """Cross-validated squared Mahalanobis distance per feature, averaged over folds.

    Equals rsatoolbox's leave-one-fold-out estimator (test fold against the mean
    of the other folds, averaged over test folds). Because the distance is
    linear in the fold-by-fold inner products, the average is computed from the
    sum over ordered pairs of distinct folds, ``S S^T - sum_k X_k X_k^T`` with
    ``S`` the sum over folds: ``n_fold + 1`` products instead of ``2 n_fold``,
    and a single product when there are two folds. No identity is materialised.
    """
    x = _demean(np.asarray(x, dtype=float), remove_mean)
    n_fold = x.shape[-3]
    if n_fold < 2:
        raise SchemaError(f"crossnobis needs at least 2 folds; got {n_fold}")
    if precision is not None and np.ndim(precision) > 2:  # one per RDM: broadcast over folds
        precision = np.asarray(precision)[..., None, :, :]
    w = _whiten(x, precision)
    if n_fold == 2:
        k = w[..., 0, :, :] @ np.swapaxes(w[..., 1, :, :], -1, -2)
        k = k + np.swapaxes(k, -1, -2)
    else:
        s = w.sum(axis=-3)
        k = s @ np.swapaxes(s, -1, -2) - np.einsum("...fik,...fjk->...ij", w, w)
    return _from_kernel(k / (n_fold * (n_fold - 1)), x.shape[-1])


def poisson_cv(
    x: np.ndarray, *, prior_lambda: float = 1.0, prior_weight: float = 0.1, **_: object
) -> np.ndarray:
    """Cross-validated symmetrised Poisson KL divergence, averaged over all test folds.

    rsatoolbox 0.3.2 overwrites its result in the fold loop and returns the last
    fold only; here every fold is a test fold once (train = mean of the others)
    and the RDMs are averaged, as for crossnobis.
    """
    x = np.asarray(x, dtype=float)
    n_fold = x.shape[-3]
    if n_fold < 2:
        raise SchemaError(f"poisson_cv needs at least 2 folds; got {n_fold}")
    total = x.sum(axis=-3)
    out = 0.0
    for k in range(n_fold):
        test = _prior(x[..., k, :, :], prior_lambda, prior_weight)
        train = _prior((total - x[..., k, :, :]) / (n_fold - 1), prior_lambda, prior_weight)
        out = out + _from_kernel(train @ np.swapaxes(np.log(test), -1, -2), x.shape[-1])
    return _finish(out / n_fold)


#: name -> (kernel, cross-validated?)
RDM_KERNELS: dict[str, tuple[Callable[..., np.ndarray], bool]] = {
    "euclidean": (euclidean, False),
    "correlation": (correlation, False),
    "cosine": (cosine, False),
    "mahalanobis": (mahalanobis, False),
    "crossnobis": (crossnobis, True),
    "poisson": (poisson, False),
    "poisson_cv": (poisson_cv, True),
}


# --------------------------------------------------------------------------------------
# noise covariance estimators (same definitions as rsatoolbox.data.noise)
# --------------------------------------------------------------------------------------


def _cov_full(r: np.ndarray, dof: float) -> np.ndarray:
    return r.T @ r / dof


def _cov_diag(r: np.ndarray, dof: float) -> np.ndarray:
    return np.diag(np.einsum("ij,ij->j", r, r) / dof)


def _cov_shrinkage_eye(r: np.ndarray, dof: float) -> np.ndarray:
    """Ledoit & Wolf (2004) shrinkage towards a multiple of the identity."""
    n = r.shape[0]
    s = r.T @ r / n
    r2 = r * r
    b2 = np.sum(r2.T @ r2 / n - s * s) / n
    m = np.trace(s) / s.shape[0]
    target = m * np.eye(s.shape[0])
    d2 = np.sum((s - target) ** 2)
    b2 = min(d2, b2)
    return (b2 / d2 * target + (d2 - b2) / d2 * s) * n / dof


def _cov_shrinkage_diag(r: np.ndarray, dof: float) -> np.ndarray:
    """Schäfer & Strimmer (2005) shrinkage of the correlations towards zero."""
    n = r.shape[0]
    s_sum = r.T @ r
    r2 = r * r
    s2_sum = r2.T @ r2
    s = s_sum / dof
    var = np.diag(s)
    std = np.sqrt(var)
    s_mean = s_sum / std[None, :] / std[:, None] / (n - 1)
    s2_mean = s2_sum / var[None, :] / var[:, None] / (n - 1)
    var_hat = n / dof**2 * (s2_mean - s_mean**2)
    mask = ~np.eye(s.shape[0], dtype=bool)
    lamb = np.sum(var_hat[mask]) / np.sum(s_mean[mask] ** 2)
    lamb = max(min(lamb, 1.0), 0.0)
    return s * (np.eye(s.shape[0]) + (1.0 - lamb) * mask)


#: Noise covariance estimators from residuals ``(n_residual, n_feature)``.
NOISE_METHODS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "full": _cov_full,
    "diag": _cov_diag,
    "shrinkage_eye": _cov_shrinkage_eye,
    "shrinkage_diag": _cov_shrinkage_diag,
}


def noise_covariance(residuals: np.ndarray, method: str, dof: float | None = None) -> np.ndarray:
    """Covariance of demeaned ``residuals`` (n_residual, n_feature); ``dof`` defaults to n - 1."""
    r = np.asarray(residuals, dtype=float)
    r = r - r.mean(axis=0, keepdims=True)
    dof = r.shape[0] - 1 if dof is None else dof
    return NOISE_METHODS[method](r, dof)
