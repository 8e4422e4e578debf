"""Contrasts between conditions, per unit: Welch t, Cohen's d, AUC, and their permutation null.

The kernels take a (stimulus, feature) matrix and a (rows, stimulus) boolean matrix of
"positive" memberships: one row for the observed labels, one row per permutation. Sums
over stimuli become matrix products, so a thousand permutations of a whole network cost
a few matrix multiplications.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from ..._progress import progress as _progress
from ..._registry import check_int, check_level
from ..._registry import pick as _pick
from ...errors import SchemaError
from .._stats import fdr_bh
from ._common import as_activation, as_labels, from_features, unit_matrix

__all__ = ["CONTRASTS", "contrast", "permutation_test"]

_TINY = 1e-10


def _moments(x: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``member``: count, mean and unbiased variance of the member stimuli."""
    m = member.astype(np.float64)
    n = m.sum(axis=1, keepdims=True)
    mean = (m @ x) / n
    var = (m @ (x * x) - n * mean * mean) / (n - 1)
    return n, mean, np.maximum(var, 0.0)


def _welch(x: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n1, m1, v1 = _moments(x, pos)
    n2, m2, v2 = _moments(x, ~pos)
    a, b = v1 / n1, v2 / n2
    se = np.sqrt(a + b)
    bad = se <= _TINY * np.maximum(1.0, np.maximum(np.abs(m1), np.abs(m2)))
    t = np.where(bad, 0.0, (m1 - m2) / np.where(bad, 1.0, se))
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    p = np.where(bad, 1.0, 2 * stats.t.sf(np.abs(t), np.where(bad, 1.0, df)))
    return t, p, bad


def _cohen_d(x: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n1, m1, v1 = _moments(x, pos)
    n2, m2, v2 = _moments(x, ~pos)
    sd = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    bad = sd <= _TINY * np.maximum(1.0, np.maximum(np.abs(m1), np.abs(m2)))
    d = np.where(bad, 0.0, (m1 - m2) / np.where(bad, 1.0, sd))
    t = d * np.sqrt(n1 * n2 / (n1 + n2))
    p = np.where(bad, 1.0, 2 * stats.t.sf(np.abs(t), n1 + n2 - 2))
    return d, p, bad


def _tie_term(x: np.ndarray) -> np.ndarray:
    """sum(t**3 - t) over the groups of tied values of each column."""
    out = np.zeros(x.shape[1])
    ordered = np.sort(x, axis=0)
    for j in np.flatnonzero((np.diff(ordered, axis=0) == 0).any(axis=0)):
        _, counts = np.unique(ordered[:, j], return_counts=True)
        out[j] = np.sum(counts**3 - counts)
    return out


def _auc(x: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area under the ROC curve (U / n1 n2) and the two-sided Mann-Whitney p-value (normal
    approximation with tie and continuity corrections, as scipy's ``method="asymptotic"``)."""
    n = x.shape[0]
    ranks = stats.rankdata(x, axis=0)
    n1 = pos.sum(axis=1, keepdims=True).astype(np.float64)
    n2 = n - n1
    u = pos.astype(np.float64) @ ranks - n1 * (n1 + 1) / 2
    sigma = np.sqrt(n1 * n2 / 12 * ((n + 1) - _tie_term(x)[None, :] / (n * (n - 1))))
    bad = sigma <= _TINY
    z = (np.abs(u - n1 * n2 / 2) - 0.5) / np.where(bad, 1.0, sigma)
    p = np.where(bad, 1.0, np.minimum(1.0, 2 * stats.norm.sf(np.maximum(z, 0.0))))
    return u / (n1 * n2), p, np.broadcast_to(bad, u.shape)


#: ``method=`` of [`contrast`][]: kernel (stimulus, feature) x (rows, stimulus) ->
#: (statistic, p_value, degenerate), each (rows, feature); and the statistic's null centre.
CONTRASTS: dict[str, tuple[Callable[..., tuple], float]] = {
    "welch_t": (_welch, 0.0),
    "cohen_d": (_cohen_d, 0.0),
    "auc": (_auc, 0.5),
}


def _levels(value: Any) -> list:
    return [value] if isinstance(value, str) or not isinstance(value, Sequence) else list(value)


def _split(
    activation: Any, condition: Any, positive: Any, negative: Any, dim: str
) -> tuple[xr.DataArray, np.ndarray, dict]:
    """The activations of the contrasted stimuli and their positive membership."""
    act = as_activation(activation, dim)
    labels = as_labels(act, condition, dim)
    found = sorted(set(labels.tolist()), key=str)
    cname = condition if isinstance(condition, str) else "condition"
    if len(found) < 2:
        raise SchemaError(
            f"`condition` {cname!r} has one level {found}; a contrast needs two "
            "(e.g. 'sentence' and 'nonword')"
        )
    if positive is None:
        raise SchemaError(f"`positive` must name level(s) of {cname!r}, one of {found}")
    pos = _levels(positive)
    neg = [v for v in found if v not in pos] if negative is None else _levels(negative)
    for side, values in (("positive", pos), ("negative", neg)):
        unknown = [v for v in values if v not in found]
        if unknown or not values:
            raise SchemaError(
                f"`{side}` must name level(s) of {cname!r}, one of {found}; got {values}"
            )
    if set(pos) & set(neg):
        raise SchemaError(f"`positive` {pos} and `negative` {neg} overlap")
    used = np.isin(labels, pos + neg)
    member = np.isin(labels[used], pos)
    for side, count in (("positive", member.sum()), ("negative", (~member).sum())):
        if count < 2:
            raise SchemaError(f"`{side}` level(s) hold {count} {dim}(s); a contrast needs >= 2")
    info = {
        "condition": cname,
        "positive": ", ".join(map(str, pos)),
        "negative": ", ".join(map(str, neg)),
        "n_positive": int(member.sum()),
        "n_negative": int((~member).sum()),
    }
    return act.isel({dim: np.flatnonzero(used)}), member, info


def _observed(
    kernel: Callable, activation: Any, condition: Any, positive: Any, negative: Any, dim: str
) -> tuple[np.ndarray, np.ndarray, xr.DataArray, dict, tuple[np.ndarray, ...]]:
    """The contrasted items' centred (items, units) matrix, their positive membership, the
    units' template, the attrs, and the kernel's (statistic, p, degenerate) per unit."""
    act, member, info = _split(activation, condition, positive, negative, dim)
    x, template = unit_matrix(act, dim)
    x = x - x.mean(axis=0)
    stat, p, bad = kernel(x, member[None, :])
    return x, member, template, info, (stat[0], p[0], bad[0])


def contrast(
    activation: Any,
    condition: Any = "condition",
    *,
    positive: Any = None,
    negative: Any = None,
    method: str = "welch_t",
    dim: str = "stimulus",
) -> xr.Dataset:
    """Selectivity of every unit for one condition over another.

    Parameters
    ----------
    activation : xarray.DataArray or Dataset
        Dims (``dim``, ``layer``, ``unit``) and any others (kept), e.g. the
        ``activation`` of [`neurodata.models.extract_activations`][] on a
        stimulus set.
    condition : str, xarray.DataArray or array
        The condition of each item along ``dim``: a coordinate name (default
        ``"condition"``) or the labels themselves.
    positive, negative : str or list of str
        Level(s) contrasted (positive > negative); ``negative`` defaults to
        every other level. Items of other levels are left out.
    method : {"welch_t", "cohen_d", "auc"}
        Welch's t (p from Welch's t-test, as ``scipy.stats.ttest_ind(...,
        equal_var=False)``), Cohen's d with the pooled SD (p from Student's
        t-test), or the area under the ROC curve (p from the Mann-Whitney U
        test, normal approximation).
    dim : str
        The dim of the items.

    Returns
    -------
    xarray.Dataset
        Over (``layer``, ``unit``, ...): ``statistic``, two-sided ``p_value``
        and ``degenerate`` -- units without variance in the contrasted items
        (e.g. constant units), whose statistic is set to its null value (0, or
        0.5 for AUC) and p-value to 1: finite, flagged, never inf or NaN.
        Attrs name the method, levels and counts.
    """
    kernel, _ = _pick(CONTRASTS, method, "method")
    _, _, template, info, (stat, p, bad) = _observed(
        kernel, activation, condition, positive, negative, dim
    )
    attrs = {"method": method, **info}
    return xr.Dataset(
        {
            "statistic": from_features(stat, template, "statistic", long_name=method),
            "p_value": from_features(p, template, "p_value"),
            "degenerate": from_features(bad, template, "degenerate"),
        },
        attrs={
            **attrs,
            "history": f"contrast(method={method!r}, {info['positive']} > {info['negative']})",
        },
    )


def permutation_test(
    activation: Any,
    condition: Any = "condition",
    *,
    positive: Any = None,
    negative: Any = None,
    method: str = "welch_t",
    dim: str = "stimulus",
    n_permutations: int = 1000,
    level: float = 0.05,
    batch: int = 100,
    progress: bool | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """[`contrast`][] with a label-permutation null and FDR over units.

    Parameters
    ----------
    activation, condition, positive, negative, method, dim
        As [`contrast`][].
    n_permutations : int
        Shuffles of the labels among the contrasted items.
    level : float
        FDR level (Benjamini-Hochberg over all units of all layers).
    batch : int
        Permutations per matrix product (memory knob).
    progress : bool, optional
        Progress bar over batches (default: ``neurodata.config``).
    seed : int
        Seed of the shuffles.

    Returns
    -------
    xarray.Dataset
        Over (``layer``, ``unit``, ...): ``statistic``, ``degenerate`` (as
        [`contrast`][]), ``p_permutation`` (two-sided, ``(1 + #{|null| >=
        |observed|}) / (1 + n_permutations)``), ``q_value`` (BH-adjusted) and
        ``significant`` (``q_value <= level``).
    """
    from ..._config import resolve

    kernel, centre = _pick(CONTRASTS, method, "method")
    n_permutations = check_int(n_permutations, "n_permutations", minimum=1)
    level = check_level(level)
    x, member, template, info, (stat, _, bad) = _observed(
        kernel, activation, condition, positive, negative, dim
    )
    observed = np.abs(stat - centre)
    rng = np.random.default_rng(seed)
    exceed = np.zeros(x.shape[1])
    chunks = [min(batch, n_permutations - i) for i in range(0, n_permutations, batch)]
    show = resolve("progress", progress)
    for size in _progress(chunks, desc=f"{method} permutations", enabled=show, unit="batch"):
        rows = np.stack([rng.permutation(member) for _ in range(size)])
        null, _, _ = kernel(x, rows)
        exceed += (np.abs(null - centre) >= observed - 1e-12).sum(axis=0)
    p_perm = np.where(bad, 1.0, (1 + exceed) / (1 + n_permutations))
    q = fdr_bh(p_perm)
    attrs = {"method": method, "n_permutations": int(n_permutations), "level": level, **info}
    return xr.Dataset(
        {
            "statistic": from_features(stat, template, "statistic", long_name=method),
            "degenerate": from_features(bad, template, "degenerate"),
            "p_permutation": from_features(p_perm, template, "p_permutation"),
            "q_value": from_features(q, template, "q_value"),
            "significant": from_features(q <= level, template, "significant"),
        },
        attrs={
            **attrs,
            "seed": int(seed),
            "history": f"permutation_test(method={method!r}, "
            f"n_permutations={n_permutations}, seed={seed})",
        },
    )
