from __future__ import annotations

import numpy as np
import pandas as pd

from neurodata import celegans
from neurodata.celegans.connectome import edges_to_connectome
from neurodata.plotting.celegans import plot_connectome_agreement, plot_worm_activity


def test_plot_worm_activity():
    rng = np.random.default_rng(0)
    ds = celegans.build_worm(
        rng.standard_normal((30, 3)), np.arange(30) * 0.6, worm="w", labels=["AVAL", "RIAR?", ""]
    )
    fig = plot_worm_activity(ds)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["AVAL", "RIAR?"]
    assert "2 identified neurons" in ax.get_title()
    fig = plot_worm_activity(celegans.resample(ds, rate=1.0))
    assert fig.axes


def test_plot_connectome_agreement():
    def con(rows):
        return edges_to_connectome(pd.DataFrame(rows, columns=["pre", "post", "type", "synapses"]))

    a = con([("AVAL", "AVBL", "chemical", 1), ("ASEL", "AIYL", "chemical", 1)])
    b = con([("AVAL", "AVBL", "chemical", 2)])
    fig = plot_connectome_agreement(celegans.compare_connectomes({"a": a, "b": b}, neurons="all"))
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["0.50", "0.50", "1.00", "1.00"]
