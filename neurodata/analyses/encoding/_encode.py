"""Layer-wise encoding on labelled data: [`encode`][], [`layer_scores`][], [`brain_score`][]."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _progress_bar
from ...errors import SchemaError
from ...schema import as_dataarray
from ._inputs import (
    _as_matrix,
    _check_constant,
    _groups,
    _sample_dim,
    _sampling_period,
    _stack_responses,
)
from ._nested import NestedRun, _preprocessor
from ._settings import RidgeSettings, as_ridge_settings
from ._statistics import block_permutation_test

__all__ = ["brain_score", "encode", "layer_scores"]


def _known_period(tr: Any, *objs: Any) -> bool:
    """Whether the sampling period is known: ``tr`` given, or inferable from the data."""
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
    nested: NestedRun,
    *,
    n_permutations: int,
    block: int,
    seed: int,
    fit: Any = None,
) -> xr.Dataset:
    """Nested-CV scores of a model fitted on ``Yfit`` and evaluated on ``Yeval`` (or ``Yfit``)."""
    res = nested(X, Yfit, Yeval=Yeval, fit=fit)
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


def encode(
    features: xr.DataArray,
    responses: xr.DataArray,
    settings: RidgeSettings | Sequence[float] | None = None,
    *,
    groups: Any = None,
    baseline: Any = None,
    banded: bool = False,
    band_weights: Any = "grid",
    cross_subject: bool = False,
    drift_cutoff: float | str | None = "auto",
    zscore: bool = False,
    confounds: Any = None,
    runs: Any = None,
    tr: float | None = None,
    n_permutations: int = 0,
    block: int = 10,
    seed: int = 0,
    progress: bool | None = None,
    scheduler: Any = None,
    device: str | None = None,
    **fields: Any,
) -> xr.Dataset:
    """Held-out encoding scores of every layer for every target (and subject).

    Each layer gets its own ridge model (one alpha per target, chosen on inner
    folds) scored on the same outer folds, so the layers' scores are directly
    comparable. Drift removal, nuisance regression and z-scoring are estimated
    on each outer training set only and applied to its test set: no test
    sample shapes the model that predicts it.

    Parameters
    ----------
    features : xarray.DataArray
        Dims (``time``, ``unit``) or (``layer``, ``time``[, ``delay``], ``unit``),
        sampled at the responses' times (e.g. activations resampled to TRs, with
        FIR delays from [`fir_delays`][]). ``delay`` and ``unit`` are stacked
        into the features of each layer's model.
    responses : xarray.DataArray
        Dims (``time``, <target dim>) such as ``parcel``, ``voxel`` or
        ``channel``, optionally with ``subject``. Subjects share the features,
        so they are fitted together (each target of each subject has its own alpha).
    settings : RidgeSettings, sequence of float or None
        The ridge settings passed whole to every fit ([`RidgeSettings`][]:
        alphas, outer ``cv``, ``inner_cv``, scoring, intercept, dtype, batch size,
        backend), or the alphas alone; None: the defaults. ``**fields`` override it.
    groups, device
        As in [`cross_validated_scores`][].
    drift_cutoff : float, "auto" or None
        High-pass period (s) of the cosine drift basis removed inside the outer
        folds from features, baseline and responses (see
        [`cross_validated_scores`][]). ``"auto"`` (default): 128 s (SPM's
        default) when the sampling period is known from ``tr``, ``attrs["sfreq"]``
        or a regular ``time`` coordinate, else none. Without drift removal,
        contiguous folds of raw fMRI time courses give negative held-out
        correlations (seen on the Alice data). Data already detrended by
        [`remove_drift`][] are barely changed.
    confounds, zscore, runs, tr
        Preprocessing estimated inside the outer folds, as in
        [`cross_validated_scores`][].
    scheduler : None, str, distributed.Client or cluster
        Where the batches of targets run (see [`ridge_cv`][]).
    baseline : xarray.DataArray, optional
        Nuisance / baseline features (``time``[, ``delay``], ``unit``), e.g. word
        rate and sound power. They are added to every layer's features, scored
        alone as ``r_baseline``, and ``gain = r - r_baseline`` is each layer's
        gain over them (``gain_r2`` the same in R^2: the layer's unique variance).
    banded : bool
        Keep the baseline as its own feature space with its own penalty (banded
        ridge, [`banded_ridge_cv`][]) instead of one penalty for the joined
        features; adds ``band_weight`` (layer, fold, band, <target dim>[, subject]).
    band_weights : {"grid", "random"} or array (n_candidates, 2)
        Candidate band weights with ``banded=True`` (see [`banded_ridge_cv`][]).
    cross_subject : bool
        Train on the mean response of the *other* subjects and test on each
        subject's own (held-out times, leave-one-subject-out): scores that no
        subject-specific noise can inflate. Needs a ``subject`` dim.
    n_permutations : int
        If > 0, a block-permutation null of the held-out correlation (see
        [`block_permutation_test`][]) gives ``p_value``.
    block : int
        Block length (samples) of the permutation null; take it longer than the
        autocorrelation of the responses.
    seed : int
        Seed of the permutation null (and of a random band-weight search).

    Returns
    -------
    xarray.Dataset
        ``r``, ``r2`` (layer, <target dim>[, subject]): held-out scores pooled over
        outer folds, where <target dim> is the responses' own (``parcel`` stays
        ``parcel``; ``attrs["target_dim"]`` names it); ``alpha`` (layer, fold,
        <target dim>[, subject]): chosen alphas; ``p_value`` (layer, <target dim>
        [, subject]) when ``n_permutations > 0``; ``r_baseline``, ``r2_baseline``
        (<target dim>[, subject]), ``gain`` and
        ``gain_r2`` with a ``baseline``. A missing ``layer`` dim in ``features``
        is kept missing in the output.
    """
    feats = as_dataarray(features, name="features")
    resp = as_dataarray(responses, name="responses")
    sample = _sample_dim(feats, "features")
    r_sample = _sample_dim(resp, "responses")
    if feats.sizes[sample] != resp.sizes[r_sample]:
        raise SchemaError(
            f"features and responses must have the same number of samples; got "
            f"{feats.sizes[sample]} and {resp.sizes[r_sample]}"
        )
    settings = as_ridge_settings(settings, **fields)
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
            raise SchemaError(
                f"baseline and responses must have the same number of samples; got "
                f"{Xb.shape[0]} and {Ya.shape[0]}"
            )
    if banded and Xb is None:
        raise SchemaError("`banded=True` needs a `baseline` (its own feature space)")
    if isinstance(drift_cutoff, str):
        if drift_cutoff != "auto":
            raise SchemaError(
                f"`drift_cutoff` must be a positive number (s), 'auto' or None; got {drift_cutoff!r}"
            )
        drift_cutoff = 128.0 if _known_period(tr, responses, features) else None
    prep = _preprocessor(Ya.shape[0], responses, features, drift_cutoff=drift_cutoff,
                         confounds=confounds, zscore=zscore,
                         runs=_groups(runs, features, responses), tr=tr)  # fmt: skip
    nested = NestedRun(
        settings,
        prep,
        group_arr=_groups(groups, features, responses),
        device=resolve("device", device),
        scheduler=resolve("scheduler", scheduler),
    )
    Yeval = None
    if cross_subject:
        if "subject" not in resp.dims or resp.sizes["subject"] < 2:
            raise SchemaError(
                "`cross_subject=True` needs responses with a 'subject' dim of size >= 2"
            )
        others = (resp.sum("subject") - resp) / (resp.sizes["subject"] - 1)
        Yfit, _ = _as_matrix(others, "responses", "target")
        Yeval = Ya
    else:
        Yfit = Ya
    fit = None
    if banded:
        from ._banded_scores import _banded_fit_function

        assert Xb is not None
        fit = _banded_fit_function(Xb.shape[1], settings, band_weights, seed=seed)
    results = []
    layers = feats["layer"].values
    null = dict(n_permutations=n_permutations, block=block, seed=seed)
    for layer in _progress_layers(layers, resolve("progress", progress)):
        X, _ = _as_matrix(feats.sel(layer=layer), "features", "feature")
        # layers narrower than the widest are NaN-padded when stacked along `layer`
        X = X[:, ~np.all(np.isnan(X), axis=0)]
        if Xb is not None:
            X = np.hstack([X, Xb.astype(X.dtype)])
        results.append(_fit_and_score(X, Yfit, Yeval, nested, fit=fit, **null))
    out = xr.concat(results, dim="layer", coords="minimal", compat="override")
    if Xb is not None:
        base = _fit_and_score(Xb, Yfit, Yeval, nested, n_permutations=0, block=block, seed=seed)
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
    # the responses' own dims come back (``parcel`` stays ``parcel``): no rename to "target"
    if "target" in out.indexes and isinstance(out.indexes["target"], pd.MultiIndex):
        out = out.unstack("target")
    elif len(rest) == 1 and rest[0] != "target" and "target" in out.dims:
        out = out.rename({"target": rest[0]})
    if not has_layer:
        out = out.isel(layer=0, drop=True)
    out.attrs.update(
        settings.describe(),
        n_permutations=n_permutations,
        block=block,
        seed=seed,
        target_dim=rest[0] if len(rest) == 1 else "target",
        drift_cutoff="none" if drift_cutoff is None else float(drift_cutoff),
        preprocessing=(
            "inside each outer fold, from its training samples only: "
            + ", ".join(
                p
                for p in (
                    f"cosine drift basis ({drift_cutoff:g} s)" if drift_cutoff is not None else "",
                    "nuisance regressors" if confounds is not None else "",
                    "z-scores" if zscore else "",
                )
                if p
            )
            if (drift_cutoff is not None or confounds is not None or zscore)
            else "none"
        ),
        zscore="in each fold" if zscore else "no",
        banded="yes" if banded else "no",
    )
    return out


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
        Passed to [`encode`][] (``alphas``, ``cv``, ``inner_cv``, ``groups``,
        ``n_permutations``, ``scheduler``, ...).

    Returns
    -------
    xarray.DataArray
        Dims (``layer``, <target dim>[, ``subject``]), the responses' own target
        dim (e.g. ``parcel``); as coordinates the median
        chosen alpha, the p-values (with ``n_permutations``) and, with a
        ``baseline``, the baseline's own score (``r_baseline`` / ``r2_baseline``,
        dims (<target dim>[, ``subject``])) and each layer's gain over it
        (``gain`` / ``gain_r2``).
    """
    if score not in ("r", "r2"):
        raise SchemaError(f"`score` must be one of ['r', 'r2']; got {score!r}")
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
        Held-out scores with a ``layer`` dim (e.g. from [`layer_scores`][]).
    ceiling : xarray.DataArray, optional
        Noise ceiling broadcastable against ``scores`` without ``dim`` (e.g.
        from [`noise_ceiling`][], with the same target dim as ``scores``, e.g.
        ``parcel``); adds
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
        raise SchemaError(f"scores: no {dim!r} dim to take the best of; got dims {scores.dims}")
    best = scores.fillna(-np.inf).argmax(dim)
    out = xr.Dataset(
        {
            "best_layer": scores[dim][best].drop_vars(dim),
            "score": scores.isel({dim: best}).drop_vars(dim),
        }
    )
    if ceiling is not None:
        named = scores.attrs.get("target_dim")
        if named and named in ceiling.dims and named not in scores.dims and "target" in scores.dims:
            ceiling = ceiling.rename({named: "target"})  # scores stacked into a generic "target"
        with np.errstate(divide="ignore", invalid="ignore"):
            out["normalized"] = out["score"] / ceiling
    return out
