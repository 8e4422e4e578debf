"""Banded ridge, variance partitioning and preprocessing inside the folds.

Oracles: himalaya's ``solve_multiple_kernel_ridge_random_search`` (the solver
of ``MultipleKernelRidgeCV``) and ``r2_score_split`` on the same data, folds,
alphas and band weights; analytic set measures; planted data (a target driven
by one space only; a confound shared by features and responses); and the
invariance of every fold's predictions to its own test responses.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.analyses import encoding as enc
from neurodata.analyses.encoding import ContiguousKFold, LeaveGroupOut, _banded, check_splits

ALPHAS = np.logspace(-2, 4, 7)


def _two_spaces(rng, n=160, pa=12, pb=18, t=24):
    XA = rng.standard_normal((n, pa))
    XB = rng.standard_normal((n, pb))
    Y = (
        XA @ rng.standard_normal((pa, t)) * rng.uniform(0, 0.4, t)
        + XB @ rng.standard_normal((pb, t)) * rng.uniform(0, 0.4, t)
        + rng.standard_normal((n, t))
        + rng.standard_normal(t)
    )
    return XA, XB, Y


def _timeseries(values, dims, **coords):
    n = values.shape[dims.index("time")]
    coords["time"] = ("time", np.arange(n) * 2.0, {"units": "s"})
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"sfreq": 0.5})


# --------------------------------------------------------------------------------------
# banded ridge against himalaya
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize(
    ("search", "pb"), [("grid", 18), ("random", 18), ("grid", 200)], ids=["grid", "random", "wide"]
)
def test_banded_ridge_matches_himalaya_random_search(rng, fit_intercept, search, pb):
    pytest.importorskip("himalaya")
    from himalaya.backend import set_backend
    from himalaya.kernel_ridge import solve_multiple_kernel_ridge_random_search
    from threadpoolctl import threadpool_limits

    set_backend("numpy")
    XA, XB, Y = _two_spaces(rng, pb=pb)  # pb > samples: kernel factor of a wide band
    if not fit_intercept:
        XA, XB, Y = XA - XA.mean(0), XB - XB.mean(0), Y - Y.mean(0)
    splits = check_splits(ContiguousKFold(4), len(Y))
    ours = enc.banded_ridge_cv(
        {"A": XA, "B": XB},
        Y,
        ALPHAS,
        band_weights=search,
        n_iter=12,
        seed=3,
        cv=splits,
        fit_intercept=fit_intercept,
        dtype="float64",
    )
    gammas = ours["candidates"].values
    Ks = np.stack([XA @ XA.T, XB @ XB.T])
    # one BLAS thread: LAPACK's threaded eigh is very slow on a busy machine
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(divide="ignore"):
        out = solve_multiple_kernel_ridge_random_search(
            Ks,
            Y,
            n_iter=gammas,
            alphas=ALPHAS,
            cv=splits,
            fit_intercept=fit_intercept,
            return_weights="dual",
            return_alphas=True,
            progress_bar=False,
        )
    deltas, dual, cv_scores, best_alphas = out[:4]
    np.testing.assert_array_equal(ours["best_alpha"].values, best_alphas)
    np.testing.assert_allclose(ours["deltas"].values, deltas)
    # himalaya adds log(alpha) * 1e-10 to break ties
    np.testing.assert_allclose(ours["candidate_scores"].values, cv_scores, atol=1e-8)
    # primal weights of band b: exp(delta_b) X_b' dual
    coef = np.vstack([np.exp(d)[None, :] * (X.T @ dual) for d, X in zip(deltas, (XA, XB))])
    coef = np.nan_to_num(coef)
    np.testing.assert_allclose(ours["coef"].values, coef, rtol=1e-6, atol=1e-8)
    if fit_intercept:
        np.testing.assert_allclose(ours["intercept"].values, out[4], rtol=1e-6, atol=1e-8)


def test_banded_ridge_float32_and_labels(rng):
    XA, XB, Y = _two_spaces(rng)
    spaces = xr.Dataset(
        {
            "layer": _timeseries(XA, ("time", "unit")),
            "rate": _timeseries(XB, ("time", "feature")),
        }
    )
    resp = _timeseries(Y, ("time", "voxel"), voxel=[f"v{i}" for i in range(Y.shape[1])])
    a = enc.banded_ridge_cv(spaces, resp, ALPHAS, cv=4, band_weights="grid")
    b = enc.banded_ridge_cv(spaces, resp, ALPHAS, cv=4, band_weights="grid", dtype="float64")
    assert list(a["band"].values) == ["layer", "rate"]
    assert a["target"].values[3] == "v3"
    assert (a["feature_band"] == "layer").sum() == XA.shape[1]
    assert np.mean(a["best_alpha"].values == b["best_alpha"].values) > 0.95
    np.testing.assert_allclose(a["band_weight"].sum("band"), 1.0)


def test_banded_ridge_switches_off_an_uninformative_band(rng):
    n, t = 300, 10
    XA = rng.standard_normal((n, 8))
    XB = rng.standard_normal((n, 40))  # pure noise features
    Y = XA @ rng.standard_normal((8, t)) + 0.5 * rng.standard_normal((n, t))
    ds = enc.banded_ridge_cv({"A": XA, "B": XB}, Y, ALPHAS, band_weights="grid", cv=5)
    assert float(ds["band_weight"].sel(band="A").min()) > 0.9


# --------------------------------------------------------------------------------------
# variance partitioning
# --------------------------------------------------------------------------------------


def test_partition_components_analytic():
    # two bands: known set measures
    f = {(0,): np.array([0.3]), (1,): np.array([0.2]), (0, 1): np.array([0.4])}
    g = _banded.partition_components(f, 2)
    np.testing.assert_allclose(g[(0,)], 0.2)
    np.testing.assert_allclose(g[(1,)], 0.1)
    np.testing.assert_allclose(g[(0, 1)], 0.1)
    # three bands: regions of a Venn diagram with measures 1..7, f = measure of the union
    regions = {s: float(k + 1) for k, s in enumerate(_banded.subsets(3))}
    f3 = {
        t: np.array([sum(m for s, m in regions.items() if set(s) & set(t))])
        for t in _banded.subsets(3)
    }
    g3 = _banded.partition_components(f3, 3)
    for s, m in regions.items():
        np.testing.assert_allclose(g3[s], m)


def test_split_r2_matches_himalaya(rng):
    pytest.importorskip("himalaya")
    from himalaya.backend import set_backend
    from himalaya.scoring import r2_score_split

    set_backend("numpy")
    y = rng.standard_normal((80, 5))
    parts = rng.standard_normal((3, 80, 5)) * 0.3 + 0.2 * y
    y, parts = y - y.mean(0), parts - parts.mean(1, keepdims=True)
    ours = _banded.split_r2(y, parts)
    np.testing.assert_allclose(ours, r2_score_split(y, parts), rtol=1e-10)
    total = 1 - ((y - parts.sum(0)) ** 2).sum(0) / (y**2).sum(0)
    np.testing.assert_allclose(ours.sum(0), total, rtol=1e-10)


def test_variance_partition_planted(rng):
    n, t = 400, 6
    XA = rng.standard_normal((n, 5))
    XB = rng.standard_normal((n, 5))
    # targets 0-2 driven by A only; targets 3-5 by a mix of A and a copy of A inside B
    XB[:, 0] = XA[:, 0] + 0.1 * rng.standard_normal(n)
    W = np.zeros((5, t))
    W[1:, :3] = 1.0
    W[0, 3:] = 2.0
    Y = XA @ W + rng.standard_normal((n, t))
    vp = enc.variance_partition({"A": XA, "B": XB}, Y, ALPHAS, cv=4, inner_cv=3)
    only_a = vp.isel(target=slice(0, 3))
    total = only_a["total"].values
    assert np.all(total > 0.6)
    np.testing.assert_allclose(only_a["unique"].sel(band="A"), total, atol=0.03)
    np.testing.assert_allclose(only_a["unique"].sel(band="B"), 0.0, atol=0.03)
    np.testing.assert_allclose(only_a["shared"], 0.0, atol=0.03)
    # the shared column: most of the variance is shared, little is unique
    mixed = vp.isel(target=slice(3, 6))
    assert np.all(mixed["shared"] > 0.5)
    np.testing.assert_allclose(vp["partition"].sum("component"), vp["total"], rtol=1e-6, atol=1e-9)
    assert list(vp["component"].values) == ["A", "B", "A&B"]
    assert list(vp["subset"].values) == ["A", "B", "A+B"]


def test_variance_partition_explicit_weights_serve_every_subset(rng):
    # an array of 3-band candidates: each 2-band subset model uses its columns,
    # renormalised, and scores exactly like banded_scores given those candidates
    n = 150
    spaces = {k: rng.standard_normal((n, 4)) for k in "ABC"}
    Y = spaces["A"] @ rng.standard_normal((4, 3)) + rng.standard_normal((n, 3))
    gammas = np.array([[1.0, 1.0, 1.0], [3.0, 1.0, 0.0], [0.0, 1.0, 4.0]])
    vp = enc.variance_partition(spaces, Y, ALPHAS, cv=3, inner_cv=3, band_weights=gammas)
    pair = {k: spaces[k] for k in "AC"}
    restricted = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    oracle = enc.banded_scores(pair, Y, ALPHAS, cv=3, inner_cv=3, band_weights=restricted)
    np.testing.assert_allclose(vp["r2_subset"].sel(subset="A+C"), oracle["r2"], rtol=1e-10)
    with pytest.raises(ValueError, match="no candidate gives weight to the bands"):
        enc.variance_partition(spaces, Y, ALPHAS, cv=3, band_weights=np.eye(3)[:1])


def test_banded_scores_split_and_weights(rng):
    n, t = 300, 8
    XA = rng.standard_normal((n, 6))
    XB = rng.standard_normal((n, 30))
    Y = XA @ rng.standard_normal((6, t)) + rng.standard_normal((n, t))
    ds = enc.banded_scores({"A": XA, "B": XB}, Y, ALPHAS, cv=4, inner_cv=3, band_weights="grid")
    assert np.all(ds["r"] > 0.6)
    split = ds["r2_split"]
    assert np.all(split.sel(band="A") > 0.5)
    np.testing.assert_allclose(split.sel(band="B"), 0.0, atol=0.02)
    np.testing.assert_allclose(split.sum("band"), ds["r2"], atol=0.02)
    assert ds["band_weight"].dims == ("fold", "band", "target")


def test_encode_banded_baseline_reports_gain(rng):
    n = 300
    rate = rng.standard_normal((n, 1))
    X = rng.standard_normal((2, n, 6))
    y = rate * 1.0 + X[1] @ np.ones((6, 1)) * 0.5 + rng.standard_normal((n, 1))
    feats = _timeseries(X, ("layer", "time", "unit"), layer=["l0", "l1"])
    base = _timeseries(rate, ("time", "unit"))
    resp = _timeseries(y, ("time", "voxel"))
    ds = enc.encode(feats, resp, baseline=base, banded=True, cv=4, inner_cv=3)
    gain = ds["gain"].squeeze()
    assert float(gain.sel(layer="l1")) > 0.2 and abs(float(gain.sel(layer="l0"))) < 0.05
    assert float(ds["gain_r2"].squeeze().sel(layer="l1")) > 0.1
    assert set(ds["band"].values) == {"layer", "baseline"}
    # a scheduler is accepted (banded fits stay in process) and changes nothing
    local = enc.encode(feats, resp, baseline=base, banded=True, cv=4, inner_cv=3,
                       scheduler="synchronous")  # fmt: skip
    np.testing.assert_allclose(local["r"].values, ds["r"].values)
    with pytest.raises(ValueError, match="needs a `baseline`"):
        enc.encode(feats, resp, banded=True)


def test_banded_errors(rng):
    XA, XB, Y = _two_spaces(rng, n=40)
    with pytest.raises(ValueError, match="must be a dict"):
        enc.banded_ridge_cv([XA, XB], Y)
    with pytest.raises(ValueError, match="`band_weights` must be one of"):
        enc.banded_ridge_cv({"A": XA, "B": XB}, Y, band_weights="bayes")
    with pytest.raises(ValueError, match="same number of samples"):
        enc.banded_ridge_cv({"A": XA, "B": XB[:30]}, Y)
    with pytest.raises(ValueError, match=r"shape \(n_candidates, 2\)"):
        enc.banded_ridge_cv({"A": XA, "B": XB}, Y, band_weights=np.ones((3, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        enc.banded_ridge_cv({"A": XA, "B": XB}, Y, band_weights=np.array([[1.0, -1.0]]))


# --------------------------------------------------------------------------------------
# preprocessing inside the folds
# --------------------------------------------------------------------------------------


def _drifting(rng, n=240):
    t = np.arange(n)
    X = rng.standard_normal((n, 4))
    slow = np.column_stack([np.sin(2 * np.pi * t / 300 + k) for k in range(3)])
    Y = X @ rng.standard_normal((4, 3)) + 3 * slow + rng.standard_normal((n, 3))
    return X, Y


@pytest.mark.parametrize(
    "options",
    [
        dict(drift_cutoff=128.0, zscore=True),
        dict(zscore=True),
        dict(confounds="c"),
        dict(drift_cutoff=100.0, confounds="c", zscore=True),
    ],
)
def test_test_fold_responses_never_reach_the_fit(rng, options):
    """Every fold's prediction is the same whatever its own test responses are."""
    X, Y = _drifting(rng)
    conf = rng.standard_normal((len(Y), 2))
    options = {k: (conf if v == "c" else v) for k, v in options.items()}
    train, test = np.r_[0:80, 150:240], np.r_[90:140]  # a held-out block with gaps
    kw = dict(cv=[(train, test)], inner_cv=3, tr=2.0, return_predictions=True, **options)
    a = enc.cross_validated_scores(X, Y, ALPHAS, **kw)
    changed = Y.copy()
    changed[test] = (
        50 * rng.standard_normal((len(test), 3)) + np.linspace(0, 99, len(test))[:, None]
    )
    b = enc.cross_validated_scores(X, changed, ALPHAS, **kw)
    np.testing.assert_array_equal(a["alpha"], b["alpha"])
    np.testing.assert_allclose(
        a["prediction"].values[test], b["prediction"].values[test], rtol=1e-5, atol=1e-5
    )
    # estimating the same preprocessing on the whole series lets the test fold in
    leaky = enc.remove_drift(_timeseries(changed, ("time", "voxel")), zscore=True).values
    orig = enc.remove_drift(_timeseries(Y, ("time", "voxel")), zscore=True).values
    assert not np.allclose(leaky[train], orig[train], atol=1e-3)


