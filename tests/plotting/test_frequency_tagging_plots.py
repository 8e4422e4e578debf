"""Frequency-tagging figures build from real results."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import xarray as xr

from neurodata.analyses import frequency_tagging as ft
from neurodata.plotting import frequency_tagging as plots

matplotlib.use("Agg")


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    t = np.arange(320) / 8.0
    x = rng.standard_normal((3, 10, 320))
    x[:, :4] += np.sin(2 * np.pi * t)
    da = xr.DataArray(x, dims=("layer", "unit", "time"),
                      coords={"layer": ["a", "b", "c"], "time": ("time", t, {"units": "s"})},
                      attrs={"sfreq": 8.0})  # fmt: skip
    return da, ft.tag_test(da, {"sentence": 1.0, "phrase": 2.0}, n_permutations=50, seed=0)


def test_figures(result):
    da, res = result
    fig = plots.plot_spectrum(ft.snr(ft.spectrum(da)), [1.0, 2.0], reduce=["unit"])
    assert len(fig.axes[0].lines) == 3 + 2  # one line per layer + two markers
    fig = plots.plot_snr_bars(res)
    assert len(fig.axes[0].patches) == 3 * 2
    fig = plots.plot_layer_profile({"structured": res, "random": res})
    assert len(fig.axes[0].lines) == 4
    with pytest.raises(ValueError, match="has no 'layer' dim"):
        plots.plot_layer_profile(res.isel(layer=0))
