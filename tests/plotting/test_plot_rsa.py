"""RSA figures: they draw what they are given."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.analyses import rsa

plt = pytest.importorskip("matplotlib.pyplot")
plot = pytest.importorskip("neurodata.plotting.rsa")


@pytest.fixture(autouse=True)
def _agg():
    import matplotlib

    matplotlib.use("Agg")
    yield
    plt.close("all")


def _subject_rdms(rng, n_sub=4, n=8):
    x = rng.standard_normal((n_sub, n, 6))
    da = xr.DataArray(
        x,
        dims=("subject", "condition", "feature"),
        coords={"condition": [f"img{i}" for i in range(n)]},
    )
    return rsa.rdm(da, method="correlation")


def test_plot_rdm_labels_and_panels(rng):
    rdms = _subject_rdms(rng)
    fig = plot.plot_rdm(rdms.isel(subject=0))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"img{i}" for i in range(8)]
    np.testing.assert_allclose(ax.images[0].get_array(), rdms.isel(subject=0).values)
    fig = plot.plot_rdm(rdms)
    assert len([a for a in fig.axes if a.images]) == 4
    with pytest.raises(ValueError, match="expected dims"):
        plot.plot_rdm(xr.DataArray(np.zeros((2, 2)), dims=("condition", "feature")))


def test_plot_lu_grid(rng):
    acc = xr.DataArray(
        [[0.5, 1.0], [np.nan, 0.25]],
        dims=("lower", "upper"),
        coords={"lower": [0.0, 0.5], "upper": [0.5, 1.0]},
    )
    fig = plot.plot_lu_grid(acc)
    star = fig.axes[0].lines[0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0, 1)


def test_plot_comparison_with_noise_ceiling(rng):
    rdms = _subject_rdms(rng)
    models = rsa.rdm(
        xr.DataArray(
            rng.standard_normal((3, 8, 2)),
            dims=("model", "condition", "unit"),
            coords={"model": ["a", "b", "c"]},
        )
    )
    scores = rsa.compare(rdms, models, "spearman")
    ceiling = rsa.noise_ceiling(rdms, "spearman")
    fig = plot.plot_comparison(scores, ceiling)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches if p.get_width() < 1]
    np.testing.assert_allclose(heights, scores.mean("subject").values)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert rsa.family(0, 1) == "geometry sensitive"  # smoke: trsa importable beside plotting
