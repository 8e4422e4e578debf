"""Encoding models: ridge with per-target alphas, nested CV, layer scores, ceilings, nulls.

Oracles: himalaya ``RidgeCV`` (numpy backend) on the same folds, scikit-learn
``Ridge`` looped over the same folds and alphas, nilearn's cosine drift basis,
and analytic cases (planted weights, planted best layer).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata.analyses import encoding as enc
from neurodata.analyses.encoding import ContiguousKFold, LeaveGroupOut, check_splits
from neurodata.analyses.encoding._ridge import SCORES

ALPHAS = np.logspace(-2, 5, 8)


def _problem(rng, n=240, p=30, t=40, noise=1.0, dtype="float32"):
    X = rng.standard_normal((n, p))
    B = rng.standard_normal((p, t)) * rng.uniform(0, 0.5, t)
    Y = X @ B + noise * rng.standard_normal((n, t)) + rng.standard_normal(t)
    return X.astype(dtype), Y.astype(dtype)


def _timeseries(values, dims, **coords):
    n = values.shape[dims.index("time")]
    coords["time"] = ("time", np.arange(n) * 2.0, {"units": "s"})
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"sfreq": 0.5})


# --------------------------------------------------------------------------------------
# against himalaya and scikit-learn
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("shape", [(240, 30), (80, 150)], ids=["primal", "dual"])
def test_ridge_cv_matches_himalaya(rng, fit_intercept, shape):
    pytest.importorskip("himalaya")
    from himalaya.backend import set_backend
    from himalaya.ridge import RidgeCV

    set_backend("numpy")
    n, p = shape
    X, Y = _problem(rng, n=n, p=p)
    ours = enc.ridge_cv(X, Y, ALPHAS, cv=5, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # himalaya warns that n_samples < n_features (dual)
        peer = RidgeCV(alphas=ALPHAS, cv=5, fit_intercept=fit_intercept).fit(X, Y)
    np.testing.assert_allclose(ours["best_alpha"], peer.best_alphas_, rtol=1e-5)
    scale = np.abs(peer.coef_).max()
    np.testing.assert_allclose(ours["coef"], peer.coef_, atol=1e-4 * scale)
    # himalaya's cv_scores_ is the mean negative MSE at the best alpha
    np.testing.assert_allclose(ours["cv_score"], peer.cv_scores_, rtol=1e-4, atol=1e-5)
    if fit_intercept:
        np.testing.assert_allclose(ours["intercept"], peer.intercept_, atol=1e-4)


def _brute_force(X, Y, alphas, splits, fit_intercept):
    """scikit-learn Ridge looped over the same folds and alphas (neg MSE, ties -> larger)."""
    from sklearn.linear_model import Ridge

    scores = np.zeros((len(alphas), Y.shape[1]))
    for train, test in splits:
        for i, alpha in enumerate(alphas):
            model = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X[train], Y[train])
            scores[i] += -((Y[test] - model.predict(X[test])) ** 2).mean(0)
    best = len(alphas) - 1 - np.argmax(scores[::-1], axis=0)
    chosen = np.asarray(alphas)[best]
    refit = Ridge(alpha=chosen, fit_intercept=fit_intercept).fit(X, Y)
    return chosen, refit.coef_.T, refit.intercept_


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "cv"),
    [
        ((200, 25), ContiguousKFold(4, gap=3)),
        ((200, 25), 2),
        ((90, 120), ContiguousKFold(3, gap=2)),
    ],
    ids=["primal-gap", "primal-2fold", "dual-gap"],
)
def test_ridge_cv_matches_sklearn_brute_force(rng, dtype, shape, cv):
    X, Y = _problem(rng, n=shape[0], p=shape[1], t=60)
    X64, Y64 = X.astype(float), Y.astype(float)
    splits = check_splits(cv, shape[0])
    chosen, coef, intercept = _brute_force(X64, Y64, ALPHAS, splits, True)
    ours = enc.ridge_cv(X, Y, ALPHAS, cv=cv, dtype=dtype)
    assert np.mean(ours["best_alpha"].values == chosen) >= 0.999
    scale = np.abs(coef).max()
    np.testing.assert_allclose(ours["coef"], coef, atol=1e-3 * scale)
    np.testing.assert_allclose(ours["intercept"], intercept, atol=1e-3 * scale)


def test_float32_and_float64_agree(rng):
    X, Y = _problem(rng)
    a = enc.ridge_cv(X, Y, ALPHAS, dtype="float32")
    b = enc.ridge_cv(X, Y, ALPHAS, dtype="float64")
    assert a["coef"].dtype == np.float32 and b["coef"].dtype == np.float64
    assert np.mean(a["best_alpha"].values == b["best_alpha"].values) >= 0.99
    same = a["best_alpha"].values == b["best_alpha"].values
    np.testing.assert_allclose(a["coef"][:, same], b["coef"][:, same], atol=1e-4)


# --------------------------------------------------------------------------------------
# analytic cases and properties
# --------------------------------------------------------------------------------------


def test_known_weights_recovered(rng):
    X = rng.standard_normal((300, 10))
    B = rng.standard_normal((10, 5))
    Y = X @ B + 2.0
    out = enc.ridge_cv(X, Y, [1e-6, 1e-3, 1.0, 100.0], dtype="float64")
    np.testing.assert_allclose(out["coef"], B, atol=1e-6)
    np.testing.assert_allclose(out["intercept"], 2.0, atol=1e-6)
    assert np.all(out["best_alpha"] == 1e-6)


def test_ties_go_to_the_larger_alpha(rng):
    X = rng.standard_normal((100, 5))
    Y = np.column_stack([np.zeros(100), X @ np.ones(5)])  # a constant target: every alpha ties
    out = enc.ridge_cv(X, Y, [0.1, 10.0, 1000.0], dtype="float64")
    assert out["best_alpha"].values[0] == 1000.0
    assert out["best_alpha"].values[1] == 0.1


@settings(max_examples=15, deadline=None)
@given(batch=st.one_of(st.none(), st.integers(1, 50)), seed=st.integers(0, 2**16))
def test_targets_batch_and_target_order_do_not_change_results(batch, seed):
    rng = np.random.default_rng(seed)
    X, Y = _problem(rng, n=60, p=8, t=13, dtype="float64")
    ref = enc.ridge_cv(X, Y, ALPHAS, cv=3, dtype="float64", targets_batch=None)
    out = enc.ridge_cv(X, Y, ALPHAS, cv=3, dtype="float64", targets_batch=batch)
    np.testing.assert_array_equal(ref["best_alpha"], out["best_alpha"])
    np.testing.assert_allclose(ref["coef"], out["coef"], rtol=1e-10, atol=1e-12)
    perm = rng.permutation(Y.shape[1])
    shuffled = enc.ridge_cv(X, Y[:, perm], ALPHAS, cv=3, dtype="float64", targets_batch=batch)
    np.testing.assert_array_equal(ref["best_alpha"].values[perm], shuffled["best_alpha"])


@pytest.mark.parametrize("scoring", sorted(SCORES))
def test_every_scoring_matches_brute_force(rng, scoring):
    from sklearn.linear_model import Ridge

    X, Y = _problem(rng, n=150, p=12, t=20, dtype="float64")
    splits = check_splits(3, 150)
    scores = np.zeros((len(ALPHAS), Y.shape[1]))
    for train, test in splits:
        for i, alpha in enumerate(ALPHAS):
            pred = Ridge(alpha=alpha).fit(X[train], Y[train]).predict(X[test])
            scores[i] += SCORES[scoring](Y[test], pred)
    out = enc.ridge_cv(X, Y, ALPHAS, cv=splits, scoring=scoring, dtype="float64")
    np.testing.assert_allclose(out["scores"], scores / len(splits), rtol=1e-8, atol=1e-10)


def test_nested_cv_never_sees_the_test_fold(rng):
    X, Y = _problem(rng, n=200, p=10, t=5, dtype="float64")
    a = enc.cross_validated_scores(X, Y, ALPHAS, cv=4, inner_cv=3, return_predictions=True)
    changed = Y.copy()
    changed[150:] = rng.standard_normal((50, 5)) * 100  # outer test fold 3
    b = enc.cross_validated_scores(X, changed, ALPHAS, cv=4, inner_cv=3, return_predictions=True)
    np.testing.assert_array_equal(a["prediction"][150:], b["prediction"][150:])
    assert not np.allclose(a["prediction"][:150], b["prediction"][:150])


def test_cross_validated_scores_are_held_out(rng):
    X, Y = _problem(rng, n=300, p=10, t=8, noise=0.5)
    ds = enc.cross_validated_scores(X, Y, ALPHAS, cv=5)
    assert ds["r"].dims == ("target",) and ds["alpha"].dims == ("fold", "target")
    assert float(ds["r"].min()) > 0.1 and float(ds["r"].median()) > 0.5
    noise = rng.standard_normal(Y.shape).astype("float32")
    null = enc.cross_validated_scores(X, noise, ALPHAS, cv=5)
    assert float(np.abs(null["r"]).max()) < 0.3


# --------------------------------------------------------------------------------------
# splitters
# --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(4, 120), k=st.integers(2, 4), gap=st.integers(0, 5))
def test_contiguous_folds_never_leak(n, k, gap):
    splits = list(ContiguousKFold(k, gap=gap).split(np.zeros(n)))
    assert len(splits) == k
    tests = np.concatenate([t for _, t in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))  # every sample tested once
    for train, test in splits:
        assert np.all(np.diff(test) == 1)  # contiguous
        dist = np.abs(train[:, None] - test[None, :]).min(1) if len(train) else np.array([])
        assert np.all(dist > gap)  # nothing within the gap, nothing shared
        assert len(train) == n - len(test) - sum(
            1 for i in range(n) if i not in set(test) and np.abs(i - test).min() <= gap
        )


def test_contiguous_folds_equal_unshuffled_kfold():
    from sklearn.model_selection import KFold

    for (a_tr, a_te), (b_tr, b_te) in zip(
        ContiguousKFold(5).split(np.zeros(23)), KFold(5).split(np.zeros(23))
    ):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


def test_leave_group_out_with_gap_stays_inside_runs():
    groups = np.repeat(["r1", "r2", "r3"], 10)
    splits = list(LeaveGroupOut(gap=2).split(np.zeros(30), groups=groups))
    assert [groups[t][0] for _, t in splits] == ["r1", "r2", "r3"]
    for train, test in splits:
        assert set(groups[train]).isdisjoint(set(groups[test]))
        # the gap only removes samples of the test's own run: other runs are kept whole
        assert len(train) == 20


def test_groups_by_coordinate_name(rng):
    X, Y = _problem(rng, n=60, p=5, t=3)
    Xd = _timeseries(X, ("time", "unit"), run=("time", np.repeat([1, 2, 3], 20)))
    out = enc.ridge_cv(Xd, Y, ALPHAS, cv=LeaveGroupOut(), groups="run")
    assert out.attrs["n_splits"] == 3


# --------------------------------------------------------------------------------------
# labelled API
# --------------------------------------------------------------------------------------


def test_ridge_cv_keeps_labels(rng):
    X, Y = _problem(rng, n=100, p=6, t=3)
    Xd = _timeseries(X, ("time", "unit"))
    Yd = _timeseries(Y, ("time", "parcel"), parcel=["LATL", "RATL", "LIFG"])
    out = enc.ridge_cv(Xd, Yd, ALPHAS, cv=4)
    assert list(out["target"].values) == ["LATL", "RATL", "LIFG"]
    assert out["coef"].dims == ("feature", "target") and out.sizes["feature"] == 6
    assert out["scores"].dims == ("alpha", "target")


def test_planted_best_layer_is_recovered(rng):
    n, units = 300, 15
    X = rng.standard_normal((4, n, units)).astype("float32")
    W = rng.standard_normal((units, 5))
    # targets 0-2 driven by layer 1, targets 3-4 by layer 3; two subjects
    Y = np.stack(
        [
            np.column_stack([X[1] @ W[:, :3], X[3] @ W[:, 3:]]) + 2 * rng.standard_normal((n, 5))
            for _ in range(2)
        ]
    )
    feats = _timeseries(X, ("layer", "time", "unit"), layer=["l0", "l1", "l2", "l3"])
    resp = _timeseries(Y, ("subject", "time", "parcel"), subject=["s1", "s2"], parcel=list("ABCDE"))
    scores = enc.layer_scores(feats, resp, cv=4, inner_cv=3)
    assert set(scores.dims) == {"layer", "parcel", "subject"}  # the responses' own dim is kept
    assert scores.attrs["target_dim"] == "parcel"
    best = enc.brain_score(scores)
    expected = np.array(["l1", "l1", "l1", "l3", "l3"])
    np.testing.assert_array_equal(
        best["best_layer"].transpose("subject", "parcel").values, np.stack([expected, expected])
    )
    assert float(best["score"].min()) > 0.5
    ceiling = enc.noise_ceiling(resp)
    normalized = enc.brain_score(scores, ceiling=ceiling)["normalized"]
    assert normalized.dims == best["score"].dims and np.all(np.isfinite(normalized))


def test_encode_with_fir_delays_and_permutations(rng):
    n = 200
    x = rng.standard_normal((n, 3))
    y = np.roll(x[:, :1], 2, axis=0) * 2 + rng.standard_normal((n, 1))  # response lags 2 samples
    y[:2] = rng.standard_normal((2, 1))
    feats = enc.fir_delays(_timeseries(x, ("time", "unit")), [0, 1, 2, 3])
    resp = _timeseries(y, ("time", "voxel"))
    ds = enc.encode(feats, resp, cv=4, inner_cv=3, n_permutations=99, block=10, seed=1)
    assert "layer" not in ds.dims
    assert ds["r"].item() > 0.6 and ds["p_value"].item() == pytest.approx(0.01)
    again = enc.encode(feats, resp, cv=4, inner_cv=3, n_permutations=99, block=10, seed=1)
    xr.testing.assert_identical(ds, again)


def test_encode_rejects_constant_targets(rng):
    feats = _timeseries(rng.standard_normal((50, 3)), ("time", "unit"))
    resp = _timeseries(
        np.column_stack([rng.standard_normal(50), np.zeros(50)]),
        ("time", "parcel"),
        parcel=["LATL", "LIFG"],
    )
    with pytest.raises(ValueError, match=r"1 target\(s\) are constant.*LIFG"):
        enc.encode(feats, resp)


# --------------------------------------------------------------------------------------
# delays, drift, ceilings, nulls
# --------------------------------------------------------------------------------------


def test_fir_delays_are_zero_padded_and_respect_runs():
    x = _timeseries(np.arange(1.0, 9.0)[:, None], ("time", "unit"), run=("time", [1] * 4 + [2] * 4))
    out = enc.fir_delays(x, [0, 1, -1], groups="run")
    assert out.dims == ("delay", "time", "unit")
    np.testing.assert_array_equal(out.sel(delay=0).values.ravel(), np.arange(1.0, 9.0))
    np.testing.assert_array_equal(out.sel(delay=1).values.ravel(), [0, 1, 2, 3, 0, 5, 6, 7])
    np.testing.assert_array_equal(out.sel(delay=-1).values.ravel(), [2, 3, 4, 0, 6, 7, 8, 0])
    np.testing.assert_allclose(out["delay_s"], [0.0, 2.0, -2.0])


def test_drift_basis_matches_nilearn():
    from nilearn.signal import create_cosine_drift

    times = np.arange(362) * 2.0
    ref = create_cosine_drift(1 / 128, times)[:, :-1]  # nilearn appends the constant
    np.testing.assert_allclose(enc.drift_basis(362, 2.0, 128.0), ref, atol=1e-12)


def test_remove_drift_removes_slow_trends_per_run(rng):
    n = 200
    t = np.arange(n) * 2.0
    slow = np.column_stack([np.cos(np.pi * np.arange(n) / n), np.linspace(-1, 1, n)])
    fast = rng.standard_normal((n, 2))
    da = _timeseries(slow * 5 + fast + 3.0, ("time", "parcel"), parcel=["a", "b"])
    out = enc.remove_drift(da, cutoff=128.0)
    assert abs(float(out.mean())) < 1e-10
    # the slow part is gone: what is left correlates with the fast signal, not the slow one
    for j in range(2):
        assert np.corrcoef(out.values[:, j], fast[:, j])[0, 1] > 0.9
    assert "remove_drift" in out.attrs["history"]
    np.testing.assert_array_equal(out["time"], t)


def test_split_half_ceiling_matches_reliability(rng):
    n_rep, n, t = 8, 400, 3
    signal = rng.standard_normal((n, t))
    noise_sd = np.array([0.5, 1.0, 2.0])
    data = signal[None] + noise_sd * rng.standard_normal((n_rep, n, t))
    da = _timeseries(data, ("trial", "time", "voxel"))
    ceiling = enc.noise_ceiling(da, method="split_half", n_splits=20)
    expected = 1 / (1 + noise_sd**2 / n_rep)  # reliability of the mean of all repeats
    np.testing.assert_allclose(ceiling.values, expected, atol=0.05)


def test_inter_subject_ceiling(rng):
    shared = rng.standard_normal((300, 2))
    data = np.stack([shared + 0.1 * rng.standard_normal((300, 2)) for _ in range(4)])
    ceiling = enc.noise_ceiling(_timeseries(data, ("subject", "time", "parcel")))
    assert ceiling.dims == ("subject", "parcel") and np.all(ceiling > 0.98)


def test_block_permutation_null(rng):
    y = rng.standard_normal((300, 2))
    pred = np.column_stack([y[:, 0] + 0.5 * rng.standard_normal(300), rng.standard_normal(300)])
    out = enc.block_permutation_test(y, pred, n_permutations=199, block=10, seed=0)
    assert out["null"].shape == (199, 2)
    assert out["p_value"][0] == pytest.approx(1 / 200) and out["p_value"][1] > 0.05
    again = enc.block_permutation_test(y, pred, n_permutations=199, block=10, seed=0)
    np.testing.assert_array_equal(out["null"], again["null"])


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------


def test_estimator_passes_every_parameter(monkeypatch, rng):
    sentinel = {
        "alphas": (1.0, 2.0),
        "cv": 3,
        "fit_intercept": False,
        "scoring": "r",
        "targets_batch": 7,
        "dtype": "float64",
        "backend": "torch",
        "device": "cpu",
    }
    seen = {}

    def fake(X, Y, **kwargs):
        seen.update(kwargs)
        return xr.Dataset(
            {
                "coef": (("feature", "target"), np.zeros((2, 1))),
                "intercept": ("target", [0.0]),
                "best_alpha": ("target", [1.0]),
            }
        )

    monkeypatch.setattr(enc._fit, "ridge_cv", fake)  # the function the estimator wraps
    model = enc.RidgeEncoder(**sentinel)
    assert set(model.get_params()) == set(sentinel)
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)))
    assert {k: seen[k] for k in sentinel} == sentinel


def test_estimator_in_a_pipeline(rng):
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y = _problem(rng, n=200, p=8, t=4)
    model = make_pipeline(StandardScaler(), enc.RidgeEncoder(alphas=ALPHAS, cv=4)).fit(X, Y)
    assert model.predict(X).shape == (200, 4)
    assert model.score(X, Y) > 0.3
    assert clone(model[-1]).get_params()["cv"] == 4


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alphas": [1.0, -1.0]}, "`alphas` must be a non-empty 1-d sequence of positive"),
        ({"alphas": [1.0, 1.0]}, "must not repeat"),
        ({"dtype": "int32"}, r"`dtype` must be one of \['float32', 'float64'\]"),
        ({"scoring": "auc"}, r"`scoring` must be one of \['neg_mse', 'r', 'r2'\]; got 'auc'"),
        ({"targets_batch": 0}, "`targets_batch` must be a positive int"),
        ({"cv": "kfold"}, "`cv` must be an int"),
        ({"cv": [(np.arange(5), np.arange(3, 8))]}, "fold 0 has samples in both"),
        ({"cv": [(np.arange(5), np.arange(50, 60))]}, r"must lie in \[0, 40\)"),
        ({"cv": LeaveGroupOut()}, "`groups` .* is required"),
    ],
)
def test_parameter_errors(rng, kwargs, match):
    X, Y = _problem(rng, n=40, p=3, t=2)
    with pytest.raises(ValueError, match=match):
        enc.ridge_cv(X, Y, **{"alphas": ALPHAS, **kwargs})


def test_data_errors(rng):
    X, Y = _problem(rng, n=40, p=3, t=2)
    with pytest.raises(ValueError, match="same number of samples; got 40 and 39"):
        enc.ridge_cv(X, Y[:39])
    bad = Y.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="responses: hold NaN"):
        enc.ridge_cv(X, bad)
    with pytest.raises(ValueError, match="expected a sample dim"):
        enc.ridge_cv(xr.DataArray(X, dims=("trial", "unit")), Y)


# --------------------------------------------------------------------------------------
# real data: the Alice fMRI release
# --------------------------------------------------------------------------------------


def _alice(subject):
    from tests.conftest import shared_path

    root = shared_path("language", "alice")
    bold = np.loadtxt(root / "timecourses_6mm" / f"{subject}-timecourses.txt")
    rate = np.loadtxt(root / "subject_regressors" / f"{subject}-rate.txt")
    rois = ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"]
    resp = _timeseries(bold, ("time", "parcel"), parcel=rois)
    feats = _timeseries(rate[:, None] / rate.std(), ("time", "unit"))
    return feats, resp


@pytest.mark.shared_data
def test_alice_word_rate_predicts_temporal_rois():
    subjects = ["s18", "s22", "s23", "s24", "s26", "s28"]
    positive = 0
    for subject in subjects:
        feats, resp = _alice(subject)
        # the release's word-rate regressor is already convolved with an HRF: short delays
        feats = enc.fir_delays(enc.remove_drift(feats, zscore=True), [0, 1, 2])
        resp = enc.remove_drift(resp, cutoff=128.0, zscore=True)
        ds = enc.encode(feats, resp, cv=ContiguousKFold(5, gap=5), inner_cv=4)
        positive += float(ds["r"].sel(parcel=["LATL", "LPTL"]).mean()) > 0
    assert positive >= 4


@pytest.mark.shared_data
def test_alice_all_zero_subject_is_reported():
    feats, resp = _alice("s33")
    with pytest.raises(ValueError, match="constant over time"):
        enc.encode(feats, resp)


def test_encode_reports_gain_over_a_baseline(rng):
    n = 300
    rate = rng.standard_normal((n, 1))
    X = rng.standard_normal((2, n, 6))
    # the response is driven by the baseline and by layer l1, not by l0
    y = rate * 1.0 + X[1] @ np.ones((6, 1)) * 0.5 + rng.standard_normal((n, 1))
    feats = _timeseries(X, ("layer", "time", "unit"), layer=["l0", "l1"])
    base = _timeseries(rate, ("time", "unit"))
    ds = enc.encode(feats, _timeseries(y, ("time", "voxel")), baseline=base, cv=4, inner_cv=3)
    assert float(ds["r_baseline"].item()) > 0.3
    gain = ds["gain"].squeeze()
    assert float(gain.sel(layer="l1")) > 0.2 and abs(float(gain.sel(layer="l0"))) < 0.05


def test_cross_subject_training_scores_the_held_out_subject(rng):
    n = 300
    X = rng.standard_normal((n, 6))
    shared = X @ rng.standard_normal((6, 2))
    Y = np.stack([shared + rng.standard_normal((n, 2)) for _ in range(3)])
    Y[2, :, 1] = rng.standard_normal(n)  # subject 3 does not follow the stimulus in parcel b
    feats = _timeseries(X, ("time", "unit"))
    resp = _timeseries(
        Y, ("subject", "time", "parcel"), subject=["s1", "s2", "s3"], parcel=["a", "b"]
    )
    within = enc.encode(feats, resp, cv=4, inner_cv=3)
    across = enc.encode(feats, resp, cv=4, inner_cv=3, cross_subject=True)
    assert across["r"].dims == within["r"].dims
    assert float(across["r"].sel(subject="s3", parcel="b")) < 0.15
    assert float(across["r"].sel(subject="s1", parcel="a")) > 0.5
    with pytest.raises(ValueError, match="needs responses with a 'subject' dim"):
        enc.encode(feats, resp.isel(subject=0), cross_subject=True)


@pytest.mark.parametrize("scoring", sorted(SCORES))
@pytest.mark.parametrize("shape", [(200, 20), (60, 90)], ids=["primal", "dual"])
def test_numpy_and_torch_backends_agree(rng, scoring, shape):
    pytest.importorskip("torch")
    X, Y = _problem(rng, n=shape[0], p=shape[1], t=30)
    a = enc.ridge_cv(X, Y, ALPHAS, cv=ContiguousKFold(4, gap=2), scoring=scoring)
    b = enc.ridge_cv(
        X,
        Y,
        ALPHAS,
        cv=ContiguousKFold(4, gap=2),
        scoring=scoring,
        backend="torch",
        targets_batch=7,
    )
    assert np.mean(a["best_alpha"].values == b["best_alpha"].values) >= 0.99
    np.testing.assert_allclose(a["scores"], b["scores"], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"`backend` must be one of \['numpy', 'torch'\]"):
        enc.ridge_cv(X, Y, backend="jax")


def test_encode_with_the_torch_backend(rng):
    pytest.importorskip("torch")
    X, Y = _problem(rng, n=120, p=6, t=3, dtype="float64")
    feats, resp = _timeseries(X, ("time", "unit")), _timeseries(Y, ("time", "voxel"))
    a = enc.encode(feats, resp, cv=3, inner_cv=3)
    b = enc.encode(feats, resp, cv=3, inner_cv=3, backend="torch")
    np.testing.assert_allclose(a["r"], b["r"], atol=1e-4)


def test_layer_scores_over_a_stimulus_set_with_nan_padded_layers(rng):
    """Image activations: `stimulus` is the sample dim; narrower layers are NaN-padded."""
    from sklearn.model_selection import KFold

    A = rng.standard_normal((2, 92, 10))
    A[0, :, 6:] = np.nan  # layer "a" has 6 units, padded to the widest
    acts = xr.DataArray(A, dims=("layer", "stimulus", "unit"), coords={"layer": ["a", "b"]})
    Y = xr.DataArray(A[0, :, :3] + 0.5 * rng.standard_normal((92, 3)), dims=("stimulus", "voxel"))
    folds = dict(
        cv=KFold(4, shuffle=True, random_state=0), inner_cv=KFold(3, shuffle=True, random_state=0)
    )
    scores = enc.layer_scores(acts, Y, drift_cutoff=None, progress=False, **folds)
    assert scores.dims == ("layer", "voxel")
    assert float(scores.sel(layer="a").min()) > 0.7 > float(scores.sel(layer="b").max())
    alone = enc.layer_scores(acts.sel(layer=["a"]).isel(unit=slice(0, 6)), Y, drift_cutoff=None,
                             progress=False, **folds)  # fmt: skip
    np.testing.assert_allclose(scores.sel(layer=["a"]), alone, rtol=1e-5)