def test_confounds_are_regressed_out_in_the_folds(rng):
    """A confound shared by features and responses gives a spurious score unless removed."""
    n = 300
    c = rng.standard_normal((n, 1))
    X = c + 0.5 * rng.standard_normal((n, 3))
    Y = 2 * c + rng.standard_normal((n, 4))
    raw = enc.cross_validated_scores(X, Y, ALPHAS, cv=5, inner_cv=3)
    clean = enc.cross_validated_scores(X, Y, ALPHAS, cv=5, inner_cv=3, confounds=c)
    assert float(raw["r"].mean()) > 0.5
    assert abs(float(clean["r"].mean())) < 0.1


def test_fold_drift_removal_beats_no_removal_and_needs_a_period(rng):
    X, Y = _drifting(rng)
    raw = enc.cross_validated_scores(X, Y, ALPHAS, cv=4, inner_cv=3)
    fold = enc.cross_validated_scores(X, Y, ALPHAS, cv=4, inner_cv=3, drift_cutoff=200.0, tr=2.0)
    assert float(fold["r"].mean()) > float(raw["r"].mean()) + 0.1
    with pytest.raises(ValueError, match="sampling period"):
        enc.cross_validated_scores(X, Y, ALPHAS, cv=4, inner_cv=3, drift_cutoff=128.0)
    # labelled input gives the period
    lab = enc.cross_validated_scores(
        _timeseries(X, ("time", "unit")),
        _timeseries(Y, ("time", "voxel")),
        ALPHAS,
        cv=4,
        inner_cv=3,
        drift_cutoff=200.0,
    )
    np.testing.assert_allclose(lab["r"], fold["r"], rtol=1e-5)


def test_leave_run_out_with_per_run_zscores(rng):
    n = 240
    runs = np.repeat([0, 1, 2], n // 3)
    X = rng.standard_normal((n, 4))
    Y = X @ np.array([[1.0, 0.5], [0.5, -1.0], [0.0, 1.0], [1.0, 0.0]]) + rng.standard_normal(
        (n, 2)
    )
    Y[runs == 1] = Y[runs == 1] * 5 + 20  # another scanner gain and offset in run 1
    ds = enc.cross_validated_scores(
        X,
        Y,
        ALPHAS,
        cv=LeaveGroupOut(),
        groups=runs,
        inner_cv=LeaveGroupOut(),
        runs=runs,
        zscore=True,
        return_predictions=True,
    )
    assert np.all(ds["r"] > 0.7)
    held = ds["response"].values
    for k in range(3):
        np.testing.assert_allclose(held[runs == k].std(0), 1.0, rtol=1e-5)
