"""RDMs and RDM comparison against rsatoolbox, scipy and analytic answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist, squareform

from neurodata.analyses import rsa
from neurodata.errors import SchemaError
from neurodata.schema import validate

rt = pytest.importorskip("rsatoolbox")

# rsatoolbox's crossnobis casts NaN internally (its warning, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

N_COND, N_FEAT, N_FOLD = 12, 30, 3
TOL = 1e-10


def _patterns(rng, kind="random", n=N_COND, p=N_FEAT):
    if kind == "random":
        return rng.standard_normal((n, p))
    # structured: three clusters on a low-rank manifold, with a common offset
    centres = rng.standard_normal((3, p)) * 3
    latent = rng.standard_normal((n, 2)) @ rng.standard_normal((2, p))
    return centres[np.arange(n) % 3] + latent + 5.0


def _da(x, dims=("condition", "feature")):
    coords = {"condition": [f"c{i:02d}" for i in range(x.shape[dims.index("condition")])]}
    return xr.DataArray(x, dims=dims, coords=coords)


def _precision(rng, p=N_FEAT):
    a = rng.standard_normal((4 * p, p))
    return np.linalg.inv(a.T @ a / (4 * p))


def _rt_dataset_folds(y):
    n_fold, n = y.shape[:2]
    return rt.data.Dataset(
        np.concatenate(list(y)),
        obs_descriptors={
            "conds": np.tile(np.arange(n), n_fold),
            "fold": np.repeat(np.arange(n_fold), n),
        },
    )


def _close(a, b, tol=TOL):
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


# --------------------------------------------------------------------------------------
# RDMs vs rsatoolbox
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "structured"])
@pytest.mark.parametrize("method", ["euclidean", "correlation", "poisson", "mahalanobis"])
def test_rdm_matches_rsatoolbox(rng, method, kind):
    x = _patterns(rng, kind)
    noise = None
    if method == "poisson":
        x = rng.poisson(np.exp(rng.standard_normal(x.shape)) * 3).astype(float)
    if method == "mahalanobis":
        noise = _precision(rng)
    ours = rsa.rdm(_da(x), method=method, noise=noise)
    ref = rt.rdm.calc_rdm(rt.data.Dataset(x), method=method, noise=noise).get_matrices()[0]
    _close(ours.values, ref)


@pytest.mark.parametrize("remove_mean", [False, True])
def test_rdm_remove_mean_matches_rsatoolbox(rng, remove_mean):
    x = _patterns(rng, "structured")
    ours = rsa.rdm(_da(x), method="euclidean", remove_mean=remove_mean)
    ref = rt.rdm.calc_rdm(rt.data.Dataset(x), method="euclidean", remove_mean=remove_mean)
    _close(ours.values, ref.get_matrices()[0])


@pytest.mark.parametrize("n_fold", [2, 3, 5])
@pytest.mark.parametrize("given_noise", [False, True])
def test_crossnobis_matches_rsatoolbox(rng, n_fold, given_noise):
    y = _patterns(rng, "structured")[None] + rng.standard_normal((n_fold, N_COND, N_FEAT))
    noise = _precision(rng) if given_noise else None
    ours = rsa.rdm(_da(y, ("fold", "condition", "feature")), method="crossnobis", noise=noise)
    ref = rt.rdm.calc_rdm(
        _rt_dataset_folds(y),
        method="crossnobis",
        descriptor="conds",
        cv_descriptor="fold",
        noise=noise,
    )
    _close(ours.values, ref.get_matrices()[0])


@pytest.mark.parametrize("method", ["shrinkage_diag", "shrinkage_eye", "diag", "full"])
def test_noise_precision_matches_rsatoolbox(rng, method):
    resid = rng.standard_normal((80, 10)) @ rng.standard_normal((10, 10))
    ours = rsa.noise_precision(xr.DataArray(resid, dims=("sample", "feature")), method, dof=70)
    ref = rt.data.noise.prec_from_residuals(resid, dof=70, method=method)
    _close(ours, ref, 1e-9)


def test_crossnobis_estimated_noise_matches_rsatoolbox_with_same_precision(rng):
    y = _patterns(rng)[None] + rng.standard_normal((N_FOLD, N_COND, N_FEAT))
    ours = rsa.rdm(
        _da(y, ("fold", "condition", "feature")), "condition", "crossnobis", noise="shrinkage_diag"
    )
    resid = (y - y.mean(axis=0)).reshape(-1, N_FEAT)
    prec = rt.data.noise.prec_from_residuals(resid, dof=N_COND * (N_FOLD - 1))
    ref = rt.rdm.calc_rdm(
        _rt_dataset_folds(y),
        method="crossnobis",
        descriptor="conds",
        cv_descriptor="fold",
        noise=prec,
    )
    _close(ours.values, ref.get_matrices()[0])
    assert ours.attrs["noise"] == "shrinkage_diag"


def test_poisson_cv_averages_every_test_fold(rng):
    """rsatoolbox 0.3.2 returns its last fold only; neurodata averages all folds."""
    y = rng.poisson(3.0, (N_FOLD, N_COND, N_FEAT)).astype(float)
    ours = rsa.rdm(_da(y, ("fold", "condition", "feature")), method="poisson_cv")
    per_fold = []
    for k in range(N_FOLD):  # relabel folds so that fold k is rsatoolbox's last one
        labels = [f for f in range(N_FOLD) if f != k] + [k]
        ds = _rt_dataset_folds(y[labels])
        ref = rt.rdm.calc_rdm(ds, method="poisson_cv", descriptor="conds", cv_descriptor="fold")
        per_fold.append(ref.get_matrices()[0])
    _close(ours.values, np.mean(per_fold, axis=0))
    assert not np.allclose(ours.values, per_fold[-1])


def test_non_cv_methods_average_over_folds_first(rng):
    y = rng.standard_normal((N_FOLD, N_COND, N_FEAT))
    da = _da(y, ("fold", "condition", "feature"))
    _close(
        rsa.rdm(da, method="correlation", folds="fold").values,
        rsa.rdm(da.mean("fold"), method="correlation").values,
    )


# --------------------------------------------------------------------------------------
# RDMs vs scipy and analytic cases
# --------------------------------------------------------------------------------------


def test_rdm_vs_scipy_pdist(rng):
    x = _patterns(rng)
    _close(rsa.rdm(_da(x), method="cosine").values, squareform(pdist(x, "cosine")))
    _close(rsa.rdm(_da(x), method="correlation").values, squareform(pdist(x, "correlation")))
    _close(rsa.rdm(_da(x)).values, squareform(pdist(x, "sqeuclidean")) / N_FEAT)


def test_rdm_analytic_two_points():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert rsa.rdm(_da(x)).values[0, 1] == pytest.approx(25.0 / 2)
    y = np.stack([x, x + 1.0])  # identical folds: crossnobis = euclidean
    assert rsa.rdm(_da(y, ("fold", "condition", "feature")), method="crossnobis").values[0, 1] == (
        pytest.approx(25.0 / 2)
    )


def test_crossnobis_is_unbiased_for_pure_noise(rng):
    y = rng.standard_normal((2, 60, 200))
    d = rsa.rdm(_da(y, ("fold", "condition", "feature")), method="crossnobis").values
    off = d[np.triu_indices(60, 1)]
    assert abs(off.mean()) < 4 * off.std() / np.sqrt(off.size) + 1e-3
    assert (off < 0).any()  # unbiased estimates can be negative


@pytest.mark.parametrize("method", sorted(rsa.RDM_METHODS))
def test_every_method_is_a_valid_labelled_rdm(rng, method):
    y = rng.poisson(3.0, (2, 3, N_COND, N_FEAT)).astype(float) + 0.5
    da = xr.DataArray(
        y,
        dims=("fold", "layer", "condition", "unit"),
        coords={"layer": ["l0", "l1", "l2"], "condition": list("abcdefghijkl")},
    )
    out = rsa.rdm(da, method=method, folds="fold")
    assert out.dims == ("layer", "condition", "condition_2")
    assert list(out.condition_2.values) == list("abcdefghijkl")
    assert out.attrs["method"] == method
    validate(out, kind="rdm")
    for i in range(3):  # broadcasting equals one call per layer
        _close(
            out.isel(layer=i).values, rsa.rdm(da.isel(layer=i), method=method, folds="fold").values
        )


def test_rdm_on_dask_stays_lazy_and_matches(rng):
    y = rng.standard_normal((4, 2, N_COND, N_FEAT))
    time = xr.Variable("time", np.arange(4) / 10.0, {"units": "s"})
    da = xr.DataArray(y, dims=("time", "fold", "condition", "feature"), coords={"time": time})
    da = da.chunk({"time": 1})
    lazy = rsa.rdm(da, method="crossnobis")
    assert lazy.chunks is not None
    _close(lazy.compute().values, rsa.rdm(da.compute(), method="crossnobis").values)


def test_noise_dataarray_broadcasts(rng):
    x = rng.standard_normal((2, N_COND, N_FEAT))
    precs = np.stack([_precision(rng), _precision(rng)])
    da = xr.DataArray(x, dims=("subject", "condition", "feature"))
    noise = xr.DataArray(precs, dims=("subject", "feature", "feature_2"))
    out = rsa.rdm(da, method="mahalanobis", noise=noise)
    for s in range(2):
        _close(
            out.isel(subject=s).values,
            rsa.rdm(da.isel(subject=s), method="mahalanobis", noise=precs[s]).values,
        )


def test_rdm_does_not_modify_input(rng):
    x = rng.standard_normal((N_FOLD, N_COND, N_FEAT))
    da = _da(x, ("fold", "condition", "feature"))
    before = da.copy(deep=True)
    for method in ("crossnobis", "euclidean"):
        rsa.rdm(da, method=method, folds="fold", remove_mean=True)
    xr.testing.assert_identical(da, before)


def test_rdm_errors(rng):
    da = _da(rng.standard_normal((N_COND, N_FEAT)))
    with pytest.raises(
        ValueError, match=r"`method` must be one of \[.*'crossnobis'.*\]; got 'eucl'"
    ):
        rsa.rdm(da, method="eucl")
    with pytest.raises(SchemaError, match="needs a fold dim 'fold'"):
        rsa.rdm(da, method="crossnobis")
    with pytest.raises(ValueError, match=r"precision matrix over 'feature'; got shape \(3, 3\)"):
        rsa.rdm(da, method="mahalanobis", noise=np.eye(3))
    with pytest.raises(SchemaError, match="cannot tell the feature dim"):
        rsa.rdm(xr.DataArray(np.zeros((3, 2)), dims=("condition", "sample")))
    with pytest.raises(ValueError, match="pass `folds`"):
        rsa.rdm(da, method="mahalanobis", noise="shrinkage_diag")


_finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(
    x=arrays(np.float64, (6, 5), elements=_finite),
    method=st.sampled_from(["euclidean", "correlation", "cosine", "mahalanobis"]),
    seed=st.integers(0, 2**16),
)
def test_property_symmetric_zero_diagonal_permutation_equivariant(x, method, seed):
    x = x + np.arange(5)  # keep patterns away from zero norm / zero variance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = rsa.rdm(_da(x), method=method).values
        perm = np.random.default_rng(seed).permutation(6)
        dp = rsa.rdm(_da(x[perm]), method=method).values
    ok = np.isfinite(d).all()
    if ok:
        np.testing.assert_array_equal(d, d.T)
        np.testing.assert_array_equal(np.diag(d), 0.0)
        np.testing.assert_allclose(dp, d[np.ix_(perm, perm)], atol=1e-9 * max(1, np.abs(d).max()))


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.01, 100), shift=st.floats(-50, 50), seed=st.integers(0, 2**16))
def test_property_correlation_rdm_invariant_to_scaling(scale, shift, seed):
    x = np.random.default_rng(seed).standard_normal((7, 9))
    row_scale = np.random.default_rng(seed + 1).uniform(0.1, 10, (7, 1))
    d = rsa.rdm(_da(x), method="correlation").values
    np.testing.assert_allclose(
        rsa.rdm(_da(scale * x + shift), method="correlation").values, d, atol=1e-9
    )
    np.testing.assert_allclose(
        rsa.rdm(_da(row_scale * x), method="correlation").values, d, atol=1e-9
    )


# --------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------

_RT_NAMES = {"pearson": "corr", "tau-b": "kendall"}


def _vectors(rng, n_a=4, n_b=5, m=66, ties=True):
    va = rng.standard_normal((n_a, m))
    vb = rng.standard_normal((n_b, m))
    if ties:  # categorical models and partly tied data
        vb[0] = rng.integers(0, 3, m)
        vb[1, :20] = vb[1, 0]
        va[0, :10] = va[0, 0]
    return va, vb


@pytest.mark.parametrize("method", sorted(rsa.COMPARE_METHODS))
def test_compare_matches_rsatoolbox(rng, method):
    va, vb = _vectors(rng)
    ours = rsa.compare_vectors(va, vb, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), _RT_NAMES.get(method, method))
    _close(ours, ref)


def _exact_whitened_cosine(va, vb, sigma_k, center):
    """d1ᵀ V⁻¹ d2 / norms with rsatoolbox's own V = (C Σ Cᵀ)∘(C Σ Cᵀ), solved exactly."""
    from rsatoolbox.rdm.compare import _get_v

    if center:
        va = va - va.mean(axis=1, keepdims=True)
        vb = vb - vb.mean(axis=1, keepdims=True)
    n = round((1 + np.sqrt(1 + 8 * va.shape[1])) / 2)
    v_inv = np.linalg.inv(_get_v(n, sigma_k).toarray())
    num = va @ v_inv @ vb.T
    na = np.sqrt(np.einsum("ij,jk,ik->i", va, v_inv, va))
    nb = np.sqrt(np.einsum("ij,jk,ik->i", vb, v_inv, vb))
    return num / na[:, None] / nb[None, :]


