"""Banded ridge and variance partitioning on several feature spaces.

[`banded_ridge_cv`][] fits one model on several feature spaces ("bands",
e.g. two layers, or a layer plus word rate and sound power) with the weight of
every band learned per target by cross-validation; [`banded_scores`][] gives
its held-out scores by nested cross-validation, with the joint R^2 split over
bands (product measure); [`variance_partition`][] fits every subset of bands
and partitions the held-out variance into the part unique to each band and the
parts they share. The kernels are in `neurodata.analyses.encoding._banded`. All
functions are re-exported by [`neurodata.analyses.encoding`][].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ...errors import SchemaError
from . import _banded
from ._inputs import (
    _as_matrix,
    _check_pair,
    _column_array,
    _groups,
)
from ._nested import NestedRun, _preprocessor
from ._settings import RidgeSettings, as_ridge_settings
from ._splitters import check_splits

__all__ = ["banded_ridge_cv", "banded_scores", "variance_partition"]


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def _spaces(feature_spaces: Any) -> tuple[list[str], list[np.ndarray], list[Any]]:
    """Names and (samples, features) matrices of the bands, in the given order."""
    if isinstance(feature_spaces, xr.Dataset):
        items = [(str(k), feature_spaces[k]) for k in feature_spaces.data_vars]
    elif isinstance(feature_spaces, Mapping):
        items = [(str(k), v) for k, v in feature_spaces.items()]
    else:
        raise SchemaError(
            "`feature_spaces` must be a dict {name: features} or an xarray.Dataset of feature "
            f"spaces; got {type(feature_spaces).__name__}"
        )
    if len(items) < 1:
        raise SchemaError("`feature_spaces` is empty; expected at least one feature space")
    names, mats = [], []
    for name, obj in items:
        X, _ = _as_matrix(obj, f"feature space {name!r}", "feature")
        names.append(name)
        mats.append(X)
    n = {X.shape[0] for X in mats}
    if len(n) != 1:
        raise SchemaError(
            "feature spaces must have the same number of samples; got "
            f"{dict(zip(names, [X.shape[0] for X in mats]))}"
        )
    return names, mats, [obj for _, obj in items]


def _candidates(
    band_weights: Any, n_bands: int, n_iter: int, concentration: Any, seed: int
) -> np.ndarray:
    """Candidate band weights (n_candidates, n_bands), each row summing to one.

    ``band_weights`` names a search of `_banded.SEARCHES` or gives the rows.
    """
    if isinstance(band_weights, str):
        if band_weights not in _banded.SEARCHES:
            raise SchemaError(
                f"`band_weights` must be one of {sorted(_banded.SEARCHES)} or an array "
                f"(n_candidates, n_bands); got {band_weights!r}"
            )
        gammas = _banded.SEARCHES[band_weights](n_bands, n_iter, concentration, seed)
    else:
        gammas = band_weights
    return _banded.check_candidates(gammas, n_bands)


def _split_columns(sizes: Sequence[int]) -> list[slice]:
    stops = np.cumsum(sizes)
    return [slice(int(s - n), int(s)) for n, s in zip(sizes, stops)]


def _banded_fit(
    sizes: Sequence[int], gammas: np.ndarray, settings: RidgeSettings, *, device: str | None = None
) -> Callable:
    """A fit function for the nested-CV loop: banded ridge on column blocks ``sizes``.

    Banded fits run in this process (``scheduler`` applies to single-band ridge only).
    """
    slices = _split_columns(sizes)

    def fit(Xtr: np.ndarray, Ytr: np.ndarray, Xte: np.ndarray, inner: list) -> tuple:
        bands = [Xtr[:, sl] for sl in slices]
        res = _banded.banded_cv_arrays(bands, Ytr, gammas, inner, settings, device=device)
        parts = _banded.band_predictions(
            [Xte[:, sl] for sl in slices], res["coef"], res["intercept"]
        )
        info = {"band_weight": res["band_weight"], "band_prediction": parts}
        return parts.sum(0), res["best_alpha"], info

    return fit


def _banded_fit_function(
    n_baseline: int, settings: RidgeSettings, band_weights: Any, *, seed: int
) -> Callable:
    """For [`encode`][]: columns are [layer features, baseline features]."""
    gammas = _candidates(band_weights, 2, 20, (0.1, 1.0), seed)

    def fit(Xtr: np.ndarray, Ytr: np.ndarray, Xte: np.ndarray, inner: list) -> tuple:
        sizes = (Xtr.shape[1] - n_baseline, n_baseline)
        return _banded_fit(sizes, gammas, settings)(Xtr, Ytr, Xte, inner)

    return fit


# --------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------


def banded_ridge_cv(
    feature_spaces: Mapping[str, Any] | xr.Dataset,
    Y: Any,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    band_weights: str | np.ndarray = "random",
    n_iter: int = 20,
    concentration: float | Sequence[float] = (0.1, 1.0),
    seed: int = 0,
    groups: Any = None,
    progress: bool | None = None,
    device: str | None = None,
    **fields: Any,
) -> xr.Dataset:
    """Banded ridge: one weight per feature space and target, learned by cross-validation.

    Band ``b`` is penalised by ``alpha / gamma_b``: equivalently kernel ridge on
    ``sum_b gamma_b X_b X_b'`` (himalaya's ``MultipleKernelRidgeCV`` /
    ``BandedRidgeCV``). Every candidate ``gamma`` on the simplex is scored for
    every alpha by per-target cross-validation; each target keeps its best
    (candidate, alpha) pair (a later candidate must beat an earlier one by
    more than the dtype's epsilon, ties of alpha go to the larger one) and is
    refit on all samples.

    Parameters
    ----------
    feature_spaces : dict of {str: array_like or xarray.DataArray} or xarray.Dataset
        The bands, each (``time``, <feature dims>) (e.g. (``time``, ``delay``,
        ``unit``)) or an array (samples, features), all with the same samples.
        Standardise features first: the weights are relative to their scale.
    Y : array_like (samples, targets) or xarray.DataArray (``time``, <target dims>)
        Responses.
    settings : RidgeSettings, sequence of float or None
        The ridge settings (``cv`` chooses the weights and alphas here), or the alphas
        alone; ``**fields`` override it (see [`neurodata.analyses.encoding.ridge_cv`][]).
    band_weights : {"random", "grid"} or array (n_candidates, n_bands)
        Candidate band weights: ``"random"`` draws ``n_iter`` from Dirichlet
        distributions (the first is uniform), ``"grid"`` spans log-ratios from
        1e-3 to 1e3 and each band alone (for 2-3 bands); an array is used as
        given (rows normalised to sum to one).
    n_iter, concentration, seed
        Size, Dirichlet concentrations (cycled) and seed of the random search.
    groups, device, progress
        As in [`neurodata.analyses.encoding.ridge_cv`][].

    Returns
    -------
    xarray.Dataset
        ``band_weight`` (band, target): the chosen weights (sum to one);
        ``best_alpha`` (target); ``deltas`` (band, target): ``log(gamma / alpha)``
        (himalaya's parametrisation; -inf for a band switched off);
        ``cv_score`` (target); ``candidate_scores`` (candidate, target): mean CV
        score of each candidate at its best alpha; ``candidates`` (candidate,
        band); ``coef`` (feature, target) on the unscaled features, with coordinate
        ``band`` (feature); ``intercept`` (target).
    """
    settings = as_ridge_settings(settings, **fields)
    names, mats, _ = _spaces(feature_spaces)
    Ya, y_template = _as_matrix(Y, "responses", "target")
    for X in mats:
        _check_pair(X, Ya)
    gammas = _candidates(band_weights, len(mats), n_iter, concentration, seed)
    splits = check_splits(
        settings.cv, Ya.shape[0], _groups(groups, Y, *feature_spaces_values(feature_spaces))
    )
    out = _banded.banded_cv_arrays(
        mats, Ya, gammas, splits, settings, progress=resolve("progress", progress),
        device=resolve("device", device),
    )  # fmt: skip
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    band_of_feature = np.concatenate([[n] * X.shape[1] for n, X in zip(names, mats)])
    with np.errstate(divide="ignore"):
        deltas = np.log(out["band_weight"] / out["best_alpha"][None, :])
    return xr.Dataset(
        {
            "band_weight": (("band", "target"), out["band_weight"]),
            "best_alpha": ("target", out["best_alpha"]),
            "deltas": (("band", "target"), deltas),
            "cv_score": ("target", out["cv_score"]),
            "candidate_scores": (("candidate", "target"), out["candidate_scores"]),
            "candidates": (("candidate", "band"), gammas),
            "coef": (("feature", "target"), out["coef"]),
            "intercept": ("target", out["intercept"]),
        },
        coords={
            **target.coords,
            "band": names,
            "feature": np.arange(len(band_of_feature)),
            "feature_band": ("feature", band_of_feature.astype(object)),
            "candidate": np.arange(len(gammas)),
            "alpha": settings.alphas_array,
        },
        attrs={
            **settings.describe(),
            "n_splits": len(splits),
            "band_weights": band_weights if isinstance(band_weights, str) else "given",
        },
    )


def feature_spaces_values(feature_spaces: Any) -> list[Any]:
    """The feature-space objects (to look up coordinates such as ``groups="run"``)."""
    if isinstance(feature_spaces, xr.Dataset):
        return [feature_spaces]
    if isinstance(feature_spaces, Mapping):
        return list(feature_spaces.values())
    return []


def _nested_run(
    n: int,
    feature_spaces: Any,
    Y: Any,
    settings: RidgeSettings,
    *,
    groups: Any,
    drift_cutoff: Any,
    zscore: bool,
    confounds: Any,
    runs: Any,
    tr: Any,
    device: str | None,
) -> NestedRun:
    objs = [Y, *feature_spaces_values(feature_spaces)]
    prep = _preprocessor(n, *objs, drift_cutoff=drift_cutoff, confounds=confounds,
                         zscore=zscore, runs=_groups(runs, *objs), tr=tr)  # fmt: skip
    return NestedRun(settings, prep, group_arr=_groups(groups, *objs), device=device)


def _pooled_split(res: dict, n_bands: int) -> np.ndarray:
    """Product-measure split of the pooled held-out R^2 (bands, targets)."""
    tested = res["tested"]
    n, t = res["response"].shape
    parts = np.full((n_bands, n, t), np.nan)
    for info in res["extra"]:
        parts[:, info["test"]] = info["band_prediction"]
    return _banded.split_r2(res["response"][tested], parts[:, tested])


def banded_scores(
    feature_spaces: Mapping[str, Any] | xr.Dataset,
    Y: Any,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    band_weights: str | np.ndarray = "random",
    n_iter: int = 20,
    concentration: float | Sequence[float] = (0.1, 1.0),
    seed: int = 0,
    groups: Any = None,
    drift_cutoff: float | None = None,
    zscore: bool = False,
    confounds: Any = None,
    runs: Any = None,
    tr: float | None = None,
    progress: bool | None = None,
    device: str | None = None,
    **fields: Any,
) -> xr.Dataset:
    """Held-out scores of a banded ridge model by nested cross-validation.

    In every outer training set, each target's band weights (from the
    candidates of ``band_weights``) and its alpha are chosen on the inner
    folds, the model is refitted on the whole training set and predicts the
    outer test samples; the held-out predictions of all outer folds are pooled
    into one score per target. Use it rather than [`variance_partition`][]
    when the joint model and its split over bands are all you need: one fit
    instead of ``2^n - 1``.

    Parameters
    ----------
    feature_spaces, Y, band_weights, n_iter, concentration, seed
        As in [`banded_ridge_cv`][] (band weights and alphas are chosen on the
        inner folds of every outer training set).
    settings, groups, device, **fields
        As in [`neurodata.analyses.encoding.cross_validated_scores`][] (``cv``:
        outer folds, ``inner_cv``: inner folds).
    drift_cutoff, confounds, zscore, runs, tr
        Preprocessing estimated inside the outer folds, as in
        [`neurodata.analyses.encoding.cross_validated_scores`][].

    Returns
    -------
    xarray.Dataset
        ``r``, ``r2`` (target): pooled held-out scores of the joint model;
        ``r2_split`` (band, target): its R^2 split over bands (product measure,
        himalaya's ``r2_score_split``; the terms sum to the R^2 of the
        mean-corrected prediction); ``band_weight`` (fold, band, target) and
        ``alpha`` (fold, target) chosen in every outer fold.
    """
    settings = as_ridge_settings(settings, **fields)
    names, mats, _ = _spaces(feature_spaces)
    Ya, y_template = _as_matrix(Y, "responses", "target")
    X = np.hstack(mats)
    _check_pair(X, Ya)
    nested = _nested_run(Ya.shape[0], feature_spaces, Y, settings, groups=groups,
                         drift_cutoff=drift_cutoff, zscore=zscore, confounds=confounds,
                         runs=runs, tr=tr, device=resolve("device", device))  # fmt: skip
    gammas = _candidates(band_weights, len(mats), n_iter, concentration, seed)
    fit = _banded_fit([m.shape[1] for m in mats], gammas, settings, device=nested.device)
    res = nested(X, Ya, progress=resolve("progress", progress), fit=fit)
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    return xr.Dataset(
        {
            "r": ("target", res["r"]),
            "r2": ("target", res["r2"]),
            "r2_split": (("band", "target"), _pooled_split(res, len(mats))),
            "band_weight": (
                ("fold", "band", "target"),
                np.stack([info["band_weight"] for info in res["extra"]]),
            ),
            "alpha": (("fold", "target"), res["alpha"]),
        },
        coords={**target.coords, "band": names, "fold": np.arange(res["alpha"].shape[0])},
        attrs=settings.describe(),
    )


def _subset_candidates(gammas: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """Candidate weights (n_candidates, n_bands) restricted to the bands of ``subset``.

    Rows with no weight on the subset are dropped, the others renormalised to sum
    to one, and repeats removed (only the ratios of weights matter).
    """
    sub = gammas[:, list(subset)]
    sub = sub[sub.sum(1) > 0]
    if len(sub) == 0:
        raise SchemaError(
            f"`band_weights`: no candidate gives weight to the bands {list(subset)}; "
            "expected every subset of bands to have a candidate with weight on it"
        )
    return np.unique(sub / sub.sum(1, keepdims=True), axis=0)


def variance_partition(
    feature_spaces: Mapping[str, Any] | xr.Dataset,
    Y: Any,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    band_weights: str | np.ndarray = "grid",
    n_iter: int = 20,
    concentration: float | Sequence[float] = (0.1, 1.0),
    seed: int = 0,
    groups: Any = None,
    drift_cutoff: float | None = None,
    zscore: bool = False,
    confounds: Any = None,
    runs: Any = None,
    tr: float | None = None,
    device: str | None = None,
    **fields: Any,
) -> xr.Dataset:
    """Unique and shared held-out variance of every feature space (set-theoretic partition).

    Every non-empty subset of bands is fitted by nested cross-validation (one
    band: per-target ridge; several: banded ridge) and its held-out R^2
    ``f(T)`` measured on the same outer folds. The variance explained by
    exactly the bands ``S`` is the Moebius inversion of
    ``h(T) = f(all) - f(all minus T)`` (de Heer et al. 2017): for two bands A
    and B, unique A = f(AB) - f(B), unique B = f(AB) - f(A) and shared
    = f(A) + f(B) - f(AB). With ``2^n - 1`` models, keep to 2-4 bands.

    Parameters
    ----------
    feature_spaces, Y, band_weights, n_iter, concentration, seed
        As in [`banded_ridge_cv`][] (``"grid"`` by default here, for 2-3 bands).
        An array (n_candidates, n_bands) serves every subset model: each
        subset's candidates are its columns, renormalised.
    settings, groups, device, drift_cutoff, confounds, zscore, runs, tr, **fields
        As in [`banded_scores`][].

    Returns
    -------
    xarray.Dataset
        ``r2_subset`` (subset, target): held-out R^2 of every subset model
        (labels like ``"A+B"``); ``partition`` (component, target): variance
        explained by exactly each subset (labels like ``"A"``, ``"A&B"``),
        summing to ``total``; ``unique`` (band, target); ``shared`` (target):
        ``total`` minus the unique parts; ``total`` (target): R^2 of the joint
        model; ``r2_split`` (band, target): product-measure split of the joint
        model's R^2. Noise can make estimated components negative.
    """
    names, mats, _ = _spaces(feature_spaces)
    if len(names) > 6:
        raise SchemaError(
            f"variance_partition: {len(names)} bands need {2 ** len(names) - 1} models; keep to <= 6"
        )
    settings = as_ridge_settings(settings, **fields)
    Ya, y_template = _as_matrix(Y, "responses", "target")
    _check_pair(np.hstack(mats), Ya)
    nested = _nested_run(Ya.shape[0], feature_spaces, Y, settings, groups=groups,
                         drift_cutoff=drift_cutoff, zscore=zscore, confounds=confounds,
                         runs=runs, tr=tr, device=resolve("device", device))  # fmt: skip
    n_bands = len(mats)
    given = (
        None if isinstance(band_weights, str) else _banded.check_candidates(band_weights, n_bands)
    )
    r2: dict[tuple[int, ...], np.ndarray] = {}
    split = None
    for subset in _banded.subsets(n_bands):
        X = np.hstack([mats[i] for i in subset])
        if len(subset) == 1:
            res = nested(X, Ya)
        else:
            weights = band_weights if given is None else _subset_candidates(given, subset)
            gammas = _candidates(weights, len(subset), n_iter, concentration, seed)
            sizes = [mats[i].shape[1] for i in subset]
            res = nested(X, Ya, fit=_banded_fit(sizes, gammas, settings, device=nested.device))
            if len(subset) == n_bands:
                split = _pooled_split(res, n_bands)
        r2[subset] = res["r2"]
    if split is None:  # a single band
        split = r2[(0,)][None, :]
    comps = _banded.partition_components(r2, n_bands)
    full = tuple(range(n_bands))
    unique = np.stack([comps[(i,)] for i in range(n_bands)])
    target = _column_array(np.empty(Ya.shape[1]), y_template, "target")
    return xr.Dataset(
        {
            "r2_subset": (("subset", "target"), np.stack(list(r2.values()))),
            "partition": (("component", "target"), np.stack(list(comps.values()))),
            "unique": (("band", "target"), unique),
            "shared": ("target", r2[full] - unique.sum(0)),
            "total": ("target", r2[full]),
            "r2_split": (("band", "target"), split),
        },
        coords={
            **target.coords,
            "band": names,
            "subset": ["+".join(names[i] for i in s) for s in r2],
            "component": ["&".join(names[i] for i in s) for s in comps],
        },
        attrs=settings.describe(),
    )
