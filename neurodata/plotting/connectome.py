"""Figures of dynamic functional connectomes (results of
[`neurodata.analyses.connectome.dynamic_connectome`][])."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_coassignment", "plot_communities", "plot_component_graph", "plot_timeline"]


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


#: Colour of matrix cells without a value (pairs never recorded together, the diagonal):
#: a mid grey, distinct from every colour of the maps used (whose maxima are yellow).
MISSING_COLOR = "0.6"


def _community_order(labels: np.ndarray, names: np.ndarray) -> np.ndarray:
    return np.lexsort((names, np.where(labels < 0, labels.max(initial=0) + 1, labels)))


def _matrix_figure(mat, names, labels, *, title, cbar_label, cmap, vmin=None, vmax=None, ax=None):
    """A neuron x neuron matrix ordered by community: names, boundaries, colour bar."""
    import matplotlib.pyplot as plt

    order = _community_order(labels, names)
    n = len(names)
    if ax is None:
        size = min(16.0, 4 + 0.09 * n)
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
    else:
        fig = ax.figure
    colours = plt.get_cmap(cmap).with_extremes(bad=MISSING_COLOR)
    shown = np.ma.masked_invalid(mat[np.ix_(order, order)])
    image = ax.imshow(shown, cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest")
    for b in np.flatnonzero(np.diff(labels[order])) + 0.5:
        ax.axhline(b, color="c", lw=0.8)
        ax.axvline(b, color="c", lw=0.8)
    fontsize = max(2.5, min(7.0, 400.0 / max(n, 1)))
    ax.set_xticks(range(n))
    ax.set_xticklabels(names[order], rotation=90, fontsize=fontsize)
    ax.set_yticks(range(n))
    ax.set_yticklabels(names[order], fontsize=fontsize)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    bar.set_label(f"{cbar_label} (grey: no value)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_communities(result: xr.Dataset, component: int = 0, *, ax: Any = None):
    """A component's pair loadings as a neuron x neuron matrix, sorted by community.

    Parameters
    ----------
    result : xarray.Dataset
        With ``pair_loading`` (component, pair) and ``community`` (component, neuron).
    component : int
        Label (``component`` coordinate) of the component whose pair loadings
        are drawn.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Neuron names on both axes, community boundaries in cyan, a colour bar of
        the loading; pairs without a loading (never recorded together, and the
        diagonal) in grey, never in a colour of the map.
    """
    mat, names = _matrix(result, component)
    labels = result["community"].sel(component=component).values
    n_comm = int(labels.max()) + 1 if labels.size else 0
    return _matrix_figure(mat, names, labels, cmap="viridis", vmin=0.0,
                          title=f"component {component}: {n_comm} communities",
                          cbar_label="pair loading", ax=ax)  # fmt: skip


def plot_coassignment(result: xr.Dataset, component: int = 0, *, ax: Any = None):
    """How stable a component's communities are: the co-assignment of every pair.

    Parameters
    ----------
    result : xarray.Dataset
        With ``coassignment`` (component, neuron, neuron_2), ``community`` and
        ``community_stability`` (component, neuron)
        (the output of [`dynamic_connectome`][neurodata.analyses.connectome.dynamic_connectome]
        or [`detect_communities`][neurodata.analyses.connectome.detect_communities]).
    component : int
        Label of the component whose consensus communities are checked.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Fraction of the Louvain runs (seeds x resolutions) that put each pair in one
        community, ordered by the consensus communities; the title lists each
        community's mean within-community co-assignment.
    """
    co = result["coassignment"].sel(component=component).values.astype(float).copy()
    np.fill_diagonal(co, np.nan)
    names = result["neuron"].values.astype(str)
    labels = result["community"].sel(component=component).values
    stab = result["community_stability"].sel(component=component).values
    per = [float(stab[labels == k][0]) for k in range(int(labels.max(initial=-1)) + 1)]
    listed = ", ".join(f"{k}: {v:.2f}" for k, v in enumerate(per[:8]))
    more = ", ..." if len(per) > 8 else ""
    return _matrix_figure(co, names, labels, cmap="viridis", vmin=0.0, vmax=1.0,
                          title=f"component {component}: co-assignment\n"
                                f"community stability {listed}{more}",
                          cbar_label="fraction of runs co-assigned", ax=ax)  # fmt: skip


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
