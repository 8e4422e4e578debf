"""Figures of dynamic functional connectomes (results of
[`neurodata.analyses.connectome.dynamic_connectome`][])."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_communities", "plot_component_graph", "plot_timeline"]


def _window_centres(result: xr.Dataset) -> tuple[np.ndarray, str]:
    if "window_start" in result.coords and "window_stop" in result.coords:
        return (result["window_start"].values + result["window_stop"].values) / 2, "time (s)"
    return np.arange(result.sizes["window"]), "window"


def plot_timeline(result: xr.Dataset, *, epochs: Any = None, ax: Any = None):
    """Which components (motifs) are active when, and in which worms.

    Parameters
    ----------
    result : xarray.Dataset
        With ``time_course`` (component, window) and ``worm_loading`` (component, worm);
        ``window_start``/``window_stop`` coordinates (s) place the windows in time.
    epochs : annotations, optional
        ``onset``, ``duration``, ``label`` (s) shaded behind the time courses; by
        default the result's ``epoch_onset``/``epoch_duration``/``epoch_label``.
    ax : matplotlib.axes.Axes, optional
        Axes for the time courses (the worm loadings then are not drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    tc = result["time_course"].transpose("component", "window")
    n = tc.sizes["component"]
    x, xlabel = _window_centres(result)
    if ax is None:
        fig, (ax, ax_w) = plt.subplots(
            1, 2, figsize=(11, 1.0 + 0.8 * n), gridspec_kw={"width_ratios": [4, 1]}
        )
    else:
        fig, ax_w = ax.figure, None
    colors = plt.get_cmap("tab10")
    for c in range(n):
        y = np.nan_to_num(tc.values[c], nan=0.0)
        ax.fill_between(x, n - 1 - c, n - 1 - c + 0.85 * y, color=colors(c % 10), alpha=0.8, lw=0)
    ax.set_yticks(np.arange(n) + 0.4)
    ax.set_yticklabels([f"C{c}" for c in tc["component"].values[::-1]])
    ax.set_xlabel(xlabel)
    ax.set_title("component time courses")
    ann = epochs
    if ann is None and "epoch_onset" in result:
        ann = {k: result[f"epoch_{k}"].values for k in ("onset", "duration", "label")}
    if ann is not None:
        for k, (onset, duration, label) in enumerate(
            zip(ann["onset"], ann["duration"], ann["label"])
        ):
            ax.axvspan(onset, onset + duration, color="0.5", alpha=0.08 + 0.08 * (k % 2), lw=0)
            ax.text(onset, n + 0.05, str(label), fontsize=8, va="bottom")
    if ax_w is not None:
        wl = result["worm_loading"].transpose("component", "worm")
        ax_w.imshow(np.nan_to_num(wl.values), aspect="auto", cmap="Greys", vmin=0, vmax=1)
        ax_w.set_xticks(range(wl.sizes["worm"]))
        ax_w.set_xticklabels([str(w) for w in wl["worm"].values], rotation=90, fontsize=7)
        ax_w.set_yticks(range(n))
        ax_w.set_yticklabels([f"C{c}" for c in wl["component"].values])
        ax_w.set_title("worm loadings")
    fig.tight_layout()
    return fig


def _matrix(result: xr.Dataset, component: int) -> tuple[np.ndarray, np.ndarray]:
    pl = result["pair_loading"].sel(component=component)
    names = result["neuron"].values.astype(str)
    index = {n: k for k, n in enumerate(names)}
    i = np.array([index[n] for n in pl["neuron_i"].values.astype(str)])
    j = np.array([index[n] for n in pl["neuron_j"].values.astype(str)])
    mat = np.full((len(names), len(names)), np.nan)
    mat[i, j] = mat[j, i] = pl.values
    return mat, names


def plot_communities(result: xr.Dataset, component: int = 0, *, ax: Any = None):
    """A component's pair loadings as a neuron x neuron matrix, sorted by community.

    Parameters
    ----------
    result : xarray.Dataset
        With ``pair_loading`` (component, pair) and ``community`` (component, neuron).
    component : int
        Component to draw.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    mat, names = _matrix(result, component)
    labels = result["community"].sel(component=component).values
    order = np.lexsort((names, np.where(labels < 0, labels.max() + 1, labels)))
    if ax is None:
        size = min(10.0, 3 + 0.06 * len(names))
        fig, ax = plt.subplots(figsize=(size, size))
    else:
        fig = ax.figure
    ax.imshow(mat[np.ix_(order, order)], cmap="magma", interpolation="nearest")
    bounds = np.flatnonzero(np.diff(labels[order])) + 0.5
    for b in bounds:
        ax.axhline(b, color="c", lw=0.8)
        ax.axvline(b, color="c", lw=0.8)
    if len(names) <= 80:
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names[order], rotation=90, fontsize=6)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names[order], fontsize=6)
    n_comm = int(labels.max()) + 1 if labels.size else 0
    ax.set_title(f"component {component}: {n_comm} communities")
    fig.tight_layout()
    return fig


def plot_component_graph(
    result: xr.Dataset, component: int = 0, *, top: float = 0.05, seed: int = 0, ax: Any = None
):
    """A component's strongest edges as a graph, nodes coloured by community.

    Parameters
    ----------
    result : xarray.Dataset
        With ``pair_loading`` (component, pair) and ``community`` (component, neuron).
    component : int
        Component to draw.
    top : float
        Fraction of the strongest pairs drawn as edges.
    seed : int
        Seed of the spring layout.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import networkx as nx

    mat, names = _matrix(result, component)
    labels = result["community"].sel(component=component).values
    iu, ju = np.triu_indices(len(names), k=1)
    w = np.nan_to_num(mat[iu, ju])
    keep = np.argsort(-w)[: max(1, int(top * w.size))]
    keep = keep[w[keep] > 0]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(names)))
    graph.add_weighted_edges_from(zip(iu[keep], ju[keep], w[keep]))
    pos = nx.spring_layout(graph, weight="weight", seed=seed)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 7))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab20")
    colors = [cmap(int(c) % 20) if c >= 0 else (0.8, 0.8, 0.8, 1.0) for c in labels]
    widths = 2.0 * w[keep] / (w[keep].max() if keep.size else 1.0)
    nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, alpha=0.4)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colors, node_size=60)
    if len(names) <= 150:
        nx.draw_networkx_labels(graph, pos, dict(enumerate(names)), ax=ax, font_size=6)
    ax.set_title(f"component {component}: strongest {len(keep)} pairs")
    ax.set_axis_off()
    fig.tight_layout()
    return fig