@pytest.mark.parametrize("method", ["cosine_cov", "corr_cov"])
def test_cov_methods_with_sigma_k_match_rsatoolbox(rng, method):
    n = 9
    va = rng.random((3, n * (n - 1) // 2))
    vb = rng.random((2, n * (n - 1) // 2))
    root = rng.standard_normal((n, n))
    sigma = root @ root.T + n * np.eye(n)
    ours = rsa.compare_vectors(va, vb, method, sigma_k=sigma)
    # rsatoolbox's definition (its V), solved exactly: to 1e-10
    _close(ours, _exact_whitened_cosine(va, vb, sigma, method == "corr_cov"))
    # rsatoolbox itself solves with conjugate gradients (rtol 1e-5)
    ref = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), method, sigma_k=sigma)
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    # no sigma_k, or identical variances: rsatoolbox's closed form, to 1e-10
    plain = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), method)
    _close(rsa.compare_vectors(va, vb, method), plain)
    _close(rsa.compare_vectors(va, vb, method, sigma_k=np.full(n, 2.5)), plain)
    _close(rsa.compare_vectors(va, vb, method, sigma_k=np.eye(n)), plain)
    # variances (n,) are the diagonal covariance, exactly (see docs: rsatoolbox's
    # 1-D shortcut is not its own whitening)
    var = rng.random(n) + 0.5
    _close(
        rsa.compare_vectors(va, vb, method, sigma_k=var),
        _exact_whitened_cosine(va, vb, np.diag(var), method == "corr_cov"),
    )
    _close(
        rsa.compare_vectors(va, vb, method, sigma_k=var),
        rsa.compare_vectors(va, vb, method, sigma_k=np.diag(var)),
    )


