"""Figures for encoding-model results: score by layer per target, best layer, noise ceilings."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import SchemaError
from ._common import coord_labels

__all__ = [
    "plot_best_layer",
    "plot_layer_scores",
    "plot_noise_ceiling",
    "plot_variance_partition",
]


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _mean_sem(da: xr.DataArray, dim: str) -> tuple[xr.DataArray, xr.DataArray | None]:
    if dim not in da.dims:
        return da, None
    n = da.count(dim)
    return da.mean(dim), da.std(dim, ddof=1) / np.sqrt(n)


def _match_targets(ceiling: xr.DataArray, scores: xr.DataArray) -> xr.DataArray:
    target_dim = scores.attrs.get("target_dim")
    if target_dim and target_dim in ceiling.dims and "target" in scores.dims:
        ceiling = ceiling.rename({target_dim: "target"})
    return ceiling


def _target_dim(
    da: xr.DataArray, target_dim: str | None, others: tuple[str, ...], what: str = "scores"
) -> str:
    """The target dim: as given, else ``attrs["target_dim"]``, else the one dim not in ``others``."""
    if target_dim is not None:
        return target_dim
    named = da.attrs.get("target_dim")
    if named in da.dims:
        return str(named)
    rest = [str(d) for d in da.dims if d not in others]
    if len(rest) != 1:
        raise SchemaError(f"{what}: cannot tell the target dim among {rest}; pass `target_dim`")
    return rest[0]


def plot_layer_scores(
    scores: xr.DataArray,
    ceiling: xr.DataArray | None = None,
    *,
    dim: str = "layer",
    target_dim: str | None = None,
    subject_dim: str = "subject",
    ax: Any = None,
) -> Any:
    """Held-out score of every layer, one line per target (region), with noise ceilings.

    Parameters
    ----------
    scores : xarray.DataArray
        Dims (``layer``, ``target``[, ``subject``]), e.g. from
        [`neurodata.analyses.encoding.layer_scores`][]. With ``subject``, lines
        show the mean over subjects and shading its standard error.
    ceiling : xarray.DataArray, optional
        Noise ceiling per target (optionally per subject, averaged), drawn as a
        dashed line in the target's colour.
    dim, target_dim, subject_dim : str
        Names of the layer, target and subject dims (``target_dim`` default:
        ``scores.attrs["target_dim"]``, else the one remaining dim, e.g. ``parcel``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
    """
    target_dim = _target_dim(scores, target_dim, (dim, subject_dim))
    fig, ax = _axes(ax, (6.5, 4.0))
    mean, sem = _mean_sem(scores, subject_dim)
    layers = coord_labels(scores, dim)
    x = np.arange(len(layers))
    if ceiling is not None:
        ceiling = _match_targets(ceiling, scores)
        if subject_dim in ceiling.dims:
            ceiling = ceiling.mean(subject_dim)
    for i, target in enumerate(coord_labels(mean, target_dim)):
        line = mean.isel({target_dim: i}).transpose(dim).values
        (handle,) = ax.plot(x, line, marker="o", label=str(target))
        if sem is not None:
            err = sem.isel({target_dim: i}).transpose(dim).values
            ax.fill_between(x, line - err, line + err, color=handle.get_color(), alpha=0.2)
        if ceiling is not None:
            value = float(ceiling.isel({target_dim: i}).values)
            ax.axhline(value, color=handle.get_color(), linestyle="--", linewidth=1)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    long_labels = len(layers) > 8 or max((len(str(v)) for v in layers), default=0) > 8
    ax.set_xticks(
        x, layers, rotation=30 if long_labels else 0, ha="right" if long_labels else "center"
    )
    ax.set_xlabel(dim)
    ax.set_ylabel(scores.attrs.get("long_name", scores.name or "score"))
    title = "held-out score by layer"
    if sem is not None:
        title += f" (mean ± s.e.m. over {scores.sizes[subject_dim]} {subject_dim}s)"
    if ceiling is not None:
        title += "; dashed: noise ceiling"
    ax.set_title(title, fontsize="medium")
    ax.legend(title=scores.attrs.get("target_dim", target_dim), fontsize="small", ncols=2)
    return fig


def plot_best_layer(
    brain: xr.Dataset,
    *,
    target_dim: str | None = None,
    subject_dim: str = "subject",
    ax: Any = None,
) -> Any:
    """Best layer of every target and its score, the layer written above its bar.

    One bar per target: the held-out score of its best layer, or ``normalized``
    (that score over the noise ceiling) when ``brain`` holds it. The one-number
    summary of [`plot_layer_scores`][], which draws every layer's score.

    Parameters
    ----------
    brain : xarray.Dataset
        ``best_layer`` and ``score`` along ``target``, and ``normalized`` when the
        score was divided by a noise ceiling (then the bars show it; NaN, e.g. a
        ceiling too low to divide by, leaves no bar and says so). E.g. the group
        summary of a comparison (`neurodata.pipelines.report.group_summary`), or
        [`brain_score`][neurodata.analyses.encoding.brain_score]. With a
        ``subject`` dim (one best layer per subject) each bar is the mean over
        subjects of each subject's best score, labelled with the most frequent best
        layer and how many subjects share it (``l2 3/4``).
    target_dim, subject_dim : str
        Dim names.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.0, 3.5))
    target_dim = _target_dim(brain["best_layer"], target_dim, (subject_dim,))
    normalized = "normalized" in brain
    best, score = brain["best_layer"], brain["normalized" if normalized else "score"]
    if subject_dim in best.dims:
        best = best.transpose(target_dim, subject_dim)
        labels = []
        for row in best.values:
            names, counts = np.unique(row.astype(str), return_counts=True)
            labels.append(f"{names[np.argmax(counts)]} {counts.max()}/{row.size}")
        score = score.mean(subject_dim)
        what = "mean over subjects of each subject's best score"
    else:
        labels = [str(v) for v in best.values]
        what = "score of the best layer"
    targets = coord_labels(brain, target_dim)
    heights = score.transpose(target_dim).values.astype(float)
    x = np.arange(len(targets))
    bars = ax.bar(x, np.nan_to_num(heights), color="C0")
    for bar, label, height in zip(bars, labels, heights):
        ax.annotate(
            label if np.isfinite(height) else f"{label}\n(ceiling too low)",
            (bar.get_x() + bar.get_width() / 2, max(bar.get_height(), 0.0)),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_xticks(x, targets)
    ax.set_ylabel(f"{what} / noise ceiling" if normalized else what)
    ax.set_title("best layer per target (written above its bar)", fontsize="medium")
    return fig


def plot_noise_ceiling(
    ceiling: xr.DataArray,
    *,
    target_dim: str | None = None,
    subject_dim: str = "subject",
    ax: Any = None,
) -> Any:
    """Noise ceiling per target; per-subject values (inter-subject ceiling) as dots.

    Grey bars: the ceiling of each target, averaged over subjects when ``ceiling``
    has a ``subject`` dim; each subject's own value is then a red dot over its
    target's bar. The y axis is Pearson r: compare the ceiling with scores in r,
    not R^2.

    Parameters
    ----------
    ceiling : xarray.DataArray
        From [`neurodata.analyses.encoding.noise_ceiling`][].
    target_dim : str, optional
        The target dim (default: ``ceiling.attrs["target_dim"]``, else the dim that is
        not ``subject``).
    subject_dim : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.0, 3.5))
    target_dim = _target_dim(ceiling, target_dim, (subject_dim,), "ceiling")
    mean = ceiling.mean(subject_dim) if subject_dim in ceiling.dims else ceiling
    labels = coord_labels(ceiling, target_dim)
    x = np.arange(len(labels))
    ax.bar(x, mean.transpose(target_dim).values, color="0.75")
    if subject_dim in ceiling.dims:
        values = ceiling.transpose(target_dim, subject_dim).values
        jitter = np.linspace(-0.2, 0.2, values.shape[1])
        for i, row in enumerate(values):
            ax.scatter(x[i] + jitter, row, s=10, color="C3", zorder=3)
    ax.set_xticks(x, labels)
    ax.set_ylabel("Pearson r")
    ax.set_title(ceiling.attrs.get("long_name", "noise ceiling"), fontsize="medium")
    return fig


def plot_variance_partition(
    partition: xr.Dataset, *, target_dim: str | None = None, ax: Any = None
) -> Any:
    """Held-out variance of every target split into each band's unique part and the shared part.

    Parameters
    ----------
    partition : xarray.Dataset
        From [`neurodata.analyses.encoding.variance_partition`][]: ``unique``
        (band, target), ``shared`` and ``total`` (target).
    target_dim : str
        The target dim.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Stacked bars (unique parts, then shared; negative estimates drawn below
        zero) and the joint model's R^2 as a black tick.
    """
    for name in ("unique", "shared", "total"):
        if name not in partition:
            raise SchemaError(
                f"partition: no variable {name!r}; expected the output of variance_partition"
            )
    fig, ax = _axes(ax, (6.5, 3.8))
    target_dim = _target_dim(partition["total"], target_dim, ())
    unique = partition["unique"].transpose("band", target_dim)
    labels = coord_labels(partition, target_dim)
    x = np.arange(len(labels))
    pos = np.zeros(len(x))
    neg = np.zeros(len(x))
    parts = [(f"unique: {b}", unique.sel(band=b).values) for b in unique["band"].values]
    parts.append(("shared", partition["shared"].transpose(target_dim).values))
    for k, (label, values) in enumerate(parts):
        values = np.nan_to_num(np.asarray(values, dtype=float))
        bottom = np.where(values >= 0, pos, neg)
        ax.bar(x, values, bottom=bottom, color=f"C{k}" if label != "shared" else "0.6", label=label)
        pos += np.clip(values, 0, None)
        neg += np.clip(values, None, 0)
    total = partition["total"].transpose(target_dim).values
    ax.scatter(x, total, marker="_", s=300, color="k", zorder=3, label="joint model")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x, labels)
    ax.set_ylabel("held-out R²")
    ax.set_title("variance partitioning", fontsize="medium")
    ax.legend(fontsize="small")
    return fig
