"""The outer loop of nested cross-validation, with fold-wise preprocessing (private)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._progress import progress as _progress_bar
from . import _ridge
from ._confounds import FoldPreprocessor
from ._inputs import _as_matrix, _sampling_period
from ._splitters import check_splits


def _predict(X: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return X.astype(coef.dtype) @ coef + intercept.astype(coef.dtype)


def _preprocessor(
    n: int, *objs: Any, drift_cutoff: Any, confounds: Any, zscore: bool, runs: Any, tr: Any
) -> FoldPreprocessor:
    """The fold preprocessing; ``objs`` are the labelled inputs to read the sampling period from."""
    if confounds is not None:
        confounds, _ = _as_matrix(confounds, "confounds", "regressor")
    if drift_cutoff is not None and tr is None:
        tr = _sampling_period(*objs)
    return FoldPreprocessor(
        n, runs=runs, tr=tr, drift_cutoff=drift_cutoff, confounds=confounds, zscore=zscore
    )


def _nested_cv(
    Xa: np.ndarray,
    Ya: np.ndarray,
    settings: Any,
    *,
    prep: FoldPreprocessor,
    group_arr: Any = None,
    Yeval: np.ndarray | None = None,
    progress: bool = False,
    device: str | None = None,
    scheduler: Any = None,
    fit: Any = None,
) -> dict[str, np.ndarray]:
    """Outer loop of nested CV on arrays; ``Yeval`` (default ``Ya``) is what predictions are scored against.

    ``settings`` (`RidgeSettings`) gives the outer folds (``cv``),
    the inner folds and the ridge fit. ``fit(Xtr, Ytr, Xte, inner_splits)`` ->
    (prediction, alpha, info) replaces the per-target ridge (used by banded ridge).
    """
    dtype = settings.np_dtype
    inner_cv = settings.inner_cv
    outer = check_splits(settings.cv, Xa.shape[0], group_arr)
    n_folds, n_targets = len(outer), Ya.shape[1]
    pred = np.full(Ya.shape, np.nan, dtype=dtype)
    held = np.full(Ya.shape, np.nan, dtype=dtype)
    r_fold = np.full((n_folds, n_targets), np.nan)
    r2_fold = np.full((n_folds, n_targets), np.nan)
    alpha = np.full((n_folds, n_targets), np.nan)
    extra: list[Any] = []
    for k, (train, test) in enumerate(
        _progress_bar(outer, desc="outer folds", enabled=progress, unit="fold")
    ):
        inner_groups = None if group_arr is None else np.asarray(group_arr)[train]
        inner = check_splits(inner_cv, len(train), inner_groups)
        arrays = (Xa, Ya) if Yeval is None else (Xa, Ya, Yeval)
        parts = prep(train, test, *arrays)
        (Xtr, Xte), (Ytr, _) = parts[0], parts[1]
        yt = parts[-1][1].astype(dtype)
        if fit is None:
            res = _ridge.ridge_cv_arrays(
                Xtr, Ytr, inner, settings, device=device, scheduler=scheduler
            )
            coef, intercept, alpha[k] = res["coef"], res["intercept"], res["best_alpha"]
            p = _predict(Xte, coef, intercept)
        else:
            p, alpha[k], info = fit(Xtr, Ytr, Xte, inner)
            extra.append({**info, "test": test})
        pred[test] = p
        held[test] = yt
        r_fold[k] = _ridge.pearson_r(yt, p)
        r2_fold[k] = _ridge.r2(yt, p)
    tested = np.unique(np.concatenate([t for _, t in outer]))
    y_held, p_held = held[tested], pred[tested]
    return {
        "r": _ridge.pearson_r(y_held, p_held),
        "r2": _ridge.r2(y_held, p_held),
        "r_fold": r_fold,
        "r2_fold": r2_fold,
        "alpha": alpha,
        "prediction": pred,
        "response": held,
        "tested": tested,
        "extra": extra,
    }


@dataclass(frozen=True)
class NestedRun:
    """What every nested-CV fit of one call shares: the settings, the folds' preprocessing,
    the group labels and where the work runs (instead of an options dict)."""

    settings: Any
    prep: FoldPreprocessor
    group_arr: Any = None
    device: str | None = None
    scheduler: Any = None

    def __call__(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        *,
        Yeval: np.ndarray | None = None,
        progress: bool = False,
        fit: Any = None,
    ) -> dict[str, np.ndarray]:
        return _nested_cv(
            X,
            Y,
            self.settings,
            prep=self.prep,
            group_arr=self.group_arr,
            Yeval=Yeval,
            progress=progress,
            device=self.device,
            scheduler=self.scheduler,
            fit=fit,
        )
