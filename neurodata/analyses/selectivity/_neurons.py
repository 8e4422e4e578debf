"""Activation-probability entropy (LAPE, Tang et al. 2024) and the census of units
(dead, always active, token-specific, positional; Voita et al. 2023)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ._common import as_activation, as_labels, from_features, unit_matrix

__all__ = ["census", "lape"]


def lape(
    activation: Any, condition: Any = "condition", *, dim: str = "stimulus", threshold: float = 0.0
) -> xr.Dataset:
    """Language activation probability entropy of every unit (Tang et al. 2024).

    For each unit, ``p_c`` is the probability that it is active (``> threshold``)
    on items of condition ``c`` (a language, in the paper); the ``p_c`` are
    normalised to sum to one and the unit's LAPE is their entropy ``-sum p'_c log
    p'_c``: low for units active in one condition only.

    Parameters
    ----------
    activation : xarray.DataArray or Dataset
        Dims (``dim``, ``layer``, ``unit``) and any others (kept): token- or
        stimulus-level activations, e.g. MLP neurons (``kind="mlp"``).
    condition : str, xarray.DataArray or array
        Condition of each item along ``dim`` (a coordinate name or the labels).
    dim : str
        The dim of the items (``"stimulus"``, ``"token"``, ``"word"``).
    threshold : float
        Activity threshold (0: the sign of a post-nonlinearity activation).

    Returns
    -------
    xarray.Dataset
        ``entropy`` over (``layer``, ``unit``, ...) in nats; ``probability``
        over (``condition``, ``layer``, ``unit``, ...); ``inactive`` flags units
        never active in any condition, whose entropy is set to its maximum
        ``log(n_conditions)`` (they are not specific to anything).
    """
    act = as_activation(activation, dim)
    labels = as_labels(act, condition, dim)
    levels = sorted(set(labels.tolist()), key=str)
    if len(levels) < 2:
        raise SchemaError(f"`condition` has one level {levels}; LAPE needs two or more")
    x, template = unit_matrix(act, dim)
    active = x > threshold
    prob = np.stack([active[labels == c].mean(axis=0) for c in levels])
    total = prob.sum(axis=0)
    inactive = total == 0
    share = prob / np.where(inactive, 1.0, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(share > 0, -share * np.log(share), 0.0)
    entropy = np.where(inactive, np.log(len(levels)), terms.sum(axis=0))
    probability = xr.concat(
        [from_features(p, template, "probability") for p in prob],
        dim=xr.DataArray(np.array(levels, dtype=object), dims="condition", name="condition"),
    )
    return xr.Dataset(
        {
            "entropy": from_features(entropy, template, "entropy", units="nat"),
            "probability": probability,
            "inactive": from_features(inactive, template, "inactive"),
        },
        attrs={"threshold": threshold, "history": f"lape(threshold={threshold})"},
    )


def _eta_squared(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Share of each column's variance explained by the group means (0 for constant columns)."""
    codes, inverse = np.unique(groups, return_inverse=True)
    onehot = np.zeros((len(codes), len(groups)))
    onehot[inverse, np.arange(len(groups))] = 1.0
    counts = onehot.sum(axis=1, keepdims=True)
    centred = x - x.mean(axis=0)
    means = (onehot @ centred) / counts
    between = (counts * means**2).sum(axis=0)
    total = (centred**2).sum(axis=0)
    return np.where(total > 0, between / np.where(total > 0, total, 1.0), 0.0)


def census(
    activation: Any,
    *,
    dim: str = "token",
    threshold: float = 0.0,
    dead_below: float = 0.0,
    always_above: float = 0.99,
    token: str | None = "token_id",
    position: str | None = "position",
    specific_share: float = 0.5,
    positional_share: float = 0.5,
) -> xr.Dataset:
    """Census of units (Voita et al. 2023): dead, always active, token-specific, positional.

    Parameters
    ----------
    activation : xarray.DataArray or Dataset
        Dims (``dim``, ``layer``, ``unit``), token-level activations (e.g. MLP
        neurons from [`neurodata.models.extract_activations`][] without
        pooling).
    dim : str
        The dim of the items.
    threshold : float
        A unit is active on an item when its activation exceeds this.
    dead_below, always_above : float
        A unit is dead when active on at most ``dead_below`` of the items,
        always active when active on at least ``always_above`` of them.
    token, position : str, optional
        Coordinates (along ``dim``) of the token identity and of the position
        in the model's input; a class is left out (all False, NaN scores) when
        its coordinate is absent.
    specific_share : float
        Token-specific: a live unit whose activations on its most frequent
        active token make up at least this share of its active items (and
        that token is less than that share of all items).
    positional_share : float
        Positional: a live unit whose activation variance is at least this
        share explained by position (eta squared).

    Returns
    -------
    xarray.Dataset
        Over (``layer``, ``unit``): ``frequency`` (share of items active),
        ``dead``, ``always_active``, ``token_share``, ``token_specific``,
        ``position_share``, ``positional``; and ``counts`` over (``layer``,
        ``class``).
    """
    act = as_activation(activation, dim)
    x, template = unit_matrix(act, dim)
    active = x > threshold
    freq = active.mean(axis=0)
    dead = freq <= dead_below
    always = freq >= always_above
    out = {
        "frequency": from_features(freq, template, "frequency"),
        "dead": from_features(dead, template, "dead"),
        "always_active": from_features(always, template, "always_active"),
    }
    share = np.full(x.shape[1], np.nan)
    if token is not None and token in act.coords:
        ids = np.asarray(act[token].values)
        codes, inverse = np.unique(ids, return_inverse=True)
        onehot = np.zeros((len(codes), len(ids)))
        onehot[inverse, np.arange(len(ids))] = 1.0
        per_token = onehot @ active  # (token type, feature) active counts
        n_active = np.maximum(active.sum(axis=0), 1)
        top = per_token.argmax(axis=0)
        share = per_token.max(axis=0) / n_active
        base = onehot.sum(axis=1)[top] / len(ids)
        specific = (~dead) & (share >= specific_share) & (base < specific_share)
    else:
        specific = np.zeros(x.shape[1], dtype=bool)
    out["token_share"] = from_features(share, template, "token_share")
    out["token_specific"] = from_features(specific, template, "token_specific")
    pos_share = np.full(x.shape[1], np.nan)
    positional = np.zeros(x.shape[1], dtype=bool)
    if position is not None and position in act.coords:
        pos_share = _eta_squared(x, np.asarray(act[position].values))
        positional = (~dead) & (pos_share >= positional_share)
    out["position_share"] = from_features(pos_share, template, "position_share")
    out["positional"] = from_features(positional, template, "positional")
    classes = ["dead", "always_active", "token_specific", "positional"]
    ds = xr.Dataset(out)
    reduce = [d for d in ds["dead"].dims if d != "layer"]
    ds["counts"] = xr.concat(
        [ds[c].sum(reduce) for c in classes],
        dim=xr.DataArray(classes, dims="class", name="class"),
    ).transpose(..., "class")
    ds.attrs = {"threshold": threshold, "history": f"census(dim={dim!r}, threshold={threshold})"}
    return ds
