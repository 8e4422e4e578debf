"""Figures of encoding results draw what they are given."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.analyses import encoding as enc

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from neurodata.plotting.encoding import (  # noqa: E402
    plot_best_layer,
    plot_layer_scores,
    plot_noise_ceiling,
    plot_variance_partition,
)


@pytest.fixture
def scores(rng):
    values = rng.uniform(0, 0.5, (4, 3, 5))
    return xr.DataArray(
        values,
        dims=("layer", "target", "subject"),
        coords={
            "layer": ["l0", "l1", "l2", "l3"],
            "target": ["LATL", "LPTL", "LIFG"],
            "subject": [f"s{i}" for i in range(5)],
        },
        attrs={"long_name": "held-out r", "target_dim": "parcel"},
    )


@pytest.fixture
def ceiling(rng):
    return xr.DataArray(
        rng.uniform(0.5, 0.9, (5, 3)),
        dims=("subject", "parcel"),
        coords={"subject": [f"s{i}" for i in range(5)], "parcel": ["LATL", "LPTL", "LIFG"]},
    )


def test_plot_layer_scores(scores, ceiling):
    import matplotlib.pyplot as plt

    fig = plot_layer_scores(scores, ceiling)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(lines) == 3
    np.testing.assert_allclose(lines[1].get_ydata(), scores.mean("subject").isel(target=1).values)
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    np.testing.assert_allclose(
        sorted(d.get_ydata()[0] for d in dashed), sorted(ceiling.mean("subject").values)
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["l0", "l1", "l2", "l3"]
    plt.close(fig)


def test_plot_best_layer_and_ceiling(scores, ceiling):
    import matplotlib.pyplot as plt

    brain = enc.brain_score(scores, ceiling=ceiling)
    fig = plot_best_layer(brain)
    texts = [t.get_text() for t in fig.axes[0].texts]  # "l2 3/5": most frequent, how often
    assert len(texts) == 3 and {t.split()[0] for t in texts} <= {"l0", "l1", "l2", "l3"}
    assert all(t.split()[1].endswith(f"/{scores.sizes['subject']}") for t in texts)
    plt.close(fig)
    fig = plot_noise_ceiling(ceiling)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(heights, ceiling.mean("subject").values)
    plt.close(fig)


def test_plot_variance_partition():
    import matplotlib.pyplot as plt

    vp = xr.Dataset(
        {
            "unique": (("band", "target"), [[0.2, -0.01], [0.05, 0.1]]),
            "shared": ("target", [0.1, 0.3]),
            "total": ("target", [0.35, 0.39]),
        },
        coords={"band": ["layer", "rate"], "target": ["LATL", "LPTL"]},
    )
    fig = plot_variance_partition(vp)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(sorted(heights), sorted([0.2, -0.01, 0.05, 0.1, 0.1, 0.3]))
    # the shared part sits on top of the positive unique parts
    assert ax.patches[-1].get_y() == pytest.approx(0.1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["LATL", "LPTL"]
    plt.close(fig)
    with pytest.raises(ValueError, match="no variable 'unique'"):
        plot_variance_partition(vp.drop_vars("unique"))
