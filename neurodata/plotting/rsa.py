"""Figures for RSA results: RDM heatmaps, tRSA (lower, upper) grids, model comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import SchemaError
from ._common import coord_labels

__all__ = ["plot_comparison", "plot_lu_grid", "plot_rdm"]


def _rdm_dim(rdm: xr.DataArray) -> str:
    pairs = [str(d) for d in rdm.dims if f"{d}_2" in rdm.dims]
    if len(pairs) != 1:
        raise SchemaError(f"rdm: expected dims (..., <dim>, <dim>_2); found {rdm.dims}")
    return pairs[0]


def plot_rdm(
    rdm: xr.DataArray,
    *,
    labels: bool | None = None,
    cmap: str = "viridis",
    max_panels: int = 12,
    title: str | None = None,
) -> Any:
    """Heatmap(s) of RDM(s) with condition labels.

    Parameters
    ----------
    rdm : xarray.DataArray
        Dims (`dim`, `dim`_2) or (extra, `dim`, `dim`_2): one panel per entry of
        the extra dim (at most `max_panels`).
    labels : bool, optional
        Write condition labels on the axes (default: when there are <= 40).
    cmap : str
        Matplotlib colormap.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    dim = _rdm_dim(rdm)
    extra = [d for d in rdm.dims if d not in (dim, f"{dim}_2")]
    if len(extra) > 1:
        raise SchemaError(f"rdm: at most one extra dim to draw panels along; found {extra}")
    panels = (
        [rdm]
        if not extra
        else [rdm.isel({extra[0]: i}) for i in range(min(rdm.sizes[extra[0]], max_panels))]
    )
    n = rdm.sizes[dim]
    names = coord_labels(rdm, dim)
    labels = n <= 40 if labels is None else labels
    ncol = min(len(panels), 4)
    nrow = int(np.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.3 * nrow), squeeze=False)
    for k, (ax, panel) in enumerate(zip(axes.flat, panels)):
        im = ax.imshow(panel.transpose(dim, f"{dim}_2").values, cmap=cmap, interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=rdm.attrs.get("method", ""))
        if extra:
            ax.set_title(
                f"{extra[0]} = {panel[extra[0]].values}"
                if extra[0] in panel.coords
                else f"{extra[0]} {k}"
            )
        if labels:
            ax.set_xticks(range(n), names, rotation=90, fontsize=7)
            ax.set_yticks(range(n), names, fontsize=7)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_lu_grid(accuracy: xr.DataArray, *, cmap: str = "magma", title: str | None = None) -> Any:
    """Map of model-selection accuracy over the tRSA (lower, upper) grid.

    Parameters
    ----------
    accuracy : xarray.DataArray
        Dims (``lower``, ``upper``), as returned by
        [`neurodata.analyses.rsa.model_selection`][]; NaN cells are blank.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    acc = accuracy.transpose("lower", "upper")
    lowers, uppers = acc["lower"].values, acc["upper"].values
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    im = ax.imshow(
        acc.values.T,
        origin="lower",
        cmap=cmap,
        aspect="auto",
        extent=(-0.5, len(lowers) - 0.5, -0.5, len(uppers) - 0.5),
    )
    fig.colorbar(im, ax=ax, label=accuracy.attrs.get("long_name", "accuracy"))
    step_x = max(1, len(lowers) // 10)
    step_y = max(1, len(uppers) // 10)
    ax.set_xticks(range(0, len(lowers), step_x), [f"{v:g}" for v in lowers[::step_x]])
    ax.set_yticks(range(0, len(uppers), step_y), [f"{v:g}" for v in uppers[::step_y]])
    ax.set_xlabel("lower quantile")
    ax.set_ylabel("upper quantile")
    if np.isfinite(acc.values).any():
        i, j = np.unravel_index(np.nanargmax(acc.values), acc.shape)
        ax.plot(i, j, marker="*", color="cyan", markersize=14, label="best")
        ax.legend(loc="lower right")
    ax.set_title(title or f"tRSA model selection ({accuracy.attrs.get('transform', '')})")
    fig.tight_layout()
    return fig


def plot_comparison(
    scores: xr.DataArray,
    noise_ceiling: xr.Dataset | None = None,
    *,
    over: str = "subject",
    title: str | None = None,
) -> Any:
    """Bar chart of model evaluations with error bars and the noise ceiling.

    Parameters
    ----------
    scores : xarray.DataArray
        Similarities with dims (`over`, model) -- e.g. from
        [`neurodata.analyses.rsa.compare`][] -- or (``bootstrap``, model), or
        (model,). Bars are means over `over`/``bootstrap``; error bars are the
        SEM over `over`, or the bootstrap standard deviation.
    noise_ceiling : xarray.Dataset, optional
        With ``lower`` and ``upper`` (from
        [`neurodata.analyses.rsa.noise_ceiling`][]), drawn as a band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    err = None
    if over in scores.dims:
        mean = scores.mean(over)
        err = scores.std(over, ddof=1) / np.sqrt(scores.sizes[over])
    elif "bootstrap" in scores.dims:
        mean = scores.mean("bootstrap")
        err = scores.std("bootstrap", ddof=1)
    else:
        mean = scores
    if mean.ndim != 1:
        raise SchemaError(
            f"scores: expected one model dim besides {over!r}/'bootstrap'; found {scores.dims}"
        )
    mdim = mean.dims[0]
    names = coord_labels(mean, mdim)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 4))
    x = np.arange(len(names))
    if noise_ceiling is not None:
        ax.axhspan(
            float(noise_ceiling["lower"]),
            float(noise_ceiling["upper"]),
            color="0.85",
            zorder=0,
            label="noise ceiling",
        )
    ax.bar(
        x, mean.values, yerr=None if err is None else err.values, capsize=3, color="C0", zorder=2
    )
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(f"RDM similarity ({scores.attrs.get('method', '')})")
    if noise_ceiling is not None:
        ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
