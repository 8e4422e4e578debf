"""Encoding models: ridge regression from features to brain responses.

[`ridge_cv`][] fits one ridge model per target (voxel, parcel, channel) with
its own regularisation chosen by time-respecting cross-validation, and refits
on all samples; [`cross_validated_scores`][] nests it inside outer folds to
give held-out Pearson r and R^2; [`encode`][] / [`layer_scores`][] run that
for every layer of a network (and every subject), and [`brain_score`][]
summarises which layer predicts each target best (those three are in
`._encode`). Noise ceilings, block permutation nulls and FIR delays are in
`._statistics`; all are re-exported by [`neurodata.analyses.encoding`][].

The numerical kernels live in `neurodata.analyses.encoding._ridge`; see its
docstring for the algorithm (one eigen-decomposition per fold, training
targets projected once per fold, every alpha scored by one small product).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from . import _ridge
from ._inputs import (
    _as_matrix,
    _check_pair,
    _column_array,
    _groups,
)
from ._nested import _nested_cv, _preprocessor
from ._settings import DEFAULT_ALPHAS, RidgeSettings, as_ridge_settings
from ._splitters import check_splits

__all__ = ["DEFAULT_ALPHAS", "cross_validated_scores", "ridge_cv"]


# --------------------------------------------------------------------------------------
# ridge with per-target alphas
# --------------------------------------------------------------------------------------


def ridge_cv(
    X: Any,
    Y: Any,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    groups: Any = None,
    progress: bool | None = None,
    scheduler: Any = None,
    device: str | None = None,
    **fields: Any,
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
    settings : RidgeSettings, sequence of float or None
        The ridge settings ([`RidgeSettings`][]: ``alphas``, ``cv`` — the folds
        that choose alphas here —, ``scoring``, ``fit_intercept``, ``dtype``,
        ``targets_batch``, ``backend``), or the alphas alone; None: the defaults.
    **fields
        Fields of [`RidgeSettings`][] overriding ``settings`` (``cv=10``, ...).
    groups : array_like or str, optional
        One label per sample, or the name of a coordinate along ``time`` of
        ``X`` or ``Y`` (e.g. ``"run"``), for group splitters.
    device : str, optional
        torch device for ``backend="torch"`` (default: ``nd.config(device=...)``).
    progress : bool, optional
        Show a progress bar over batches of targets (default: ``nd.config(progress=...)``).
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
    settings = as_ridge_settings(settings, **fields)
    Xa, x_template = _as_matrix(X, "features", "feature")
    Ya, y_template = _as_matrix(Y, "responses", "target")
    _check_pair(Xa, Ya)
    splits = check_splits(settings.cv, Xa.shape[0], _groups(groups, X, Y))
    out = _ridge.ridge_cv_arrays(
        Xa,
        Ya,
        splits,
        settings,
        progress=resolve("progress", progress),
        device=resolve("device", device),
        scheduler=resolve("scheduler", scheduler),
    )
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    feature = _column_array(np.empty(Xa.shape[1]), x_template, "feature")
    coords = {**target.coords, **feature.coords, "alpha": settings.alphas_array}
    ds = xr.Dataset(
        {
            "best_alpha": ("target", out["best_alpha"]),
            "cv_score": ("target", out["cv_score"]),
            "scores": (("alpha", "target"), out["scores"]),
            "coef": (("feature", "target"), out["coef"]),
            "intercept": ("target", out["intercept"]),
        },
        coords=coords,
        attrs={**settings.describe(), "n_splits": len(splits)},
    )
    return ds


def cross_validated_scores(
    X: Any,
    Y: Any,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    groups: Any = None,
    return_predictions: bool = False,
    drift_cutoff: float | None = None,
    zscore: bool = False,
    confounds: Any = None,
    runs: Any = None,
    tr: float | None = None,
    progress: bool | None = None,
    scheduler: Any = None,
    device: str | None = None,
    **fields: Any,
) -> xr.Dataset:
    """Held-out Pearson r and R^2 per target by nested cross-validation.

    The outer folds (``cv``) give the scores; within each outer training set,
    [`ridge_cv`][] chooses each target's alpha with the inner folds
    (``inner_cv``) and refits, and the model predicts the outer test samples,
    which are never seen while choosing alphas. Optional preprocessing (drift
    removal, nuisance regression, z-scoring) is estimated on each outer
    training set and applied to its test set (see `._confounds`).

    Parameters
    ----------
    X, Y, groups, device, scheduler, **fields
        As in [`ridge_cv`][].
    settings : RidgeSettings, sequence of float or None
        The ridge settings: ``cv`` are the outer folds (an int is
        [`ContiguousKFold`][]), ``inner_cv`` the inner folds applied to each outer
        training set (a group splitter gets the training groups), ``scoring``
        chooses alphas in the inner loop; or the alphas alone; None: the defaults.
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
    settings = as_ridge_settings(settings, **fields)
    Xa, _ = _as_matrix(X, "features", "feature")
    Ya, y_template = _as_matrix(Y, "responses", "target")
    _check_pair(Xa, Ya)
    prep = _preprocessor(Xa.shape[0], X, Y, drift_cutoff=drift_cutoff, confounds=confounds,
                         zscore=zscore, runs=_groups(runs, X, Y), tr=tr)  # fmt: skip
    out = _nested_cv(
        Xa,
        Ya,
        settings,
        prep=prep,
        group_arr=_groups(groups, X, Y),
        progress=resolve("progress", progress),
        device=resolve("device", device),
        scheduler=resolve("scheduler", scheduler),
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
            **settings.describe(),
            "drift_cutoff": "none" if drift_cutoff is None else float(drift_cutoff),
            "confounds": "regressed out in each fold" if confounds is not None else "none",
            "zscore": "in each fold" if zscore else "no",
        },
    )
    if return_predictions:
        ds["prediction"] = (("time", "target"), out["prediction"])
        ds["prediction"].attrs["long_name"] = "held-out prediction (NaN outside outer test sets)"
        ds["response"] = (("time", "target"), out["response"])
        ds["response"].attrs["long_name"] = "held-out response after fold-wise preprocessing"
    return ds