def test_sigma_k_labelled_and_errors(rng):
    x = _da(rng.standard_normal((N_COND, N_FEAT)))
    r = rsa.rdm(x)
    labels = r.condition.values
    var = xr.DataArray(rng.random(N_COND) + 0.5, dims="condition", coords={"condition": labels})
    out = rsa.compare(r, r * 2 + 1, "corr_cov", sigma_k=var)
    v = rsa.to_vectors(r, "condition")[0]
    _close(
        out.values.reshape(1, 1), rsa.compare_vectors(v, v * 2 + 1, "corr_cov", sigma_k=var.values)
    )
    assert out.attrs["sigma_k"] == "given"
    cov = xr.DataArray(np.diag(var.values), dims=("condition_2", "condition"))
    _close(rsa.compare(r, r, "cosine_cov", sigma_k=cov).values, 1.0)
    with pytest.raises(SchemaError, match="labels differ"):
        rsa.compare(r, r, "cosine_cov", sigma_k=var.assign_coords(condition=labels[::-1]))
    with pytest.raises(SchemaError, match="expected dims"):
        rsa.compare(r, r, "cosine_cov", sigma_k=var.rename(condition="stimulus"))
    with pytest.raises(ValueError, match="`sigma_k` applies to"):
        rsa.compare(r, r, "spearman", sigma_k=var)
    with pytest.raises(ValueError, match="must be a \\(12,\\) vector"):
        rsa.compare_vectors(v, v, "cosine_cov", sigma_k=np.ones(5))
    with pytest.raises(ValueError, match="positive definite"):
        rsa.compare_vectors(v, v, "cosine_cov", sigma_k=np.zeros((N_COND, N_COND)))
    with pytest.raises(ValueError, match="finite and positive"):
        rsa.compare_vectors(v, v, "cosine_cov", sigma_k=-np.ones(N_COND))


