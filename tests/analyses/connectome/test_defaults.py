"""Defaults that need no answer (issue 21): data-driven window, consensus communities,
planted recovery at the defaults, and the community figures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from benchmarks._planted import Setting, planted, recovery
from neurodata.analyses import connectome as dc
from tests.analyses.connectome._graphs import block_loadings

pytest.importorskip("tensorly")


def _series(values, dt):
    n_time = values.shape[0]
    clock = np.arange(n_time) * dt
    return values[None], clock[None]


def test_time_scale_of_white_noise_and_ar1_is_bartletts(rng):
    dt = 0.5
    white = rng.standard_normal((4000, 20))
    tau = dc.time_scale(*_series(white, dt), derivatives=False)
    assert tau == pytest.approx(dt, rel=0.05)
    phi = 0.8
    ar = np.zeros((4000, 20))
    for t in range(1, 4000):
        ar[t] = phi * ar[t - 1] + white[t]
    expected = dt * (1 + phi**2) / (1 - phi**2)  # 1 + 2 sum_k phi^(2k)
    tau = dc.time_scale(*_series(ar, dt), derivatives=False)
    assert tau == pytest.approx(expected, rel=0.1)


def test_automatic_window_follows_the_data_and_is_recorded():
    # the same smooth traces (no white noise) sampled at 1.7 and 5 Hz
    slow, _ = planted(Setting(rate=1.7, n_time=500, noise=0.0), seed=0)
    fast, _ = planted(Setting(rate=5.0, n_time=1500, noise=0.0), seed=0)
    a_slow = dc.affinity(slow, smooth=1, progress=False)
    a_fast = dc.affinity(fast, smooth=1, progress=False)
    for aff in (a_slow, a_fast):
        assert aff.attrs["window"] == pytest.approx(dc.AUTO_SAMPLES * aff.attrs["time_scale"])
        assert aff.attrs["window_rule"].startswith(f"{dc.AUTO_SAMPLES} x time_scale")
    # same physical smoothness at three times the rate: about the same window in seconds
    # (white noise, by contrast, shortens it: more independent samples per second)
    assert 0.7 < a_fast.attrs["window"] / a_slow.attrs["window"] < 1.5
    # an expert's window is used as given, without a rule in attrs
    given = dc.affinity(slow, 40.0, progress=False)
    assert given.attrs["window"] == 40.0 and "window_rule" not in given.attrs
    # a short recording caps the window at a quarter of it
    short = dc.affinity(slow.isel(time=slice(0, 60)), smooth=1, progress=False)
    assert short.attrs["window"] <= (59 / 1.7) / 4 + 0.1


def test_coassignment_equals_the_fraction_of_networkx_louvain_runs(rng):
    import networkx as nx

    # an ambiguous graph: two blocks and a weak, noisy bridge
    loadings, _, _ = block_loadings([7, 7, 4], within=1.0, between=0.3, seed=3)
    resolutions = (0.8, 1.0, 1.5)
    res = dc.detect_communities(loadings, resolution=resolutions, n_seeds=3, seed=5)
    names = res["neuron"].values
    graph = nx.Graph()
    graph.add_nodes_from(names)
    for a, b, w in zip(loadings.neuron_i.values, loadings.neuron_j.values, loadings.values[0]):
        graph.add_edge(a, b, weight=w)
    together = np.zeros((len(names), len(names)))
    for r in resolutions:
        for s in range(3):
            for part in nx.community.louvain_communities(graph, resolution=r, seed=5 + s):
                idx = np.flatnonzero(np.isin(names, list(part)))
                together[np.ix_(idx, idx)] += 1
    co = res["coassignment"].values[0]
    np.testing.assert_allclose(co, together / 9)
    np.testing.assert_array_equal(co, co.T)
    assert np.all(np.diag(co) == 1) and co.min() >= 0 and co.max() <= 1
    assert res.attrs["resolution"] == list(resolutions) and res.attrs["n_seeds"] == 3


def test_consensus_of_clear_blocks_is_exact_and_fully_stable():
    loadings, labels, _ = block_loadings([6, 8, 10])
    res = dc.detect_communities(loadings, seed=0, progress=False)
    assert adjusted_rand_score(labels, res.community.values[0]) == pytest.approx(1.0)
    co = res["coassignment"].values[0]
    same = labels[:, None] == labels[None, :]
    assert np.all(co[same] == 1) and np.all(co[~same] == 0)
    np.testing.assert_array_equal(res["community_stability"].values[0], 1.0)
    assert res.stability.values[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "setting",
    [Setting(n_time=700, community_size=8), Setting(rate=5.0, n_time=1400, noise=1.5)],
    ids=["2.5Hz", "5Hz-noisy"],
)
def test_planted_communities_recovered_at_the_defaults(setting):
    activity, truth = planted(setting, seed=4)
    result = dc.dynamic_connectome(activity, progress=False)
    jaccard, corr = recovery(result, truth)
    print(f"{setting.label()}: Jaccard {np.round(jaccard, 2)}, time r {np.round(corr, 2)}")
    assert np.median(jaccard) >= 0.9 and jaccard.min() >= 0.6
    assert corr.min() > 0.4
    assert (
        "time_scale" in result.attrs and result.attrs["affinity_method"] == "derivative_correlation"
    )


def test_community_figures_show_names_a_colour_bar_and_grey_missing_pairs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurodata.plotting.connectome import MISSING_COLOR, plot_coassignment, plot_communities

    loadings, _, _ = block_loadings([4, 5])
    loadings[0, 3] = np.nan  # a pair never recorded together
    result = dc.detect_communities(loadings.fillna(0.0), progress=False)
    result["pair_loading"] = loadings
    names = set(result["neuron"].values)
    for fig in (plot_communities(result, 0), plot_coassignment(result, 0)):
        ax, bar = fig.axes  # the matrix and its colour bar
        assert {t.get_text() for t in ax.get_xticklabels()} == names
        assert {t.get_text() for t in ax.get_yticklabels()} == names
        assert "grey: no value" in bar.get_ylabel()
        image = ax.get_images()[0]
        missing = image.to_rgba(np.ma.masked_invalid([np.nan]))[0]
        top = image.to_rgba(np.array([image.norm.vmax]))[0]
        assert tuple(missing) == matplotlib.colors.to_rgba(MISSING_COLOR)
        assert not np.allclose(missing, top) and not np.allclose(missing, [1, 1, 1, 1])
        assert np.ma.is_masked(image.get_array())  # the missing cells are drawn as missing
        plt.close(fig)
