"""Encoding models: ridge regression from features to brain responses.

:func:`ridge_cv` fits one ridge model per target (voxel, parcel, channel) with
its own regularisation chosen by time-respecting cross-validation, and refits
on all samples; :func:`cross_validated_scores` nests it inside outer folds to
give held-out Pearson r and R^2; :func:`encode` / :func:`layer_scores` run that
for every layer of a network (and every subject), and :func:`brain_score`
summarises which layer predicts each target best. Noise ceilings, block
permutation nulls and FIR delays are in :mod:`neurodata.analyses.encoding_stats`
and re-exported here.

The numerical kernels live in :mod:`neurodata.analyses._ridge`; see its
docstring for the algorithm (one eigen-decomposition per fold, training
targets projected once per fold, every alpha scored by one small product).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from . import _ridge
from ._inputs import (
    _as_matrix,
    _check_pair,
    _column_array,
    _dtype,
    _groups,
    _pick_backend,
    _pick_score,
)
from ._nested import _nested_cv, _preprocessor
from ._splitters import check_splits

__all__ = ["DEFAULT_ALPHAS", "cross_validated_scores", "ridge_cv"]

#: Default alpha grid: 10^-1 ... 10^7, 9 values (a wide grid for z-scored features).
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-1, 7, 9))


# --------------------------------------------------------------------------------------
# ridge with per-target alphas
# --------------------------------------------------------------------------------------


def ridge_cv(
    X: Any,
    Y: Any,
    alphas: Sequence[float] | np.ndarray = DEFAULT_ALPHAS,
    *,
    cv: Any = 5,
    groups: Any = None,
    fit_intercept: bool = True,
    scoring: str = "neg_mse",
    targets_batch: int | None = 2048,
    dtype: Any = "float32",
    backend: str = "numpy",
    device: str | None = None,
    progress: bool = False,
    scheduler: Any = None,
) -> xr.Dataset:
    """Ridge regression with one alpha per target, chosen by cross-validation.

    For each fold the training features are diagonalised once; the training
    targets are projected on that basis once per batch of targets and every
    alpha is then scored by one small product, so memory is bounded by
    ``targets_batch`` and no (alphas, samples, targets) tensor is built. Each
    target takes the alpha with the best mean score over folds (ties go to the
    larger alpha) and is refit on all samples with it. When features outnumber
    training samples the kernel (dual) form is used.

    Parameters
    ----------
    X : array_like (samples, features) or xarray.DataArray
        Features. A DataArray needs a ``time`` (or ``sample``) dim; its other
        dims (e.g. ``unit``, or ``delay`` and ``unit``) are stacked into ``feature``.
    Y : array_like (samples, targets) or xarray.DataArray
        Responses with dims (``time``, <target dims>), e.g. (``time``, ``parcel``);
        the target dims are stacked into ``target`` and their coordinates kept.
    alphas : sequence of float
        Positive, distinct regularisation strengths.
    cv : int, splitter or iterable of (train, test)
        Folds for choosing alphas. An int is :class:`ContiguousKFold` (never
        shuffled); use :class:`LeaveGroupOut` with ``groups`` for runs/stories.
    groups : array_like or str, optional
        One label per sample, or the name of a coordinate along ``time`` of
        ``X`` or ``Y`` (e.g. ``"run"``), for group splitters.
    fit_intercept : bool
        Centre features and targets on their training means in every fold.
    scoring : {"neg_mse", "r2", "r"}
        Per-fold score averaged over folds to choose alphas. ``"neg_mse"`` is
        himalaya's default (``l2_neg_loss``).
    targets_batch : int or None
        Targets processed together; bounds memory (None: all at once).
    dtype : {"float32", "float64"}
        Precision of the large products (decompositions are always float64).
    backend : {"numpy", "torch"}
        Where the cross-validation products run; ``"torch"`` needs the
        ``models`` extra and uses ``device`` (e.g. ``"cuda"``; default CPU).
    device : str, optional
        torch device for ``backend="torch"``.
    progress : bool
        Show a progress bar over batches of targets.
    scheduler : None, str, distributed.Client or cluster
        Where the batches of targets run: None (this process), ``"threads"``,
        ``"processes"``, a ``distributed.Client``, a cluster or a scheduler
        address (connected to once per call: pass a Client to reuse one).
        Results do not depend on it.

    Returns
    -------
    xarray.Dataset
        ``best_alpha`` (target), ``cv_score`` (target): mean CV score at the
        chosen alpha, ``scores`` (alpha, target): mean CV score of every alpha,
        ``coef`` (feature, target) and ``intercept`` (target) refit on all
        samples. Attrs record the parameters.
    """
    Xa, x_template = _as_matrix(X, "features", "feature")
    Ya, y_template = _as_matrix(Y, "responses", "target")
    _check_pair(Xa, Ya)
    alphas_arr = _ridge._check_alphas(alphas)
    splits = check_splits(cv, Xa.shape[0], _groups(groups, X, Y))
    out = _ridge.ridge_cv_arrays(
        Xa,
        Ya,
        alphas_arr,
        splits,
        fit_intercept=fit_intercept,
        score=_pick_score(scoring),
        targets_batch=targets_batch,
        dtype=_dtype(dtype),
        show_progress=progress,
        backend=_pick_backend(backend),
        device=device,
        scheduler=scheduler,
    )
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    feature = _column_array(np.empty(Xa.shape[1]), x_template, "feature")
    coords = {**target.coords, **feature.coords, "alpha": alphas_arr}
    ds = xr.Dataset(
        {
            "best_alpha": ("target", out["best_alpha"]),
            "cv_score": ("target", out["cv_score"]),
            "scores": (("alpha", "target"), out["scores"]),
            "coef": (("feature", "target"), out["coef"]),
            "intercept": ("target", out["intercept"]),
        },
        coords=coords,
        attrs={
            "scoring": scoring,
            "cv": repr(cv),
            "n_splits": len(splits),
            "fit_intercept": int(fit_intercept),
            "dtype": str(np.dtype(dtype)),
        },
    )
    return ds


def cross_validated_scores(
    X: Any,
    Y: Any,
    alphas: Sequence[float] | np.ndarray = DEFAULT_ALPHAS,
    *,
    cv: Any = 5,
    inner_cv: Any = 5,
    groups: Any = None,
    fit_intercept: bool = True,
    scoring: str = "neg_mse",
    targets_batch: int | None = 2048,
    dtype: Any = "float32",
    backend: str = "numpy",
    device: str | None = None,
    return_predictions: bool = False,
    progress: bool = False,
    drift_cutoff: float | None = None,
    confounds: Any = None,
    zscore: bool = False,
    runs: Any = None,
    tr: float | None = None,
    scheduler: Any = None,
) -> xr.Dataset:
    """Held-out Pearson r and R^2 per target by nested cross-validation.

    The outer folds (``cv``) give the scores; within each outer training set,
    :func:`ridge_cv` chooses each target's alpha with the inner folds
    (``inner_cv``) and refits, and the model predicts the outer test samples,
    which are never seen while choosing alphas. Optional preprocessing (drift
    removal, nuisance regression, z-scoring) is estimated on each outer
    training set and applied to its test set (see :mod:`._confounds`).

    Parameters
    ----------
    X, Y, alphas, groups, fit_intercept, scoring, targets_batch, dtype, backend, device, scheduler
        As in :func:`ridge_cv` (``scoring`` chooses alphas in the inner loop).
    cv : int, splitter or iterable of (train, test)
        Outer folds (an int is :class:`ContiguousKFold`).
    inner_cv : int or splitter
        Inner folds, applied to each outer training set (an int is
        :class:`ContiguousKFold`; a group splitter gets the training groups).
    return_predictions : bool
        Also return ``prediction`` and ``response`` (time, target): the held-out
        prediction of every sample in an outer test set and the (preprocessed)
        response it is scored against (NaN elsewhere).
    drift_cutoff : float, optional
        High-pass period (s) of a cosine drift basis fitted per run on the
        training samples of each outer fold and removed from features and
        responses (None: none). Needs ``tr`` or labelled input with a sampling rate.
    confounds : array_like or xarray.DataArray (time[, regressor]), optional
        Nuisance regressors (motion, word rate, sound power) regressed out of
        features and responses with coefficients fitted on each outer training set.
    zscore : bool
        z-score every run of features and responses with the training samples'
        statistics.
    runs : array_like or str, optional
        Run labels along time (or a coordinate name) for per-run drift and
        z-scores; default one run. Independent of ``groups`` (the folds).
    tr : float, optional
        Sampling period (s); default from ``attrs["sfreq"]`` or the ``time``
        coordinate of labelled input.

    Returns
    -------
    xarray.Dataset
        ``r`` and ``r2`` (target): computed on the held-out samples of every
        outer fold pooled together; ``r_fold``, ``r2_fold`` and ``alpha``
        (fold, target): per outer fold. Optional ``prediction`` and ``response``
        (time, target).
    """
    Xa, _ = _as_matrix(X, "features", "feature")
    Ya, y_template = _as_matrix(Y, "responses", "target")
    _check_pair(Xa, Ya)
    alphas_arr = _ridge._check_alphas(alphas)
    group_arr = _groups(groups, X, Y)
    prep = _preprocessor(
        Xa.shape[0], drift_cutoff, confounds, zscore, _groups(runs, X, Y), tr, X, Y
    )
    out = _nested_cv(
        Xa,
        Ya,
        None,
        alphas_arr,
        cv,
        inner_cv,
        group_arr,
        prep,
        dict(
            fit_intercept=fit_intercept,
            score=_pick_score(scoring),
            targets_batch=targets_batch,
            dtype=_dtype(dtype),
            backend=_pick_backend(backend),
            device=device,
            scheduler=scheduler,
        ),
        progress,
    )
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    ds = xr.Dataset(
        {
            "r": ("target", out["r"]),
            "r2": ("target", out["r2"]),
            "r_fold": (("fold", "target"), out["r_fold"]),
            "r2_fold": (("fold", "target"), out["r2_fold"]),
            "alpha": (("fold", "target"), out["alpha"]),
        },
        coords={**target.coords, "fold": np.arange(out["alpha"].shape[0])},
        attrs={
            "scoring": scoring,
            "cv": repr(cv),
            "inner_cv": repr(inner_cv),
            "fit_intercept": int(fit_intercept),
            "dtype": str(np.dtype(dtype)),
            "alphas": alphas_arr,
            "drift_cutoff": "none" if drift_cutoff is None else float(drift_cutoff),
            "confounds": 0 if confounds is None else 1,
            "zscore": int(zscore),
        },
    )
    if return_predictions:
        ds["prediction"] = (("time", "target"), out["prediction"])
        ds["prediction"].attrs["long_name"] = "held-out prediction (NaN outside outer test sets)"
        ds["response"] = (("time", "target"), out["response"])
        ds["response"].attrs["long_name"] = "held-out response after fold-wise preprocessing"
    return ds