def test_compare_matches_scipy(rng):
    va, vb = _vectors(rng)
    for _i, a in enumerate(va):
        for _j, b in enumerate(vb):
            assert rsa.compare_vectors(a, b, "spearman")[0, 0] == pytest.approx(
                scipy.stats.spearmanr(a, b).statistic, abs=1e-12
            )
            assert rsa.compare_vectors(a, b, "tau-b")[0, 0] == pytest.approx(
                scipy.stats.kendalltau(a, b).statistic, abs=1e-12
            )
            assert rsa.compare_vectors(a, b, "pearson")[0, 0] == pytest.approx(
                scipy.stats.pearsonr(a, b).statistic, abs=1e-12
            )


def test_tau_a_brute_force(rng):
    a = rng.integers(0, 4, 30).astype(float)
    b = rng.integers(0, 5, 30).astype(float)
    sa = np.sign(a[:, None] - a[None, :])
    sb = np.sign(b[:, None] - b[None, :])
    expected = (sa * sb)[np.triu_indices(30, 1)].sum() / (30 * 29 / 2)
    assert rsa.compare_vectors(a, b, "tau-a")[0, 0] == pytest.approx(expected, abs=1e-14)


def test_rank_matches_scipy_rankdata(rng):
    v = rng.integers(0, 7, (3, 50)).astype(float)
    v[2] = rng.standard_normal(50)
    np.testing.assert_array_equal(rsa.rank(v), scipy.stats.rankdata(v, axis=1))


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 400).flatmap(
        lambda m: arrays(
            float,
            m,
            elements=st.one_of(
                st.sampled_from([0.0, -0.0, 1.0, 1.0 + 2**-40, -np.inf, np.inf, 5e-324]),
                st.floats(-1e6, 1e6, allow_nan=False),
            ),
        )
    )
)
def test_rank_is_exact_for_ties_and_near_ties(v):
    """The packed-key sort puts values equal to ~8 digits (and -0.0/0.0) in exact order."""
    from neurodata.analyses.rsa._sorting import argsort

    order, maybe_ties = argsort(v)
    assert np.all(v[order][1:] >= v[order][:-1])
    if not maybe_ties:
        assert np.unique(v).size == v.size
    np.testing.assert_array_equal(rsa.rank(v)[0], scipy.stats.rankdata(v))


