"""Layer-wise encoding on labelled data: :func:`encode`, :func:`layer_scores`, :func:`brain_score`."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..._progress import progress as _progress_bar
from ...schema import as_dataarray
from . import _ridge
from ._fit import DEFAULT_ALPHAS
from ._inputs import (
    _as_matrix,
    _check_constant,
    _dtype,
    _groups,
    _pick_backend,
    _pick_score,
    _sample_dim,
    _sampling_period,
    _stack_responses,
)
from ._nested import _nested_cv, _preprocessor
from ._statistics import (
    block_permutation_test,
)

__all__ = ["brain_score", "encode", "layer_scores"]


# --------------------------------------------------------------------------------------
# layer-wise encoding on labelled data
# --------------------------------------------------------------------------------------


def encode(
    features: Any,
    responses: Any,
    alphas: Sequence[float] | np.ndarray = DEFAULT_ALPHAS,
    *,
    cv: Any = 5,
    inner_cv: Any = 5,
    groups: Any = None,
    baseline: Any = None,
    banded: bool = False,
    cross_subject: bool = False,
    fit_intercept: bool = True,
    scoring: str = "neg_mse",
    n_permutations: int = 0,
    block: int = 10,
    seed: int = 0,
    targets_batch: int | None = 2048,
    dtype: Any = "float32",
    backend: str = "numpy",
    device: str | None = None,
    progress: bool = False,
    drift_cutoff: float | str | None = "auto",
    confounds: Any = None,
    zscore: bool = False,
    runs: Any = None,
    tr: float | None = None,
    band_weights: Any = "grid",
    scheduler: Any = None,
) -> xr.Dataset:
    """Held-out encoding scores of every layer for every target (and subject).

    Parameters
    ----------
    features : xarray.DataArray
        Dims (``time``, ``unit``) or (``layer``, ``time``[, ``delay``], ``unit``),
        sampled at the responses' times (e.g. activations resampled to TRs, with
        FIR delays from :func:`fir_delays`). ``delay`` and ``unit`` are stacked
        into the features of each layer's model.
    responses : xarray.DataArray
        Dims (``time``, <target dim>) such as ``parcel``, ``voxel`` or
        ``channel``, optionally with ``subject``. Subjects share the features,
        so they are fitted together (each target of each subject has its own alpha).
    alphas, cv, inner_cv, groups, fit_intercept, scoring, targets_batch, dtype, backend, device
        As in :func:`cross_validated_scores`.
    drift_cutoff : float, "auto" or None
        High-pass period (s) of the cosine drift basis removed inside the outer
        folds from features, baseline and responses (see
        :func:`cross_validated_scores`). ``"auto"`` (default): 128 s (SPM's
        default) when the sampling period is known from ``tr``, ``attrs["sfreq"]``
        or a regular ``time`` coordinate, else none. Without drift removal,
        contiguous folds of raw fMRI time courses give negative held-out
        correlations (seen on the Alice data). Data already detrended by
        :func:`remove_drift` are barely changed.
    confounds, zscore, runs, tr
        Preprocessing estimated inside the outer folds, as in
        :func:`cross_validated_scores`.
    scheduler : None, str, distributed.Client or cluster
        Where the batches of targets run (see :func:`ridge_cv`).
    baseline : xarray.DataArray, optional
        Nuisance / baseline features (``time``[, ``delay``], ``unit``), e.g. word
        rate and sound power. They are added to every layer's features, scored
        alone as ``r_baseline``, and ``gain = r - r_baseline`` is each layer's
        gain over them (``gain_r2`` the same in R^2: the layer's unique variance).
    banded : bool
        Keep the baseline as its own feature space with its own penalty (banded
        ridge, :func:`banded_ridge_cv`) instead of one penalty for the joined
        features; adds ``band_weight`` (layer, fold, band, target[, subject]).
    band_weights : {"grid", "random"} or array (n_candidates, 2)
        Candidate band weights with ``banded=True`` (see :func:`banded_ridge_cv`).
    cross_subject : bool
        Train on the mean response of the *other* subjects and test on each
        subject's own (held-out times, leave-one-subject-out): scores that no
        subject-specific noise can inflate. Needs a ``subject`` dim.
    n_permutations : int
        If > 0, a block-permutation null of the held-out correlation (see
        :func:`block_permutation_test`) gives ``p_value``.
    block : int
        Block length (samples) of the permutation null; take it longer than the
        autocorrelation of the responses.
    seed : int
        Seed of the permutation null (and of a random band-weight search).

    Returns
    -------
    xarray.Dataset
        ``r``, ``r2`` (layer, target[, subject]): held-out scores pooled over
        outer folds; ``alpha`` (layer, fold, target[, subject]): chosen alphas;
        ``p_value`` (layer, target[, subject]) when ``n_permutations > 0``;
        ``r_baseline``, ``r2_baseline`` (target[, subject]), ``gain`` and
        ``gain_r2`` with a ``baseline``. A missing ``layer`` dim in ``features``
        is kept missing in the output.
    """
    feats = as_dataarray(features, name="features")
    resp = as_dataarray(responses, name="responses")
    sample = _sample_dim(feats, "features")
    r_sample = _sample_dim(resp, "responses")
    if feats.sizes[sample] != resp.sizes[r_sample]:
        raise ValueError(
            f"features and responses must have the same number of samples; got "
            f"{feats.sizes[sample]} and {resp.sizes[r_sample]}"
        )
    group_arr = _groups(groups, features, responses)
    has_layer = "layer" in feats.dims
    if not has_layer:
        feats = feats.expand_dims(layer=[None])
    resp, extra = _stack_responses(resp)
    Ya, y_template = _as_matrix(resp, "responses", "target")
    _check_constant(Ya, y_template["target"].values)
    Xb = None
    if baseline is not None:
        Xb, _ = _as_matrix(baseline, "baseline", "feature")
        if Xb.shape[0] != Ya.shape[0]:
            raise ValueError(
                f"baseline and responses must have the same number of samples; got "
                f"{Xb.shape[0]} and {Ya.shape[0]}"
            )
    if banded and Xb is None:
        raise ValueError("`banded=True` needs a `baseline` (its own feature space)")
    if isinstance(drift_cutoff, str):
        if drift_cutoff != "auto":
            raise ValueError(
                f"`drift_cutoff` must be a positive number (s), 'auto' or None; got {drift_cutoff!r}"
            )
        drift_cutoff = 128.0 if _known_period(tr, responses, features) else None
    prep = _preprocessor(
        Ya.shape[0],
        drift_cutoff,
        confounds,
        zscore,
        _groups(runs, features, responses),
        tr,
        responses,
        features,
    )
    fit_options = dict(
        fit_intercept=fit_intercept,
        score=_pick_score(scoring),
        targets_batch=targets_batch,
        dtype=_dtype(dtype),
        backend=_pick_backend(backend),
        device=device,
        scheduler=scheduler,
    )
    alphas_arr = _ridge._check_alphas(alphas)
    options = dict(
        alphas=alphas_arr,
        cv=cv,
        inner_cv=inner_cv,
        group_arr=group_arr,
        prep=prep,
        fit_options=fit_options,
    )
    Yeval = None
    if cross_subject:
        if "subject" not in resp.dims or resp.sizes["subject"] < 2:
            raise ValueError(
                "`cross_subject=True` needs responses with a 'subject' dim of size >= 2"
            )
        others = (resp.sum("subject") - resp) / (resp.sizes["subject"] - 1)
        Yfit, _ = _as_matrix(others, "responses", "target")
        Yeval = Ya
    else:
        Yfit = Ya
    null = dict(n_permutations=n_permutations, block=block, seed=seed)
    fit = None
    if banded:
        from ._banded_scores import _banded_fit_function

        assert Xb is not None
        fit = _banded_fit_function(Xb.shape[1], alphas_arr, band_weights, seed, fit_options)
    results = []
    layers = feats["layer"].values
    for layer in _progress_layers(layers, progress):
        X, _ = _as_matrix(feats.sel(layer=layer), "features", "feature")
        if Xb is not None:
            X = np.hstack([X, Xb.astype(X.dtype)])
        results.append(_fit_and_score(X, Yfit, Yeval, options, fit=fit, **null))
    out = xr.concat(results, dim="layer", coords="minimal", compat="override")
    if Xb is not None:
        base = _fit_and_score(Xb, Yfit, Yeval, options, n_permutations=0, block=block, seed=seed)
        out["r_baseline"] = base["r"]
        out["r2_baseline"] = base["r2"]
        out["gain"] = out["r"] - base["r"]
        out["gain"].attrs["long_name"] = "held-out r of layer + baseline minus r of baseline alone"
        out["gain_r2"] = out["r2"] - base["r2"]
        out["gain_r2"].attrs["long_name"] = (
            "held-out R^2 of layer + baseline minus R^2 of baseline alone (unique variance)"
        )
    out = out.drop_vars("target", errors="ignore").assign_coords(layer=layers)
    out = out.assign_coords({k: v for k, v in y_template.coords.items()})
    rest = [str(d) for d in resp.dims if d not in (r_sample, *extra)]
    if "target" in out.indexes and isinstance(out.indexes["target"], pd.MultiIndex):
        out = out.unstack("target")
        if len(rest) == 1:
            out = out.rename({rest[0]: "target"})
    if not has_layer:
        out = out.isel(layer=0, drop=True)
    out.attrs.update(
        n_permutations=n_permutations,
        block=block,
        seed=seed,
        target_dim=rest[0] if len(rest) == 1 else "target",
        drift_cutoff="none" if drift_cutoff is None else float(drift_cutoff),
        zscore=int(zscore),
        confounds=0 if confounds is None else 1,
        banded=int(banded),
    )
    return out


def _known_period(tr: Any, *objs: Any) -> bool:
    if tr is not None:
        return True
    try:
        _sampling_period(*objs)
    except ValueError:
        return False
    return True


def _fit_and_score(
    X: np.ndarray,
    Yfit: np.ndarray,
    Yeval: np.ndarray | None,
    options: dict,
    *,
    n_permutations: int,
    block: int,
    seed: int,
    fit: Any = None,
) -> xr.Dataset:
    """Nested-CV scores of a model fitted on ``Yfit`` and evaluated on ``Yeval`` (or ``Yfit``)."""
    res = _nested_cv(
        X,
        Yfit,
        Yeval,
        options["alphas"],
        options["cv"],
        options["inner_cv"],
        options["group_arr"],
        options["prep"],
        options["fit_options"],
        False,
        fit=fit,
    )
    ds = xr.Dataset(
        {
            "r": ("target", res["r"]),
            "r2": ("target", res["r2"]),
            "alpha": (("fold", "target"), res["alpha"]),
        },
        coords={"fold": np.arange(res["alpha"].shape[0])},
    )
    if res["extra"]:  # banded ridge: band weights per fold
        weights = np.stack([info["band_weight"] for info in res["extra"]])
        ds["band_weight"] = (("fold", "band", "target"), weights)
        ds = ds.assign_coords(band=["layer", "baseline"])
    if n_permutations > 0:
        tested = res["tested"]
        test = block_permutation_test(
            res["response"][tested],
            res["prediction"][tested],
            n_permutations=n_permutations,
            block=block,
            seed=seed,
        )
        ds["p_value"] = ("target", test["p_value"])
    return ds


def _progress_layers(layers: Sequence[Hashable], enabled: bool) -> Any:
    return _progress_bar(layers, desc="layers", enabled=enabled, unit="layer")


def layer_scores(
    activations: Any, responses: Any, *, score: str = "r", **options: Any
) -> xr.DataArray:
    """Held-out score of every layer for every target: the "which layer predicts where" map.

    Parameters
    ----------
    activations : xarray.DataArray
        Dims (``layer``, ``time``[, ``delay``], ``unit``) at the responses' times.
    responses : xarray.DataArray
        Dims (``time``, <target dim>[, ``subject``]).
    score : {"r", "r2"}
        Which held-out score to return.
    **options
        Passed to :func:`encode` (``alphas``, ``cv``, ``inner_cv``, ``groups``,
        ``n_permutations``, ``scheduler``, ...).

    Returns
    -------
    xarray.DataArray
        Dims (``layer``, ``target``[, ``subject``]); as coordinates the median
        chosen alpha, the p-values (with ``n_permutations``) and, with a
        ``baseline``, the baseline's own score (``r_baseline`` / ``r2_baseline``,
        dims (``target``[, ``subject``])) and each layer's gain over it
        (``gain`` / ``gain_r2``).
    """
    if score not in ("r", "r2"):
        raise ValueError(f"`score` must be one of ['r', 'r2']; got {score!r}")
    ds = encode(activations, responses, **options)
    out = ds[score]
    out = out.assign_coords(alpha_median=ds["alpha"].median("fold"))
    if "p_value" in ds:
        out = out.assign_coords(p_value=ds["p_value"])
    for name in ("r_baseline", "gain") if score == "r" else ("r2_baseline", "gain_r2"):
        if name in ds:
            out = out.assign_coords({name: ds[name]})
    out.attrs.update(ds.attrs, long_name=f"held-out {score}")
    return out.rename(score)


def brain_score(
    scores: xr.DataArray,
    *,
    ceiling: xr.DataArray | None = None,
    dim: str = "layer",
) -> xr.Dataset:
    """Best layer per target and its score, optionally divided by a noise ceiling.

    Parameters
    ----------
    scores : xarray.DataArray
        Held-out scores with a ``layer`` dim (e.g. from :func:`layer_scores`).
    ceiling : xarray.DataArray, optional
        Noise ceiling broadcastable against ``scores`` without ``dim`` (e.g.
        from :func:`noise_ceiling`; its target dim, e.g. ``parcel``, is matched
        to ``target`` through ``scores.attrs["target_dim"]``); adds
        ``normalized`` = score / ceiling.
    dim : str
        The dim to maximise over.

    Returns
    -------
    xarray.Dataset
        ``best_layer`` and ``score`` (the scores' other dims), and ``normalized``
        when a ceiling is given.
    """
    if dim not in scores.dims:
        raise ValueError(f"scores: no {dim!r} dim to take the best of; got dims {scores.dims}")
    best = scores.fillna(-np.inf).argmax(dim)
    out = xr.Dataset(
        {
            "best_layer": scores[dim][best].drop_vars(dim),
            "score": scores.isel({dim: best}).drop_vars(dim),
        }
    )
    if ceiling is not None:
        target_dim = scores.attrs.get("target_dim")
        if target_dim and target_dim in ceiling.dims and "target" in scores.dims:
            ceiling = ceiling.rename({target_dim: "target"})
        with np.errstate(divide="ignore", invalid="ignore"):
            out["normalized"] = out["score"] / ceiling
    return out
