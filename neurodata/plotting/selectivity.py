"""Figures for model neurophysiology: selective units per layer, and lesion effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .frequency_tagging import _pyplot

__all__ = ["plot_lesion_effect", "plot_selectivity"]


def _stat(result: Any) -> xr.DataArray:
    return result["statistic"] if isinstance(result, xr.Dataset) else result


def plot_selectivity(
    statistic: Any,
    mask: xr.DataArray,
    *,
    control: Any = None,
    control_mask: xr.DataArray | None = None,
    label: str = "trained",
    control_label: str = "random weights",
) -> Any:
    """Selective units per layer and the distribution of the statistic, with a control.

    Parameters
    ----------
    statistic : xarray.DataArray or Dataset
        A (``layer``, ``unit``) map (the ``statistic`` of a Dataset from
        [`neurodata.analyses.selectivity.contrast`][]).
    mask : xarray.DataArray
        Boolean (``layer``, ``unit``) mask of the selected units
        ([`neurodata.analyses.selectivity.top_units`][]).
    control, control_mask : optional
        The same for the control network (e.g. [`neurodata.models.random_like`][]),
        drawn on the same axes.
    label, control_label : str
        Legend labels.

    Returns
    -------
    matplotlib.figure.Figure
        Left: selected units per layer (bars); middle: histograms of the
        statistic over all units, the selection threshold dashed; right: the
        statistic of every unit of every layer (the map).
    """
    plt = _pyplot()
    stat = _stat(statistic).transpose("layer", "unit")
    fig, (ax_bar, ax_hist, ax_map) = plt.subplots(
        1, 3, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1, 1, 1.2]}
    )
    layers = [str(n) for n in stat["layer"].values]
    x = np.arange(len(layers))
    runs = [(stat, mask, label, "C0")]
    if control is not None:
        runs.append((_stat(control).transpose("layer", "unit"), control_mask, control_label, "C7"))
    width = 0.8 / len(runs)
    values = [np.asarray(s.values, float).ravel() for s, _, _, _ in runs]
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    bins = np.linspace(finite.min(), finite.max(), 60) if finite.size else 10
    for i, (s, m, name, colour) in enumerate(runs):
        if m is not None:
            counts = m.transpose("layer", "unit").sum("unit").values
            ax_bar.bar(x + (i - (len(runs) - 1) / 2) * width, counts, width, label=name,
                       color=colour)  # fmt: skip
        ax_hist.hist(values[i], bins=bins, alpha=0.6, label=name, color=colour)
        if m is not None and m.any():
            threshold = float(np.asarray(s.values)[np.asarray(m.transpose(*s.dims).values)].min())
            ax_hist.axvline(threshold, color=colour, ls="--", lw=1)
    ax_bar.set_xticks(x, layers, rotation=45, ha="right", fontsize=8)
    ax_bar.set_ylabel("selected units")
    ax_bar.set_title("selected units per layer")
    ax_bar.legend(fontsize=8)
    method = _stat(statistic).attrs.get("long_name") or "statistic"
    ax_hist.set_xlabel(method)
    ax_hist.set_ylabel("units")
    ax_hist.set_yscale("log")
    ax_hist.set_title("distribution over all units (dashed: selection threshold)")
    ax_hist.legend(fontsize=8)
    data = np.asarray(stat.values, float)
    bound = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
    image = ax_map.imshow(data, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                          interpolation="nearest")  # fmt: skip
    ax_map.set_yticks(x, layers, fontsize=8)
    ax_map.set_xlabel("unit")
    ax_map.set_title(f"{method} per unit ({label})")
    fig.colorbar(image, ax=ax_map, label=method)
    fig.tight_layout()
    return fig


def plot_lesion_effect(result: xr.Dataset, *, title: str | None = None) -> Any:
    """A lesion's effect against the effects of random lesions of the same size.

    Parameters
    ----------
    result : xarray.Dataset
        From [`neurodata.models.lesion_effect`][]: ``effect`` and
        ``random_effect`` (``random``, ...); extra dims (e.g. ``target``) get one
        panel each (at most 12).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Per panel: the random lesions' effects (dots and box), the lesion's
        effect (red line), and its percentile among them.
    """
    plt = _pyplot()
    effect = result["effect"]
    extra = [d for d in effect.dims]
    stacked = effect.stack(panel=extra) if extra else effect.expand_dims(panel=[0])
    null = result.get("random_effect")
    n = min(stacked.sizes["panel"], 12)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * n + 2), 3.8))
    for i in range(n):
        point = stacked.isel(panel=i)
        if null is not None:
            dist = (null.stack(panel=extra) if extra else null.expand_dims(panel=[0])).isel(panel=i)
            ax.boxplot(dist.values, positions=[i], widths=0.5, showfliers=False)
            ax.scatter(np.full(dist.sizes["random"], i) + np.linspace(-0.15, 0.15, dist.sizes["random"]),
                       dist.values, s=10, color="C7", zorder=3)  # fmt: skip
        ax.hlines(float(point), i - 0.35, i + 0.35, color="C3", lw=2.5, zorder=4)
        if "percentile" in result:
            pct = result["percentile"].stack(panel=extra) if extra else result["percentile"]
            value = float(pct.isel(panel=i) if extra else pct)
            ax.annotate(f"{value:.0f}th pct", (i, float(point)), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=8, color="C3")  # fmt: skip
    labels = [", ".join(map(str, np.atleast_1d(v))) for v in stacked["panel"].values[:n]]
    ax.set_xticks(range(n), labels if extra else [""], rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_ylabel("effect (lesioned - intact)")
    ax.set_title(title or f"lesion of {result.attrs.get('n_units', '?')} units (red) vs "
                 f"{result.attrs.get('n_random', '?')} random lesions (grey)")  # fmt: skip
    fig.tight_layout()
    return fig