def test_compare_labels_and_crosses_extra_dims(rng):
    x = rng.standard_normal((3, N_COND, N_FEAT))
    data = rsa.rdm(
        xr.DataArray(
            x, dims=("subject", "condition", "feature"), coords={"subject": ["s1", "s2", "s3"]}
        )
    )
    models = rsa.rdm(
        xr.DataArray(
            rng.standard_normal((2, 4, N_COND, 5)), dims=("model", "layer", "condition", "unit")
        )
    )
    out = rsa.compare(data, models, "spearman")
    assert out.dims == ("subject", "model", "layer")
    assert list(out.subject.values) == ["s1", "s2", "s3"]
    v = rsa.to_vectors(data, "condition")[0]
    m = rsa.to_vectors(models, "condition")[0]
    _close(out.values.reshape(3, 8), rsa.compare_vectors(v, m, "spearman"))
    same = rsa.compare(data, data, "cosine")
    assert same.dims == ("subject", "subject_2")
    _close(np.diag(same.values), np.ones(3))


def test_compare_accepts_dask_rdms(rng):
    x = xr.DataArray(
        rng.standard_normal((3, N_COND, N_FEAT)), dims=("subject", "condition", "feature")
    )
    eager = rsa.rdm(x, method="correlation")
    lazy = rsa.rdm(x.chunk({"subject": 1}), method="correlation")
    for method in ("spearman", "tau-a", "corr_cov"):
        _close(rsa.compare(lazy, lazy, method).values, rsa.compare(eager, eager, method).values)


