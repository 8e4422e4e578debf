"""Selecting units from a statistic map, and the reliability of maps and masks."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ._common import as_unit_map

__all__ = ["reliability", "top_units"]


def _count(fraction: float | None, k: int | None, n: int) -> int:
    if (fraction is None) == (k is None):
        raise SchemaError(
            f"give exactly one of `fraction` and `k`; got fraction={fraction!r}, k={k!r}"
        )
    if k is not None:
        if not isinstance(k, int | np.integer) or not 1 <= k <= n:
            raise SchemaError(f"`k` must be an integer in [1, {n}]; got {k!r}")
        return int(k)
    if not 0 < fraction <= 1:
        raise SchemaError(f"`fraction` must be in (0, 1]; got {fraction!r}")
    return max(1, round(fraction * n))


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest values (ties broken by position, NaN never chosen)."""
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-filled, kind="stable")[:k]
    mask = np.zeros(values.shape, dtype=bool)
    mask[order] = True
    return mask


def top_units(
    statistic: Any,
    *,
    fraction: float | None = None,
    k: int | None = None,
    per_layer: bool = False,
    largest: bool = True,
) -> xr.DataArray:
    """The most selective units: a boolean mask over (``layer``, ``unit``).

    Units are ranked by the statistic (its negative with ``largest=False``) over the
    whole network, or within each layer with ``per_layer``, and the top ``k`` (or
    ``round(fraction * n)``, at least 1) are True. NaN values rank last; ties go to the
    earlier unit in (``layer``, ``unit``) order.

    Parameters
    ----------
    statistic : xarray.DataArray or Dataset
        A map over (``layer``, ``unit``), e.g. the ``statistic`` of
        [`contrast`][] (a Dataset's ``statistic`` is taken).
    fraction, k : float or int
        How many units: a fraction of the units (default 0.01 when neither is
        given) or a number. Over the whole network by default, the
        convention of AlKhamissi et al. (2024): layers with more selective
        units get more of the mask.
    per_layer : bool
        Select ``fraction`` (or ``k``) in every layer instead.
    largest : bool
        Select the largest values (positive > negative); False for the
        smallest.

    Returns
    -------
    xarray.DataArray
        Boolean, dims (``layer``, ``unit``) with the statistic's coordinates
        (``layer`` names as [`neurodata.models.extract_activations`][] writes
        them, so the mask feeds [`neurodata.models.intervene`][]); attrs
        record the selection.
    """
    stat = as_unit_map(statistic, name="statistic")
    if fraction is None and k is None:
        fraction = 0.01
    extra = [d for d in stat.dims if d not in ("layer", "unit")]
    if extra:
        raise SchemaError(
            f"`statistic` has dims {tuple(map(str, stat.dims))}; expected ('layer', 'unit') "
            f"(select or average {extra} first)"
        )
    if "layer" not in stat.dims:
        stat = stat.expand_dims("layer")
    stat = stat.transpose("layer", "unit")
    values = np.asarray(stat.values, dtype=np.float64) * (1.0 if largest else -1.0)
    if per_layer:
        n = _count(fraction, k, stat.sizes["unit"])
        mask = np.stack([_top(row, n) for row in values])
    else:
        n = _count(fraction, k, values.size)
        mask = _top(values.ravel(), n).reshape(values.shape)
    out = stat.copy(data=mask)
    out.name = "mask"
    out.attrs = {
        "long_name": "selected units",
        "selection": f"top {'fraction=' + str(fraction) if k is None else 'k=' + str(k)} "
        f"({'per layer' if per_layer else 'whole network'}, "
        f"{'largest' if largest else 'smallest'})",
        "n_units": int(mask.sum()),
        **{
            key: statistic.attrs[key]
            for key in ("method", "positive", "negative")
            if isinstance(statistic, xr.Dataset | xr.DataArray) and key in statistic.attrs
        },
    }
    return out


def reliability(a: Any, b: Any, *, fraction: float = 0.01) -> xr.Dataset:
    """Agreement of two selectivity maps or masks over the same units.

    Parameters
    ----------
    a, b : xarray.DataArray or Dataset
        Maps over (``layer``, ``unit``) (e.g. [`contrast`][] statistics from
        two disjoint halves of the stimuli) or boolean masks (from
        [`top_units`][]), aligned by coordinates.
    fraction : float
        For maps: the Dice coefficient compares their top-``fraction`` masks
        (over the whole network).

    Returns
    -------
    xarray.Dataset
        Scalars ``correlation`` (Pearson over units; NaN when either is a
        mask), ``dice`` (2|A ∩ B| / (|A| + |B|)) and ``chance_dice`` (its
        expectation for random masks of the same sizes).
    """
    x = as_unit_map(a, name="a")
    y = as_unit_map(b, name="b")
    try:
        x, y = xr.align(x, y, join="exact")
    except ValueError:
        raise SchemaError(
            f"`a` and `b` must cover the same units; got sizes {dict(x.sizes)} and {dict(y.sizes)}"
        ) from None
    y = y.transpose(*x.dims)
    corr = np.nan
    if x.dtype != bool and y.dtype != bool:
        xv, yv = np.asarray(x.values, float).ravel(), np.asarray(y.values, float).ravel()
        ok = np.isfinite(xv) & np.isfinite(yv)
        corr = float(np.corrcoef(xv[ok], yv[ok])[0, 1])
    masks = [
        m.values if m.dtype == bool else top_units(m, fraction=fraction).values for m in (x, y)
    ]
    ma, mb = (np.asarray(m).ravel() for m in masks)
    size = ma.sum() + mb.sum()
    dice = float(2 * (ma & mb).sum() / size) if size else np.nan
    chance = float(2 * ma.sum() * mb.sum() / ma.size / size) if size else np.nan
    return xr.Dataset(
        {"correlation": corr, "dice": dice, "chance_dice": chance},
        attrs={"fraction": fraction, "n_units": int(ma.size)},
    )
