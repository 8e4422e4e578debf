"""subsampling_curve, kernel_analysis and model_recovery on planted simulations, against peers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from neurodata.analyses import rsa
from neurodata.errors import SchemaError


def _layers(rng, n_stim=40, widths=(12, 20, 30)):
    """Independent random 'layers' (NaN-padded to the widest, as extract_activations pads)."""
    data = np.full((len(widths), n_stim, max(widths)), np.nan)
    for i, w in enumerate(widths):
        data[i, :, :w] = rng.standard_normal((n_stim, w))
    return xr.DataArray(
        data,
        dims=("layer", "stimulus", "unit"),
        coords={"layer": [f"L{i}" for i in range(len(widths))], "stimulus": np.arange(n_stim)},
    )


def _brain_from(layer: np.ndarray, rng, n_units=60, noise=0.5):
    w = rng.standard_normal((layer.shape[1], n_units))
    x = layer @ w
    return xr.DataArray(
        x + noise * x.std() * rng.standard_normal(x.shape), dims=("stimulus", "neuron")
    )


def test_subsampling_curve_full_value_equals_scipy_and_converges(rng):
    acts = _layers(rng)
    brain = _brain_from(acts.values[1, :, :20], rng)
    out = rsa.subsampling_curve(acts, brain, over="unit", sizes=[2, 8, 60], n_draws=15, seed=0)
    assert out["similarity"].dims == ("size", "draw", "layer")
    want = [
        spearmanr(pdist(acts.values[i, :, :w], "correlation"), pdist(brain, "correlation"))[0]
        for i, w in enumerate((12, 20, 30))
    ]
    np.testing.assert_allclose(out["full"].values, want, rtol=1e-10)
    assert out.attrs["full_best_layer"] == "L1"
    # all units: every draw is the full data; fewer units: noisier
    np.testing.assert_allclose(out["similarity"].sel(size=60).values, np.tile(want, (15, 1)))
    assert out["p_same_best"].sel(size=60) == 1.0
    spread = out["similarity"].std("draw").sel(layer="L1")
    assert spread.sel(size=2) > spread.sel(size=8) > spread.sel(size=60)


def test_subsampling_over_stimuli_with_a_brain_rdm(rng):
    acts = _layers(rng)
    brain = rsa.rdm(_brain_from(acts.values[2], rng), dim="stimulus", method="correlation")
    out = rsa.subsampling_curve(acts, brain, over="stimulus", sizes=[6, 40], n_draws=5)
    assert out.attrs["subsampled"] == "stimuli (both sides)"
    assert (out["best_layer"].sel(size=40) == "L2").all()
    assert out["rank_agreement"].sel(size=40) == pytest.approx(1.0)


def test_subsampling_bad_input(rng):
    acts = _layers(rng)
    brain_rdm = rsa.rdm(_brain_from(acts.values[0, :, :12], rng), dim="stimulus")
    with pytest.raises(SchemaError, match="over='unit' subsamples the brain's neurons"):
        rsa.subsampling_curve(acts, brain_rdm, over="unit")
    with pytest.raises(ValueError, match=r"`over` must be one of \['stimulus', 'unit'\]"):
        rsa.subsampling_curve(acts, brain_rdm, over="voxel")
    with pytest.raises(ValueError, match=r"`sizes` must be integers between 4 and 40"):
        rsa.subsampling_curve(acts, brain_rdm, over="stimulus", sizes=[2, 50])


def test_kernel_analysis_equals_sklearn_kernel_pca_and_least_squares(rng):
    from sklearn.decomposition import KernelPCA
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import StratifiedKFold

    labels = np.repeat(["a", "b", "c"], 12)
    x = (
        rng.standard_normal((36, 10))
        + 1.5 * (labels[:, None] == np.array(["a", "b", "c"]))[:, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]]
    )
    acts = xr.DataArray(x, dims=("stimulus", "unit"), coords={"category": ("stimulus", labels)})
    gamma = 0.05
    out = rsa.kernel_analysis(acts, "category", gamma=gamma, n_components=[1, 3, 10], cv=4, seed=1)
    folds = StratifiedKFold(4, shuffle=True, random_state=1).split(x, labels)
    errors = np.zeros(3)
    for train, test in folds:
        for i, d in enumerate((1, 3, 10)):
            kpca = KernelPCA(d, kernel="rbf", gamma=gamma).fit(x[train])
            onehot = (labels[train][:, None] == np.array(["a", "b", "c"])).astype(float)
            reg = LinearRegression().fit(kpca.transform(x[train]), onehot)
            pred = np.array(["a", "b", "c"])[reg.predict(kpca.transform(x[test])).argmax(1)]
            errors[i] += np.mean(pred != labels[test]) / 4
    np.testing.assert_allclose(out["loss"].values, errors, atol=1e-12)
    assert out["chance"] == pytest.approx(2 / 3)
    assert out["loss"].values[-1] < out["chance"]


def test_kernel_analysis_bad_labels(rng):
    acts = _layers(rng)
    with pytest.raises(SchemaError, match="`labels`: no coordinate 'animate'"):
        rsa.kernel_analysis(acts, "animate")
    with pytest.raises(ValueError, match="at least 2 classes with >= cv=5"):
        rsa.kernel_analysis(acts, np.r_[np.zeros(37), np.ones(3)])


def test_model_recovery_finds_the_planted_layer_at_high_snr_and_says_when_it_cannot(rng):
    acts = _layers(rng, n_stim=40, widths=(25, 25, 25, 25))
    out = rsa.model_recovery(acts, noise=[0.1, 30.0], n_units=20, n_draws=6, seed=0)
    assert out["confusion"].dims == ("noise", "metric", "truth", "chosen")
    high, low = out.sel(noise=0.1), out.sel(noise=30.0)
    assert (high["accuracy"] == 1).all() and high["identifiable"].all()
    np.testing.assert_array_equal(high["confusion"].sel(metric="rsa").values, np.eye(4))
    assert "identifies the generating layer" in str(high["verdict"].sel(metric="cka").values)
    assert not low["identifiable"].any()
    assert str(low["verdict"].sel(metric="rsa").values).startswith(
        "rsa: cannot identify the generating layer at noise 30"
    )
    np.testing.assert_allclose(out["confusion"].sum("chosen"), 1.0)


def test_model_recovery_across_models_reports_model_accuracy(rng):
    a, b = _layers(rng, widths=(15, 15)), _layers(rng, widths=(15, 15))
    out = rsa.model_recovery(
        {"net_a": a, "net_b": b}, truth="net_b/L1", metric="rsa", noise=0.1, n_draws=4
    )
    assert list(out["chosen"].values) == ["net_a/L0", "net_a/L1", "net_b/L0", "net_b/L1"]
    assert float(out["model_accuracy"].sel(metric="rsa")) == 1.0
    assert "noise" in out.coords and out["accuracy"].dims == ("metric",)


def test_model_recovery_encoding_ridge_equals_sklearn_ridgecv(rng):
    from sklearn.linear_model import RidgeCV

    from neurodata.analyses.rsa._recovery import _fold_svd, _ridge_predict

    x, y = rng.standard_normal((30, 12)), rng.standard_normal((30, 5))
    train, test = np.arange(24), np.arange(24, 30)
    alphas = np.logspace(-2, 4, 7)
    got = _ridge_predict(*_fold_svd(x, train), y[train], x[test], alphas)
    want = RidgeCV(alphas=alphas).fit(x[train], y[train]).predict(x[test])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_model_recovery_bad_input(rng):
    acts = _layers(rng)
    with pytest.raises(ValueError, match=r"`metric` must be one of \['cka', 'encoding', 'rsa'\]"):
        rsa.model_recovery(acts, metric="procrustes")
    with pytest.raises(ValueError, match=r"`truth` must be among the candidates"):
        rsa.model_recovery(acts, truth="L9")
    with pytest.raises(SchemaError, match="at least 2 candidate layers"):
        rsa.model_recovery(acts.isel(layer=[0]))
