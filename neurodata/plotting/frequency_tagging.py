"""Figures for frequency tagging: spectra with tagged frequencies, SNR bars, layer profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from ..errors import SchemaError

__all__ = ["plot_layer_profile", "plot_snr_bars", "plot_spectrum"]


def _pyplot():
    require("matplotlib", "all", purpose="plotting")
    import matplotlib.pyplot as plt

    return plt


def plot_spectrum(
    spectrum: xr.DataArray,
    frequencies: Sequence[float] | None = None,
    *,
    reduce: Sequence[str] | None = None,
    fmax: float | None = None,
    ax: Any = None,
):
    """A spectrum (or SNR spectrum) with the tagged frequencies marked.

    Parameters
    ----------
    spectrum : xarray.DataArray
        Dims (..., ``frequency``); every other dim is averaged (or those in
        ``reduce``, one line per remaining combination, at most 12).
    frequencies : sequence of float, optional
        Tagged frequencies (Hz), drawn as dashed vertical lines.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    da = spectrum if fmax is None else spectrum.sel(frequency=slice(None, fmax))
    others = [d for d in da.dims if d != "frequency"]
    reduce = others if reduce is None else [d for d in reduce if d in da.dims]
    da = da.mean(reduce) if reduce else da
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 3.5))
    lines = da.transpose(..., "frequency").values.reshape(-1, da.sizes["frequency"])
    for line in lines[:12]:
        ax.plot(da["frequency"].values, line, lw=1)
    for f in frequencies or ():
        ax.axvline(f, color="k", ls="--", lw=0.8, alpha=0.6)
    ax.set_xlabel("frequency (Hz)")
    units = da.attrs.get("units")
    ax.set_ylabel(f"{da.name or 'value'}" + (f" ({units})" if units else ""))
    ax.set_title(f"{da.attrs.get('kind', '')} spectrum".strip())
    return fig


def plot_snr_bars(result: xr.Dataset, *, by: str | None = "layer", ax: Any = None):
    """Mean SNR at each tagged frequency, one bar group per ``by`` entry (e.g. layer or channel),
    with the fraction of significant units written above the bars when present.

    Parameters
    ----------
    result : xarray.Dataset
        Output of [`neurodata.analyses.frequency_tagging.tag_test`][].
    """
    plt = _pyplot()
    snr = result["snr"]
    by = by if by in snr.dims else None
    mean = snr.mean([d for d in snr.dims if d not in ("frequency", by)])
    groups = [None] if by is None else list(mean[by].values)
    n_freq = mean.sizes["frequency"]
    fig, ax = (
        (ax.figure, ax) if ax is not None else plt.subplots(figsize=(max(5, len(groups)), 3.5))
    )
    width = 0.8 / n_freq
    labels = result["tag"].values if "tag" in result.coords else None
    for j in range(n_freq):
        values = mean.isel(frequency=j)
        values = np.atleast_1d(values.values if by is None else values.sel({by: groups}).values)
        f = float(mean["frequency"][j])
        name = f"{labels[j]} ({f:g} Hz)" if labels is not None else f"{f:g} Hz"
        ax.bar(np.arange(len(groups)) + j * width, values, width, label=name)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
    ax.set_xticklabels(["all"] if by is None else [str(g) for g in groups], rotation=45, ha="right")
    ax.set_ylabel("SNR")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_layer_profile(results: xr.Dataset | dict[str, xr.Dataset], *, ax: Any = None):
    """Fraction of significant units per layer at each tagged frequency.

    Parameters
    ----------
    results : xarray.Dataset or dict of str -> xarray.Dataset
        ``tag_test`` results with ``fraction_significant`` along (``layer``,
        ``frequency``); a dict draws one line style per condition (e.g.
        structured / scrambled / random).
    """
    plt = _pyplot()
    if isinstance(results, xr.Dataset):
        results = {"": results}
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 3.5))
    styles = ["-", "--", ":", "-."]
    for i, (condition, res) in enumerate(results.items()):
        frac = res["fraction_significant"]
        if "layer" not in frac.dims:
            raise SchemaError(f"results[{condition!r}]: fraction_significant has no 'layer' dim")
        x = np.arange(frac.sizes["layer"])
        for j in range(frac.sizes["frequency"]):
            f = float(frac["frequency"][j])
            label = f"{condition} {f:g} Hz".strip()
            ax.plot(x, frac.isel(frequency=j).values, styles[i % 4], marker="o",
                    color=f"C{j}", label=label)  # fmt: skip
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in frac["layer"].values], rotation=45, ha="right")
    ax.set_xlabel("layer")
    ax.set_ylabel("fraction of significant units")
    ax.set_ylim(0, None)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig
