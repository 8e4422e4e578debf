"""plot_selectivity and plot_lesion_effect draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import xarray as xr

from neurodata.analyses.selectivity import top_units
from neurodata.plotting.selectivity import plot_lesion_effect, plot_selectivity


def _stat(seed):
    rng = np.random.default_rng(seed)
    return xr.DataArray(rng.normal(size=(3, 50)), dims=("layer", "unit"),
                        coords={"layer": ["a", "b", "c"]}, attrs={"long_name": "welch_t"})  # fmt: skip


def test_plot_selectivity_bars_equal_the_mask_counts():
    stat, ctrl = _stat(0), _stat(1)
    mask, ctrl_mask = top_units(stat, k=6), top_units(ctrl, k=6)
    fig = plot_selectivity(stat, mask, control=ctrl, control_mask=ctrl_mask)
    bars = fig.axes[0].patches
    heights = [b.get_height() for b in bars]
    expected = list(mask.sum("unit").values) + list(ctrl_mask.sum("unit").values)
    assert heights == expected
    assert len(fig.axes) == 4  # bars, histograms, map + its colour bar


def test_plot_lesion_effect_marks_effect_and_percentile():
    effect = xr.DataArray([-0.2, 0.05], dims="target", coords={"target": ["LATL", "LIFG"]})
    null = xr.DataArray(np.random.default_rng(0).normal(0, 0.05, (10, 2)), dims=("random", "target"),
                        coords={"target": ["LATL", "LIFG"]})  # fmt: skip
    res = xr.Dataset({"effect": effect, "random_effect": null,
                      "percentile": xr.DataArray([0.0, 80.0], dims="target")},
                     attrs={"n_units": 27, "n_random": 10})  # fmt: skip
    fig = plot_lesion_effect(res)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0th pct", "80th pct"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["LATL", "LIFG"]
    assert "27 units" in ax.get_title()
