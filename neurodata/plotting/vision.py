"""Figures of brain-vs-network comparisons on images: layer profiles, RDM pairs, MDS,
subsampling curves, kernel analysis and model recovery."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "plot_kernel_analysis",
    "plot_layer_profile",
    "plot_mds",
    "plot_model_recovery",
    "plot_rdm_pair",
    "plot_subsampling_curve",
]


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def plot_layer_profile(result: xr.Dataset, brain: str | None = None) -> Any:
    """The Khaligh-Razavi & Kriegeskorte (2014) figure: each layer's RDM vs a brain RDM.

    Parameters
    ----------
    result : xarray.Dataset
        From [`neurodata.pipelines.vision.vision_rsa`][]: ``similarity``
        (``comparison``, ``layer``, ``brain``), optionally ``ci_low``/``ci_high``
        (``layer``, ``brain``; the stimulus-bootstrap band of the first comparison)
        and ``ceiling_lower``/``ceiling_upper`` (``brain``).
    brain : str, optional
        The brain RDM to show (default: every one, one panel each).
    """
    plt = _plt()
    brains = [brain] if brain is not None else [str(b) for b in result["brain"].values]
    fig, axes = plt.subplots(1, len(brains), figsize=(5.2 * len(brains), 3.6), squeeze=False)
    x = np.arange(result.sizes["layer"])
    for ax, name in zip(axes[0], brains):
        for comparison in result["comparison"].values:
            sim = result["similarity"].sel(comparison=comparison, brain=name)
            ax.plot(x, sim, marker="o", label=str(comparison))
        if "ci_low" in result:
            ax.fill_between(
                x, result["ci_low"].sel(brain=name), result["ci_high"].sel(brain=name),
                alpha=0.25, color="C0", label=f"95% stimulus bootstrap ({result.attrs.get('ci_method', '')})",
            )  # fmt: skip
        if "ceiling_lower" in result and np.isfinite(result["ceiling_lower"].sel(brain=name)):
            ax.axhspan(
                float(result["ceiling_lower"].sel(brain=name)),
                float(result["ceiling_upper"].sel(brain=name)),
                color="0.8", alpha=0.6, label="noise ceiling",
            )  # fmt: skip
        ax.set_xticks(x, [str(v) for v in result["layer"].values], rotation=90, fontsize=7)
        ax.set_xlabel("layer")
        ax.set_ylabel("RDM correlation")
        ax.set_title(name)
        ax.axhline(0, color="k", lw=0.5)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def _rank_percentiles(square: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    iu = np.triu_indices(len(square), k=1)
    out = np.zeros_like(square, dtype=float)
    out[iu] = 100 * (rankdata(square[iu]) - 1) / max(iu[0].size - 1, 1)
    return out + out.T


def _category_order(labels: np.ndarray | None, n: int) -> tuple[np.ndarray, list[tuple[int, str]]]:
    if labels is None:
        return np.arange(n), []
    labels = np.asarray(labels).astype(str)
    _, first = np.unique(labels, return_index=True)
    levels = labels[np.sort(first)]  # in order of appearance
    order = np.concatenate([np.flatnonzero(labels == lev) for lev in levels])
    starts = [(int(np.flatnonzero(labels[order] == lev)[0]), str(lev)) for lev in levels]
    return order, starts


def plot_rdm_pair(
    rdms: xr.DataArray, labels: Any = None, *, titles: list[str] | None = None
) -> Any:
    """RDMs side by side, ordered by category, as rank percentiles (as in Kriegeskorte 2008).

    Parameters
    ----------
    rdms : xarray.DataArray
        Dims (``rdm``, ``stimulus``, ``stimulus_2``): e.g. a brain RDM and the
        best layer's.
    labels : array_like, optional
        Category of each stimulus: stimuli are grouped by it (in order of first
        appearance) and the groups marked.
    """
    plt = _plt()
    n_panels = rdms.sizes[rdms.dims[0]]
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 4.0), squeeze=False)
    values = np.asarray(rdms.values, dtype=float)
    order, starts = _category_order(labels, values.shape[-1])
    names = titles or [str(v) for v in rdms[rdms.dims[0]].values]
    for ax, square, name in zip(axes[0], values, names):
        im = ax.imshow(
            _rank_percentiles(square)[np.ix_(order, order)], cmap="jet", vmin=0, vmax=100
        )
        ax.set_title(name, fontsize=9)
        ax.set_xticks([s for s, _ in starts], [lab for _, lab in starts], rotation=90, fontsize=6)
        ax.set_yticks([s for s, _ in starts], [lab for _, lab in starts], fontsize=6)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.7, label="dissimilarity (percentile)")
    return fig


def plot_mds(rdm: xr.DataArray, labels: Any = None, *, title: str = "") -> Any:
    """Classical multidimensional scaling (2-D) of one RDM, points coloured by category.

    Parameters
    ----------
    rdm : xarray.DataArray
        Dims (``stimulus``, ``stimulus_2``).
    labels : array_like, optional
        Category of each stimulus (colour and legend).
    """
    plt = _plt()
    square = np.asarray(rdm.values, dtype=float)
    # classical (Torgerson) scaling: the top two eigenvectors of the double-centred -D^2 / 2
    n = len(square)
    centre = np.eye(n) - 1.0 / n
    w, v = np.linalg.eigh(-0.5 * centre @ (square**2) @ centre)
    top = np.argsort(w)[::-1][:2]
    xy = v[:, top] * np.sqrt(np.clip(w[top], 0, None))
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=14)
    else:
        labels = np.asarray(labels).astype(str)
        _, first = np.unique(labels, return_index=True)
        for i, lev in enumerate(labels[np.sort(first)]):
            sel = labels == lev
            ax.scatter(xy[sel, 0], xy[sel, 1], s=14, color=f"C{i}", label=lev)
        ax.legend(fontsize=7, loc="best")
    ax.set_title(title or "MDS of the RDM", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_subsampling_curve(result: xr.Dataset, layers: list[str] | None = None) -> Any:
    """Similarity (mean and spread over draws) and layer-ranking stability against subset size.

    Parameters
    ----------
    result : xarray.Dataset
        From [`neurodata.analyses.rsa.subsampling_curve`][].
    """
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.5))
    names = layers or [str(v) for v in result["layer"].values]
    if layers is None and len(names) > 6:
        names = [names[i] for i in np.unique(np.linspace(0, len(names) - 1, 6).round().astype(int))]
    size = result["size"].values
    for name in names:
        sim = result["similarity"].sel(layer=name)
        mean, sd = sim.mean("draw"), sim.std("draw")
        left.plot(size, mean, marker="o", label=name)
        left.fill_between(size, mean - sd, mean + sd, alpha=0.15)
    left.set_xscale("log")
    left.set_xlabel(f"number of {result.attrs.get('subsampled', 'units')}")
    left.set_ylabel(f"RDM similarity ({result.attrs.get('method', '')})")
    left.legend(fontsize=7)
    right.plot(size, result["p_same_best"], marker="o", label="same best layer as all data")
    right.plot(size, result["rank_agreement"], marker="s", label="rank agreement of layers")
    right.set_xscale("log")
    right.set_ylim(-0.05, 1.05)
    right.set_xlabel(left.get_xlabel())
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_kernel_analysis(result: xr.Dataset) -> Any:
    """Held-out loss against the number of kernel principal components, one curve per layer.

    Parameters
    ----------
    result : xarray.Dataset
        From [`neurodata.analyses.rsa.kernel_analysis`][].
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    loss = result["loss"]
    layers = [str(v) for v in result["layer"].values] if "layer" in loss.dims else [""]
    cmap = plt.get_cmap("viridis")
    for i, name in enumerate(layers):
        curve = loss.sel(layer=name) if name else loss
        ax.plot(
            result["component"], curve, color=cmap(i / max(len(layers) - 1, 1)), label=name or None
        )
    ax.axhline(float(result["chance"]), color="k", ls="--", lw=0.8, label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("kernel principal components")
    ax.set_ylabel("held-out classification loss")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def plot_model_recovery(result: xr.Dataset, noise: float | None = None) -> Any:
    """Confusion matrices (true layer x chosen layer) of every metric, and accuracy vs noise.

    Parameters
    ----------
    result : xarray.Dataset
        From [`neurodata.analyses.rsa.model_recovery`][].
    noise : float, optional
        Noise level of the confusion matrices (default: the lowest).
    """
    plt = _plt()
    res = result if "noise" in result.dims else result.expand_dims("noise")
    level = float(res["noise"].min()) if noise is None else noise
    metrics = [str(m) for m in res["metric"].values]
    fig, axes = plt.subplots(1, len(metrics) + 1, figsize=(3.6 * (len(metrics) + 1), 3.6))
    for ax, metric in zip(axes, metrics):
        conf = res["confusion"].sel(noise=level, metric=metric)
        ax.imshow(conf.values, vmin=0, vmax=1, cmap="Blues")
        ax.set_title(f"{metric} (noise {level:g})", fontsize=9)
        ticks = np.arange(res.sizes["chosen"])
        ax.set_xticks(ticks, [str(v) for v in res["chosen"].values], rotation=90, fontsize=6)
        ax.set_yticks(
            np.arange(res.sizes["truth"]), [str(v) for v in res["truth"].values], fontsize=6
        )
        ax.set_xlabel("chosen")
        ax.set_ylabel("true")
    ax = axes[-1]
    for metric in metrics:
        ax.plot(res["noise"], res["accuracy"].sel(metric=metric), marker="o", label=metric)
    ax.axhline(float(result.attrs["chance"]), color="k", ls="--", lw=0.8, label="chance")
    if res.sizes["noise"] > 1:
        ax.set_xscale("log")
    ax.set_xlabel("noise (relative SD)")
    ax.set_ylabel("true layer picked")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