def test_compare_nan_entries_like_rsatoolbox(rng):
    va, vb = _vectors(rng, ties=False)
    va[:, [3, 7]] = np.nan
    vb[:, [3, 7]] = np.nan
    ref = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), "spearman")
    _close(rsa.compare_vectors(va, vb, "spearman"), ref)


def test_compare_errors(rng):
    r = rsa.rdm(_da(rng.standard_normal((N_COND, N_FEAT))))
    with pytest.raises(ValueError, match=r"`method` must be one of .*; got 'tau'"):
        rsa.compare(r, r, "tau")
    other = rsa.rdm(_da(rng.standard_normal((N_COND - 1, N_FEAT))))
    with pytest.raises(SchemaError, match="conditions along 'condition'"):
        rsa.compare(r, other)
    with pytest.raises(SchemaError, match="labels differ"):
        rsa.compare(
            r,
            r.assign_coords(
                condition=r.condition.values[::-1], condition_2=r.condition.values[::-1]
            ),
        )


# --------------------------------------------------------------------------------------
# inference
# --------------------------------------------------------------------------------------


def _subject_rdms(rng, n_sub=6, n=10):
    base = rng.standard_normal((n, 15))
    x = base[None] + rng.standard_normal((n_sub, n, 15))
    return rsa.rdm(xr.DataArray(x, dims=("subject", "condition", "feature")), method="correlation")


