"""Figures for C. elegans worms and connectome comparisons."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["plot_connectome_agreement", "plot_worm_activity"]


def plot_worm_activity(ds: xr.Dataset, worm: str | None = None, *, max_neurons: int | None = None):
    """Heat map of one worm's identified neurons over time.

    Parameters
    ----------
    ds : xarray.Dataset
        ``activity(worm, time, neuron)`` with ``timestamps(worm, time)`` or a ``time``
        coordinate (from [`neurodata.load`][] or `neurodata.celegans.stack`).
    worm : str, optional
        Which worm (default the first).
    max_neurons : int, optional
        Show at most this many identified neurons (in canonical order).

    Returns
    -------
    matplotlib.figure.Figure
        Only the filled slots are drawn; uncertain identities are marked with ``?``.
    """
    import matplotlib.pyplot as plt

    worm = str(ds["worm"].values[0]) if worm is None else worm
    one = ds.sel(worm=worm)
    act = one["activity"].transpose("neuron", "time")
    filled = act.notnull().any("time").values
    names = act["neuron"].values[filled]
    values = act.values[filled]
    if "neuron_uncertain" in one.coords:
        unc = one["neuron_uncertain"].values[filled]
        names = [f"{n}?" if u else str(n) for n, u in zip(names, unc)]
    if max_neurons is not None:
        names, values = names[:max_neurons], values[:max_neurons]
    times = one["time"].values if "time" in one.coords else one["timestamps"].values
    ok = ~np.isnan(times)
    fig, ax = plt.subplots(figsize=(10, max(2.0, 0.12 * len(names) + 1)))
    if len(names):
        extent = (float(times[ok][0]), float(times[ok][-1]), len(names) - 0.5, -0.5)
        image = ax.imshow(
            values[:, ok], aspect="auto", interpolation="nearest", extent=extent, cmap="viridis"
        )
        fig.colorbar(image, ax=ax, label=one["activity"].attrs.get("long_name", "activity")[:40])
        ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_xlabel("time (s)")
    ax.set_title(f"worm {worm}: {int(filled.sum())} identified neurons")
    return fig


def plot_connectome_agreement(comparison: xr.Dataset, synapse_type: str = "chemical"):
    """Jaccard overlap of edge sets between connectomes, as an annotated matrix.

    Parameters
    ----------
    comparison : xarray.Dataset
        From [`neurodata.celegans.compare_connectomes`][]:
        ``jaccard(synapse_type, model, model_2)`` and ``n_edges(model, synapse_type)``.
    synapse_type : {"chemical", "electrical"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    jac = comparison["jaccard"].sel(synapse_type=synapse_type).values
    names = [str(m) for m in comparison["model"].values]
    edges = comparison["n_edges"].sel(synapse_type=synapse_type).values
    labels = [f"{n}\n({e} edges)" for n, e in zip(names, edges)]
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 1.2 * len(names) + 1.5))
    image = ax.imshow(jac, vmin=0, vmax=1, cmap="magma")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(
                j,
                i,
                f"{jac[i, j]:.2f}",
                ha="center",
                va="center",
                color="white" if jac[i, j] < 0.6 else "black",
                fontsize=8,
            )
    ax.set_xticks(range(len(names)), labels, fontsize=7)
    ax.set_yticks(range(len(names)), labels, fontsize=7)
    fig.colorbar(image, ax=ax, label="Jaccard index of edge sets")
    ax.set_title(f"{synapse_type} connections: agreement between annotations")
    return fig
