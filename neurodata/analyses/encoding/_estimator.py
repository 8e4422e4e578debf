"""scikit-learn estimator around [`neurodata.analyses.encoding.ridge_cv`][].

Imported lazily (through ``neurodata.analyses.encoding.RidgeEncoder``) because it
imports scikit-learn at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ...errors import SchemaError
from . import _fit as encoding  # ridge_cv

__all__ = ["RidgeEncoder"]


class RidgeEncoder(RegressorMixin, BaseEstimator):
    """Ridge regression with one alpha per target chosen by time-respecting CV.

    A thin wrapper: [`fit`][] calls [`neurodata.analyses.encoding.ridge_cv`][]
    with the constructor parameters and keeps its result (a Dataset, so target
    coordinates survive) in ``result_``.

    Parameters
    ----------
    alphas, cv, fit_intercept, scoring, targets_batch, dtype, backend, device
        As in [`ridge_cv`][neurodata.analyses.encoding.ridge_cv].

    Attributes
    ----------
    result_ : xarray.Dataset
        The output of ``ridge_cv`` (``best_alpha``, ``cv_score``, ``coef``, ...).
    coef_ : ndarray of shape (n_features, n_targets)
    intercept_ : ndarray of shape (n_targets,)
    best_alphas_ : ndarray of shape (n_targets,)
    """

    def __init__(
        self,
        alphas: Sequence[float] | np.ndarray = encoding.DEFAULT_ALPHAS,
        cv: Any = 5,
        fit_intercept: bool = True,
        scoring: str = "neg_mse",
        targets_batch: int | None = 2048,
        dtype: Any = "float32",
        backend: str = "numpy",
        device: str | None = None,
    ) -> None:
        self.alphas = alphas
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.targets_batch = targets_batch
        self.dtype = dtype
        self.backend = backend
        self.device = device

    def fit(self, X: Any, y: Any, groups: Any = None) -> RidgeEncoder:
        """Choose each target's alpha by cross-validation and refit on all samples."""
        self.result_ = encoding.ridge_cv(
            X,
            y,
            alphas=self.alphas,
            cv=self.cv,
            groups=groups,
            fit_intercept=self.fit_intercept,
            scoring=self.scoring,
            targets_batch=self.targets_batch,
            dtype=self.dtype,
            backend=self.backend,
            device=self.device,
        )
        self.coef_ = np.asarray(self.result_["coef"].values)
        self.intercept_ = np.asarray(self.result_["intercept"].values)
        self.best_alphas_ = np.asarray(self.result_["best_alpha"].values)
        self.n_features_in_ = self.coef_.shape[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n_samples, n_targets) of the refitted model."""
        X = np.asarray(getattr(X, "values", X), dtype=self.coef_.dtype)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise SchemaError(
                f"RidgeEncoder.predict: X has shape {X.shape}; expected (n_samples, "
                f"{self.n_features_in_})"
            )
        return X @ self.coef_ + self.intercept_.astype(self.coef_.dtype)