@pytest.mark.parametrize("method", ["cosine", "corr", "spearman", "rho-a", "tau-a"])
def test_noise_ceiling_matches_rsatoolbox(rng, method):
    rdms = _subject_rdms(rng)
    ours = rsa.noise_ceiling(rdms, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lower, upper = rt.inference.boot_noise_ceiling(
            rt.rdm.RDMs(rsa.to_vectors(rdms, "condition")[0]), method=method
        )
    assert float(ours.lower) == pytest.approx(lower, abs=1e-12)
    assert float(ours.upper) == pytest.approx(upper, abs=1e-12)
    assert float(ours.lower) <= float(ours.upper)


def test_inference_refuses_what_it_cannot_use_with_a_schema_error(rng):
    rdms = _subject_rdms(rng, n_sub=3)
    with pytest.raises(SchemaError, match=r"needs at least 2 RDMs along 'subject'; got 1"):
        rsa.noise_ceiling(rdms.isel(subject=[0]))
    with pytest.raises(SchemaError, match=r"`resample` must hold 'subject' and/or 'condition'"):
        rsa.bootstrap(rdms, rdms.isel(subject=0), resample=("unit",))


def test_bootstrap_seeded_and_consistent(rng):
    rdms = _subject_rdms(rng)
    models = rsa.rdm(
        xr.DataArray(rng.standard_normal((3, 10, 4)), dims=("model", "condition", "unit"))
    )
    a = rsa.bootstrap(rdms, models, n_bootstrap=30, seed=3)
    b = rsa.bootstrap(rdms, models, n_bootstrap=30, seed=3)
    c = rsa.bootstrap(rdms, models, n_bootstrap=30, seed=4)
    assert a.dims == ("bootstrap", "model")
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    fixed = rsa.bootstrap(rdms, models, resample=(), n_bootstrap=2, seed=0)
    _close(fixed.values[0], rsa.compare(rdms, models).mean("subject").values)
    with pytest.raises(ValueError, match="`resample` must hold"):
        rsa.bootstrap(rdms, models, resample=("stimulus",))


def test_loso_and_permutation_test(rng):
    rdms = _subject_rdms(rng, n=12)
    truth = rdms.mean("subject").expand_dims(model=["truth"])
    noise = rsa.rdm(
        xr.DataArray(
            rng.standard_normal((1, 12, 4)),
            dims=("model", "condition", "unit"),
            coords={"model": ["noise"]},
        )
    )
    models = xr.concat([truth, noise], "model")
    res = rsa.loso(rdms, models, "spearman")
    assert res["mean"].sel(model="truth") > res["mean"].sel(model="noise")
    perm = rsa.permutation_test(rdms, models, "spearman", n_permutations=199, seed=0)
    assert perm.p_value.dims == ("subject", "model")
    assert (perm.p_value.sel(model="truth") <= 0.01).all()
    assert perm.null.sizes["permutation"] == 199
    # the prepared (rank-once) path equals the generic path
    slow = rsa.permutation_test(rdms.isel(subject=[0]), models, "tau-b", n_permutations=3, seed=1)
    fast = rsa.permutation_test(
        rdms.isel(subject=[0]), models, "spearman", n_permutations=3, seed=1
    )
    assert slow.null.shape == fast.null.shape
    seeded = rsa.permutation_test(
        rdms.isel(subject=[0]), models, "pearson", n_permutations=3, seed=1
    )
    generic = rsa.compare_vectors(
        rsa.to_vectors(rdms.isel(subject=[0]), "condition")[0],
        rsa.to_vectors(models, "condition")[0][
            :,
            rsa._inference._pair_index(12)[
                np.random.default_rng(1).permutation(12)[np.triu_indices(12, 1)[0]],
                np.random.default_rng(1).permutation(12)[np.triu_indices(12, 1)[1]],
            ],
        ],
        "pearson",
    )
    _close(seeded.null.values[0], generic)


@pytest.mark.parametrize("noise", ["shrinkage_eye", "given"])
def test_crossnobis_noise_broadcasts_over_subjects(rng, noise):
    y = rng.standard_normal((2, N_FOLD, N_COND, 8))
    da = xr.DataArray(y, dims=("subject", "fold", "condition", "feature"))
    if noise == "given":
        precs = np.stack([_precision(rng, 8), _precision(rng, 8)])
        arg = xr.DataArray(precs, dims=("subject", "feature", "feature_2"))
    else:
        arg = noise
    out = rsa.rdm(da, method="crossnobis", noise=arg)
    for s in range(2):
        one = arg if noise != "given" else precs[s]
        _close(
            out.isel(subject=s).values,
            rsa.rdm(da.isel(subject=s), method="crossnobis", noise=one).values,
        )
    lazy = rsa.rdm(da.chunk({"subject": 1}), method="crossnobis", noise=arg)
    _close(lazy.values, out.values)


def _engines():
    from neurodata.analyses.rsa import _kendall

    engines = ["scipy"]
    if _kendall._numba_kernel() is not None:
        engines.append("numba")
    return engines


def _categorical_vectors(rng, m=4950):
    """Data RDMs (continuous, partly tied) and model RDMs with many ties (categorical)."""
    va = rng.standard_normal((3, m))
    va[1, : m // 3] = 0.5  # a third of the entries tied
    va[2] = rng.integers(0, 40, m)  # coarse data
    vb = np.stack(
        [
            rng.integers(0, 2, m),  # same/different category
            rng.integers(0, 5, m),
            np.repeat(np.arange(50), m // 50),  # sorted blocks
            rng.standard_normal(m),
            np.full(m, 1.0),  # constant: tau-a 0, tau-b NaN
        ]
    ).astype(float)
    return va, vb


@pytest.mark.parametrize("engine", ["scipy", "numba"])
def test_kendall_engines_match_rsatoolbox_with_ties(rng, engine):
    from neurodata.analyses.rsa import _kendall

    if engine not in _engines():
        pytest.skip("numba is not installed")
    va, vb = _categorical_vectors(rng)
    ours = _kendall.kendall(va, vb, "tau-a", engine=engine, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), "tau-a")
    _close(ours, ref)
    both = _kendall.kendall(vb, va, "tau-b", engine=engine)
    for i, b in enumerate(vb):
        for j, a in enumerate(va):
            expected = scipy.stats.kendalltau(b, a).statistic
            if np.isnan(expected):
                assert np.isnan(both[i, j])
            else:
                assert both[i, j] == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda m: st.tuples(
            arrays(np.int8, m, elements=st.integers(0, 4)),
            arrays(np.int8, m, elements=st.integers(0, 40)),
        )
    )
)
def test_kendall_counts_are_exact(pair):
    """Every engine gives Knight's count exactly (brute force over all pairs)."""
    from neurodata.analyses.rsa import _kendall

    a, b = (x.astype(float) for x in pair)
    m = a.size
    sa = np.sign(a[:, None] - a[None, :])
    sb = np.sign(b[:, None] - b[None, :])
    expected = (sa * sb)[np.triu_indices(m, 1)].sum() / (m * (m - 1) / 2)
    for engine in _engines():
        got = _kendall.kendall(np.stack([a, b]), np.stack([b, a]), "tau-a", engine=engine)
        np.testing.assert_allclose(got[[0, 1], [0, 1]], expected, atol=1e-14)


