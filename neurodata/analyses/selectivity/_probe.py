"""Sparse probing (Gurnee et al. 2023): how well k units of a layer decode a label."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..._progress import progress as _progress
from ..._registry import pick as _pick
from ...errors import SchemaError
from ._common import as_activation, as_labels

__all__ = ["PROBE_RANKINGS", "sparse_probe"]


def _mean_difference(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    return np.abs(x[y].mean(axis=0) - x[~y].mean(axis=0))


def _f_statistic(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.feature_selection import f_classif

    with warnings.catch_warnings():  # constant units: F = 0 below
        warnings.simplefilter("ignore")
        f, _ = f_classif(x, y)
    return np.nan_to_num(f, nan=0.0)


def _l1_logistic(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    fit = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.1, max_iter=2000, random_state=seed)
    fit.fit(z, y)
    return np.abs(fit.coef_[0])


#: ``method=`` of [`sparse_probe`][]: how units are ranked on the training fold.
PROBE_RANKINGS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "mean_difference": _mean_difference,
    "f_statistic": _f_statistic,
    "l1_logistic": _l1_logistic,
}


def sparse_probe(
    activation: Any,
    labels: Any = "condition",
    k: int = 1,
    *,
    positive: Any = None,
    method: str = "mean_difference",
    dim: str = "stimulus",
    n_splits: int = 5,
    progress: bool | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """Cross-validated k-sparse probes of every layer (Gurnee et al. 2023).

    In each fold, the units of a layer are ranked on the training items by
    ``method``, the top ``k`` feed a logistic regression, and its accuracy is
    measured on the held-out items.

    Parameters
    ----------
    activation : xarray.DataArray or Dataset
        Dims (``dim``, ``layer``, ``unit``).
    labels : str, xarray.DataArray or array
        Binary labels along ``dim`` (a coordinate name or the labels).
    k : int
        Units per probe.
    positive : optional
        The positive level (default: the last of the two sorted levels).
    method : {"mean_difference", "f_statistic", "l1_logistic"}
        The heuristic that picks the units: absolute difference of class means,
        ANOVA F, or the magnitude of L1-regularised logistic coefficients.
    dim : str
        The dim of the items.
    n_splits : int
        Stratified folds (shuffled with ``seed``).
    progress : bool, optional
        Progress bar over layers (default: ``neurodata.config``).
    seed : int
        Seed of the folds.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (``layer``): mean held-out accuracy; ``fold_accuracy``
        (``layer``, ``fold``); ``selected`` (``layer``, ``unit``): the share of
        folds that picked each unit.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from ..._config import resolve

    rank = _pick(PROBE_RANKINGS, method, "method")
    act = as_activation(activation, dim)
    if "layer" not in act.dims:
        act = act.expand_dims("layer", axis=1)
    act = act.transpose(dim, "layer", "unit")
    values = as_labels(act, labels, dim, name="labels")
    levels = sorted(set(values.tolist()), key=str)
    if len(levels) != 2:
        raise SchemaError(f"`labels` must have two levels; found {levels[:5]}")
    pos = levels[-1] if positive is None else positive
    if pos not in levels:
        raise SchemaError(f"`positive` must be one of {levels}; got {pos!r}")
    y = values == pos
    n_units = act.sizes["unit"]
    if not isinstance(k, int | np.integer) or not 1 <= k <= n_units:
        raise SchemaError(f"`k` must be an integer in [1, {n_units}]; got {k!r}")
    folds = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(y, y))
    data = np.asarray(act.values, dtype=np.float64)
    acc = np.zeros((act.sizes["layer"], n_splits))
    picked = np.zeros((act.sizes["layer"], n_units))
    layers = range(act.sizes["layer"])
    for li in _progress(
        layers, desc=f"sparse probes ({method})", enabled=resolve("progress", progress)
    ):
        x = data[:, li]
        for fi, (train, test) in enumerate(folds):
            top = np.argsort(-rank(x[train], y[train], seed), kind="stable")[:k]
            picked[li, top] += 1
            mu, sd = x[train][:, top].mean(axis=0), x[train][:, top].std(axis=0)
            sd = np.where(sd > 0, sd, 1.0)
            clf = LogisticRegression(max_iter=1000).fit((x[train][:, top] - mu) / sd, y[train])
            acc[li, fi] = clf.score((x[test][:, top] - mu) / sd, y[test])
    coords = {"layer": act["layer"].values, "unit": act["unit"].values}
    if "depth" in act.coords:
        coords["depth"] = ("layer", act["depth"].values)
    return xr.Dataset(
        {
            "accuracy": ("layer", acc.mean(axis=1)),
            "fold_accuracy": (("layer", "fold"), acc),
            "selected": (("layer", "unit"), picked / n_splits),
        },
        coords=coords,
        attrs={
            "k": int(k),
            "method": method,
            "positive": str(pos),
            "n_splits": n_splits,
            "seed": int(seed),
            "chance": float(max(y.mean(), 1 - y.mean())),
        },
    )