def test_kendall_falls_back_to_scipy_without_numba(rng, monkeypatch):
    from neurodata.analyses.rsa import _kendall
    from neurodata.errors import DependencyError

    va, vb = _vectors(rng)
    fast = rsa.compare_vectors(va, vb, "tau-a")
    monkeypatch.setattr(_kendall, "_numba_kernel", lambda: None)
    _close(rsa.compare_vectors(va, vb, "tau-a"), fast, 1e-12)
    _close(rsa.compare_vectors(va, vb, "tau-b"), rsa.compare_vectors(va, vb, "kendall"), 1e-12)
    with pytest.raises(DependencyError, match=r"pip install 'neurodata\[rsa\]'"):
        _kendall.kendall(va, vb, engine="numba")
    with pytest.raises(ValueError, match="`engine` must be one of"):
        _kendall.kendall(va, vb, engine="fortran")


def test_kendall_public_fallback_matches(rng, monkeypatch):
    from neurodata.analyses.rsa import _kendall

    va, vb = _vectors(rng)
    fast = rsa.compare_vectors(va, vb, "tau-a")
    monkeypatch.setattr(_kendall, "_numba_kernel", lambda: None)
    monkeypatch.setattr(_kendall, "_scipy_counter", lambda: None)
    _close(rsa.compare_vectors(va, vb, "tau-a"), fast, 1e-12)


def test_kendall_threads_give_the_same_answer(rng):
    va, vb = _vectors(rng)
    one = rsa.compare_vectors(va, vb, "tau-a")
    np.testing.assert_array_equal(rsa.compare_vectors(va, vb, "tau-a", n_jobs=2), one)
    np.testing.assert_array_equal(
        rsa.compare_vectors(va, vb, "tau-b", n_jobs=-1), rsa.compare_vectors(va, vb, "tau-b")
    )
    for method in ("spearman", "rho-a"):
        _close(rsa.compare_vectors(va, vb, method, n_jobs=2), rsa.compare_vectors(va, vb, method))
    np.testing.assert_array_equal(rsa.rank(va, n_jobs=2), rsa.rank(va))
    with pytest.raises(ValueError, match="`n_jobs` must be a positive int"):
        rsa.compare_vectors(va, vb, "tau-a", n_jobs=0)


@pytest.mark.parametrize("method", ["tau-a", "spearman"])
def test_inference_threads_give_the_same_answers(rng, method):
    """n_jobs only changes who computes: ceilings, LOSO, bootstrap and permutations agree."""
    rdms = _subject_rdms(rng, n=12)
    models = rsa.rdm(
        xr.DataArray(rng.standard_normal((3, 12, 4)), dims=("model", "condition", "unit"))
    )
    one = rsa.loso(rdms, models, method)
    two = rsa.loso(rdms, models, method, n_jobs=2)
    xr.testing.assert_allclose(one, two)
    boot = [rsa.bootstrap(rdms, models, method, n_bootstrap=5, seed=1, n_jobs=k) for k in (1, 2)]
    xr.testing.assert_allclose(*boot)
    perm = [
        rsa.permutation_test(rdms, models, method, n_permutations=5, seed=2, n_jobs=k)
        for k in (1, 2)
    ]
    xr.testing.assert_allclose(*perm)
