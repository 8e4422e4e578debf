"""Dynamic functional connectomes: affinities, NTF, communities, structure vs function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from neurodata.analyses import connectome as dc
from neurodata.analyses.connectome._affinity import derivative_scores
from neurodata.analyses.connectome._ntf import NTF_METHODS, fit_ntf
from neurodata.datasets.simulated import planted_worms
from neurodata.errors import SchemaError
from neurodata.schema import validate
from tests.analyses.connectome._graphs import block_loadings

tl = pytest.importorskip("tensorly")


@pytest.fixture
def planted():
    return planted_worms()


def _small(rng, n_worms=2, n_time=60, n_neurons=5, dt=0.5):
    data = rng.standard_normal((n_worms, n_time, n_neurons)).cumsum(axis=1)
    stamps = np.arange(n_time) * dt + rng.uniform(0, 0.1, size=(n_worms, 1))
    return xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={
            "worm": [f"w{k}" for k in range(n_worms)],
            "neuron": [f"N{k}" for k in range(n_neurons)],
            "timestamps": (("worm", "time"), stamps, {"units": "s"}),
        },
    )


# --------------------------------------------------------------------------------------
# affinities against direct numpy / pandas implementations
# --------------------------------------------------------------------------------------


def _windows_of(clock, aff):
    for k, (start, stop) in enumerate(zip(aff.window_start.values, aff.window_stop.values)):
        yield k, (clock >= start) & (clock < stop)


def _direct_derivative_affinity(x, t, start, stop, smooth, min_samples):
    """A plain-loop float64 transcription of the documented "derivative" affinity.

    Moving average of width ``smooth`` over the finite samples of the span, central
    differences on the clock (one-sided at the ends, NaN if a sample used is missing),
    each neuron's derivative divided by its standard deviation over the whole
    recording, then for each pair the mean of max(z_i z_j, 0) over the window's
    samples where both z are finite.
    """
    n_time, n_neurons = x.shape
    half = smooth // 2
    xs = np.full((n_time, n_neurons), np.nan)
    for n in range(n_neurons):
        for s in range(n_time):
            if not np.isfinite(x[s, n]):
                continue
            span = [x[u, n] for u in range(s - half, s + smooth - half) if 0 <= u < n_time]
            span = [v for v in span if np.isfinite(v)]
            xs[s, n] = sum(span) / len(span)
    z = np.full((n_time, n_neurons), np.nan)
    for n in range(n_neurons):
        d = []
        for s in range(n_time):
            lo, hi = max(s - 1, 0), min(s + 1, n_time - 1)
            ok = np.isfinite(xs[s, n]) and np.isfinite(xs[lo, n]) and np.isfinite(xs[hi, n])
            d.append((xs[hi, n] - xs[lo, n]) / (t[hi] - t[lo]) if ok else np.nan)
        finite = [v for v in d if np.isfinite(v)]
        if not finite:  # neuron not recorded in this worm
            continue
        mean = sum(finite) / len(finite)
        sd = (sum((v - mean) ** 2 for v in finite) / len(finite)) ** 0.5
        z[:, n] = [v / sd for v in d]
    out = np.full((n_neurons, n_neurons), np.nan)
    for i in range(n_neurons):
        for j in range(n_neurons):
            terms = [
                max(z[s, i] * z[s, j], 0.0)
                for s in range(n_time)
                if start <= t[s] < stop and np.isfinite(z[s, i]) and np.isfinite(z[s, j])
            ]
            if len(terms) >= min_samples:
                out[i, j] = sum(terms) / len(terms)
    return out


@pytest.mark.parametrize("smooth", [1, 3, 4])
def test_derivative_affinity_equals_plain_loop_transcription(rng, smooth):
    act = _small(rng, n_time=50)
    act[0, 10:14, 2] = np.nan  # a gap inside a window
    act[1, :, 4] = np.nan  # neuron 4 not recorded in worm 1
    jitter = np.cumsum(rng.uniform(0.4, 0.6, size=(2, 50)), axis=1)  # irregular clocks
    act = act.assign_coords(timestamps=(("worm", "time"), jitter, {"units": "s"}))
    aff = dc.affinity(act, window=8.0, method="derivative", smooth=smooth, min_samples=3)
    iu = np.triu_indices(act.sizes["neuron"], k=1)
    assert aff.sizes["window"] > 2
    for w in range(act.sizes["worm"]):
        t = act.timestamps.values[w] - act.timestamps.values[w, 0]  # align="start"
        for k, (start, stop) in enumerate(zip(aff.window_start.values, aff.window_stop.values)):
            expected = _direct_derivative_affinity(act.values[w], t, start, stop, smooth, 3)
            np.testing.assert_allclose(
                aff.values[k, w], expected[iu], rtol=1e-5, atol=1e-6, equal_nan=True
            )


def _traces(columns, dt=0.5):
    data = np.stack(columns, axis=1)[None]
    return xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={
            "time": ("time", np.arange(data.shape[1]) * dt, {"units": "s"}),
            "neuron": [f"N{k}" for k in range(data.shape[2])],
        },
    )


def test_derivative_affinity_analytic_cases():
    t = np.arange(200) * 0.5
    x = np.sin(2 * np.pi * t / 17.0) + 0.3 * np.sin(2 * np.pi * t / 5.0)
    y = np.cos(2 * np.pi * t / 11.0)
    act = _traces([x, x.copy(), -x, 3 * x + 5, y])
    aff = dc.affinity(act, window=25.0, smooth=1, method="derivative")
    pair = {(i, j): p for p, (i, j) in enumerate(zip(aff.neuron_i.values, aff.neuron_j.values))}
    same, anti, scaled = (
        aff.values[:, 0, pair[p]] for p in [("N0", "N1"), ("N0", "N2"), ("N0", "N3")]
    )
    other = aff.values[:, 0, pair[("N0", "N4")]]
    # identical traces: the mean squared standardised derivative, the largest value a
    # pair can take (max(ab, 0) <= (a^2 + b^2) / 2); invariant to offset and positive scale
    z = np.gradient(x, t) / np.gradient(x, t).std()
    for k, (start, stop) in enumerate(zip(aff.window_start.values, aff.window_stop.values)):
        inside = (t >= start) & (t < stop)
        assert same[k] == pytest.approx(np.mean(z[inside] ** 2), rel=1e-5)
    np.testing.assert_allclose(scaled, same, rtol=1e-5)
    assert np.all(other < same.max())
    # anti-phase (one rises exactly when the other falls): no affinity at all
    np.testing.assert_array_equal(anti, 0.0)
    # a trace constant over the whole recording has no defined standardised derivative:
    # its pairs are missing (NaN) in that worm, never 0 (nor a zero-filled neuron)
    flat = dc.affinity(
        _traces([x, y, np.full_like(x, 2.0)]), window=25.0, smooth=1, method="derivative"
    )
    with_flat = (flat.neuron_i == "N2") | (flat.neuron_j == "N2")
    assert np.isnan(flat.where(with_flat, drop=True)).all()
    assert np.isfinite(flat.where(~with_flat, drop=True)).all()
    # constant within one window only (but varying elsewhere): affinity 0 in that window
    x2 = x.copy()
    x2[(t >= 49.5) & (t < 75.5)] = 1.0  # one sample beyond: central differences
    still = dc.affinity(_traces([x2, x]), window=25.0, smooth=1, method="derivative")
    k = int(np.flatnonzero(still.window_start.values == 50.0)[0])
    assert still.values[k, 0, 0] == pytest.approx(0.0, abs=1e-6)
    assert still.values[0, 0, 0] > 0.5


@given(scale=st.floats(0.1, 10.0), offset=st.floats(-5.0, 5.0), seed=st.integers(0, 1000))
@settings(max_examples=20, deadline=None)
def test_derivative_affinity_bounded_by_self_affinities(scale, offset, seed):
    """max(ab, 0) <= (a^2 + b^2) / 2: a pair never exceeds the mean of its self-affinities."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((120, 3)).cumsum(axis=0)
    act = _traces([x[:, 0], x[:, 1], scale * x[:, 0] + offset + 0.1 * x[:, 2]])
    aff = dc.affinity(act, window=15.0, smooth=1, method="derivative")
    for k, (start, stop) in enumerate(zip(aff.window_start.values, aff.window_stop.values)):
        t = act.time.values
        z = derivative_scores(act.values[0], t)
        inside = (t >= start) & (t < stop)
        self_aff = np.mean(z[inside] ** 2, axis=0)
        for p, (i, j) in enumerate(zip(aff.neuron_i.values, aff.neuron_j.values)):
            a, b = int(i[1:]), int(j[1:])
            assert aff.values[k, 0, p] <= (self_aff[a] + self_aff[b]) / 2 * (1 + 1e-5) + 1e-6


def test_differential_name_is_reserved_for_the_papers_formula(planted):
    act, _ = planted
    with pytest.raises(ValueError, match="formula is not available to neurodata"):
        dc.affinity(act, window=30.0, method="differential")


@pytest.mark.parametrize("method", ["correlation", "abs_correlation"])
def test_correlation_affinities_equal_pandas_pairwise_complete(rng, method):
    act = _small(rng, n_neurons=6)
    act[1, 5:25, 0] = np.nan
    act[0, :, 4] = np.nan  # neuron 4 unrecorded in worm 0
    aff = dc.affinity(act, window=12.0, method=method, min_samples=4)
    for w in range(act.sizes["worm"]):
        t = act.timestamps.values[w] - act.timestamps.values[w, 0]
        for k, idx in _windows_of(t, aff):
            frame = pd.DataFrame(act.values[w][idx], columns=act.neuron.values)
            r = frame.corr(min_periods=4).to_numpy()  # pairwise-complete Pearson (the peer)
            expected = np.maximum(r, 0) if method == "correlation" else np.abs(r)
            iu = np.triu_indices(6, k=1)
            np.testing.assert_allclose(aff.values[k, w], expected[iu], rtol=1e-5, atol=1e-6)


def test_unrecorded_neurons_are_masked_per_worm_never_zero(rng):
    act = _small(rng, n_neurons=4)
    act[1, :, 3] = np.nan
    aff = dc.affinity(act, window=10.0)
    pairs_with_3 = (aff.neuron_i == "N3") | (aff.neuron_j == "N3")
    assert np.isnan(aff.sel(worm="w1").where(pairs_with_3, drop=True)).all()
    assert np.isfinite(aff.sel(worm="w0").where(pairs_with_3, drop=True)).all()
    assert np.isfinite(aff.sel(worm="w1").where(~pairs_with_3, drop=True)).all()
    # worms on unrelated absolute clocks are aligned at their starts
    shifted = act.assign_coords(timestamps=act.timestamps + np.array([[1e3], [5e2]]))
    xr.testing.assert_identical(dc.affinity(shifted, window=10.0), aff)
    assert dc.affinity(shifted, window=10.0, align="none").sizes["window"] > aff.sizes["window"]
    # a neuron recorded in no worm is dropped from the pair axis
    act[:, :, 0] = np.nan
    aff = dc.affinity(act, window=10.0)
    assert "N0" not in set(aff.neuron_i.values) | set(aff.neuron_j.values)
    assert aff.sizes["pair"] == 3


def test_affinity_layout_and_dtype(planted):
    act, _ = planted
    aff = dc.affinity(act, window=30.0)
    assert aff.dims == ("window", "worm", "pair")
    assert aff.dtype == np.float32
    assert aff.window_start.attrs["units"] == "s"
    n = act.sizes["neuron"]
    assert aff.sizes["pair"] == n * (n - 1) // 2
    assert np.nanmin(aff.values) >= 0
    # a worm whose recording ends before the last window: missing there, not zero
    act = act.copy(deep=True)
    cut = act.timestamps.values[-1] >= aff.window_start.values[-1]
    act.values[-1, cut] = np.nan
    act.coords["timestamps"].values[-1, cut] = np.nan
    aff = dc.affinity(act, window=30.0)
    assert np.isnan(aff.values[-1, -1]).all()
    assert np.isfinite(aff.values[-1, 0]).all()


def test_affinity_memory_is_the_float32_output_and_little_more():
    import tracemalloc

    act, _ = planted_worms(community_size=30, n_worms=3)  # 90 neurons, 4005 pairs
    dc.affinity(act.isel(neuron=slice(0, 4)), window=30.0)  # imports outside the trace
    tracemalloc.start()
    try:
        aff = dc.affinity(act, window=10.0, step=1.0)  # overlapping windows: output >> input
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert aff.dtype == np.float32
    assert aff.nbytes > 5 * act.nbytes
    assert peak < 1.5 * aff.nbytes  # no second copy of the tensor (was 2.1x)


# --------------------------------------------------------------------------------------
# NTF against tensorly called directly
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "peer"),
    [("hals", "non_negative_parafac_hals"), ("mu", "non_negative_parafac")],
)
@pytest.mark.parametrize("batch", [None, 7])
def test_ntf_equals_tensorly(method, peer, batch):
    from tensorly import decomposition

    rng = np.random.default_rng(3)
    truth = [rng.random((12, 3)), rng.random((4, 3)), rng.random((50, 3))]
    tensor = np.einsum("ir,jr,kr->ijk", *truth).astype(np.float32)
    tensor += 0.05 * rng.random(tensor.shape).astype(np.float32)
    (weights, expected), errors = getattr(decomposition, peer)(
        tensor, 3, init="random", random_state=11, n_iter_max=60, tol=1e-7, return_errors=True
    )
    factors, ours = fit_ntf(
        tensor, 3, update=NTF_METHODS[method], seed=11, n_iter_max=60, tol=1e-7, batch=batch
    )
    assert np.all(weights == 1)
    assert len(ours) == len(errors)
    # tensorly accumulates its error in float32 (|X|^2 + |M|^2 - 2<X, M>), ours in float64
    np.testing.assert_allclose(ours, np.asarray(errors, dtype=float), rtol=1e-3)
    for f, g in zip(factors, expected):
        assert f.dtype == np.float32
        assert np.all(f >= 0)
        np.testing.assert_allclose(f, g, rtol=1e-3, atol=1e-4 * np.abs(g).max())


@pytest.mark.parametrize("batch", [4, None])
def test_masked_ntf_equals_tensorly_masked_mu(batch):
    """With missing entries, the EM imputation is tensorly's masked non_negative_parafac."""
    from tensorly.decomposition import non_negative_parafac

    rng = np.random.default_rng(5)
    tensor = np.einsum("ir,jr,kr->ijk", *(rng.random((n, 2)) for n in (8, 3, 30)))
    tensor = tensor.astype(np.float32)
    mask = rng.random(tensor.shape) > 0.2
    _, expected = non_negative_parafac(
        tensor, 2, init="random", random_state=2, n_iter_max=30, tol=0, mask=mask.astype(np.float32)
    )
    factors, _ = fit_ntf(
        np.where(mask, tensor, np.nan).astype(np.float32),
        2,
        update=NTF_METHODS["mu"],
        seed=2,
        n_iter_max=30,
        tol=0,
        batch=batch,
    )
    for f, g in zip(factors, expected):
        np.testing.assert_allclose(f, g, rtol=2e-3, atol=1e-4 * np.abs(g).max())


@pytest.mark.parametrize("batch", [None, 5])
def test_ntf_fits_observed_subtensor_without_copying_it(batch):
    """Missing slices are left out by indexing chunks: same fit as on the copied sub-tensor."""
    from neurodata.analyses.connectome._ntf import observed_slices

    rng = np.random.default_rng(7)
    tensor = np.einsum("ir,jr,kr->ijk", *(rng.random((n, 2)) for n in (9, 4, 40)))
    tensor = tensor.astype(np.float32)
    tensor[rng.random(tensor.shape) < 0.1] = np.nan
    tensor[:, :, [3, 17]] = np.nan  # pairs never observed
    tensor[:, 2] = np.nan  # a worm with nothing
    tensor[5] = np.nan  # a window with nothing
    keep = observed_slices(tensor, batch=batch)
    expected = [
        np.isfinite(tensor).any(axis=tuple(a for a in range(3) if a != m)) for m in range(3)
    ]
    for k, e in zip(keep, expected):
        np.testing.assert_array_equal(k, e)
    index = tuple(np.flatnonzero(k) for k in keep)
    copied = np.ascontiguousarray(tensor[np.ix_(*keep)])
    kwargs = {
        "update": NTF_METHODS["hals"],
        "seed": 3,
        "n_iter_max": 20,
        "tol": 1e-9,
        "batch": batch,
    }
    f_index, e_index = fit_ntf(tensor, 2, index=index, **kwargs)
    f_copy, e_copy = fit_ntf(copied, 2, **kwargs)
    np.testing.assert_allclose(e_index, e_copy, rtol=1e-6)
    for f, g in zip(f_index, f_copy):
        np.testing.assert_allclose(f, g, rtol=1e-5, atol=1e-7)


def test_ntf_memory_beyond_the_tensor_is_a_few_chunks():
    """No copy of the tensor (float64 or float32), even with missing slices and entries."""
    import tracemalloc

    rng = np.random.default_rng(0)
    tensor = rng.random((30, 4, 20000), dtype=np.float32)
    tensor[:, :, :100] = np.nan  # pairs never observed: the sub-tensor is fitted in place
    tensor[rng.random(tensor.shape) < 0.05] = np.nan  # missing entries: EM imputation
    da = xr.DataArray(tensor, dims=("window", "worm", "pair"))
    dc.ntf(da[:, :, :200], 2, seed=0, n_iter_max=1)  # imports and caches outside the trace
    tracemalloc.start()
    try:
        dc.ntf(da, 3, seed=0, n_iter_max=3, batch=500)  # chunks of 500 pairs: 2.5% of it
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.4 * tensor.nbytes  # a copy of the tensor alone would be 1.0 (was 1.14)


def test_ntf_labels_missing_slices_and_scaling(planted):
    act, _ = planted
    aff = dc.affinity(act, window=30.0)
    aff[:, :, 0] = np.nan  # a pair never observed
    res = dc.ntf(aff, 3, seed=1)
    assert np.isnan(res.pair_loading[:, 0]).all()
    for name in ("time_course", "worm_loading", "pair_loading"):
        np.testing.assert_allclose(res[name].max(dim=res[name].dims[1]), 1.0, rtol=1e-6)
    assert np.all(np.diff(res.weight.values) <= 0)
    assert 0 < res.attrs["reconstruction_error"] < 1
    again = dc.ntf(aff, 3, seed=1)
    xr.testing.assert_identical(res, again)


def test_rank_selection_reports_error_and_stability():
    rng = np.random.default_rng(0)
    truth = [rng.random((15, 2)) ** 4, rng.random((6, 2)) ** 4, rng.random((80, 2)) ** 4]
    tensor = np.einsum("ir,jr,kr->ijk", *truth).astype(np.float32)
    da = xr.DataArray(tensor, dims=("window", "worm", "pair"))
    res = dc.ntf(da, [1, 2, 6], seed=0, n_restarts=3, n_iter_max=300, tol=1e-9)
    assert res.attrs["rank_candidates"] == [1, 2, 6]
    errors, stability = res.attrs["rank_error"], res.attrs["rank_stability"]
    assert errors[1] < 0.05 < errors[0]  # rank 2 explains an exact rank-2 tensor
    assert stability[1] > 0.95
    assert res.attrs["rank"] >= 2
    assert res.sizes["component"] == res.attrs["rank"]


# --------------------------------------------------------------------------------------
# planted communities: windows, worms and groups recovered
# --------------------------------------------------------------------------------------


def _recovery(res, truth):
    tc = res.time_course.values
    active = truth["active"].astype(float)
    n = min(tc.shape[1], active.shape[1])
    corr = np.corrcoef(np.vstack([active[:, :n], tc[:, :n]]))[: len(active), len(active) :]
    match = np.nan_to_num(corr).argmax(axis=1)
    aris = []
    for k, c in enumerate(match):
        labels = res.community.values[c]
        inside = labels[truth["labels"] == k]
        best = np.bincount(inside[inside >= 0]).argmax()
        aris.append(adjusted_rand_score(truth["labels"] == k, labels == best))
    worms = res.worm_loading.values[match]
    worm_corr = np.corrcoef(worms.ravel(), truth["worms_on"].ravel())[0, 1]
    return corr.max(axis=1), np.array(aris), worm_corr, match


@pytest.mark.parametrize(
    ("method", "noise", "min_time", "min_ari"),
    [
        ("correlation", 0.25, 0.95, 0.8),
        ("correlation", 1.0, 0.85, 0.6),
        ("derivative", 0.25, 0.75, 0.7),
        ("derivative", 0.5, 0.7, 0.6),
    ],
)
def test_planted_communities_recovered(method, noise, min_time, min_ari, record_property):
    act, truth = planted_worms(noise=noise, seed=1)
    res = dc.dynamic_connectome(act, rank=4, window=30.0, seed=0, affinity_method=method, smooth=5)
    time_corr, aris, worm_corr, match = _recovery(res, truth)
    record_property("ari", aris.tolist())
    record_property("time_course_correlation", time_corr.tolist())
    print(f"{method} noise={noise}: ARI {np.round(aris, 2)}, time r {np.round(time_corr, 2)}")
    assert len(set(match.tolist())) == len(match)  # one component per planted community
    assert time_corr.min() > min_time
    assert aris.mean() > min_ari
    assert worm_corr > 0.6


def test_dynamic_connectome_result_and_reproducibility(planted):
    act, _ = planted
    epochs = {"onset": [0.0, 120.0], "duration": [120.0, 150.0], "label": ["pre", "stim"]}
    res = dc.dynamic_connectome(act, rank=3, window=30.0, seed=4, n_seeds=2, epochs=epochs)
    assert res.time_course.dims == ("component", "window")
    assert res.worm_loading.dims == ("component", "worm")
    assert res.pair_loading.dims == ("component", "pair")
    assert res.community.dims == ("component", "neuron")
    assert list(res.epoch_label.values) == ["pre", "stim"]
    assert "dynamic_connectome(rank=3" in res.attrs["history"]
    validate(res)  # neurodata's conventions (dims, coords, units)
    again = dc.dynamic_connectome(act, rank=3, window=30.0, seed=4, n_seeds=2, epochs=epochs)
    xr.testing.assert_identical(res, again)


# --------------------------------------------------------------------------------------
# communities and structure vs function
# --------------------------------------------------------------------------------------


def test_louvain_recovers_blocks_and_is_stable():
    loadings, labels, _ = block_loadings([6, 8, 10])
    res = dc.detect_communities(loadings, resolution=1.0, n_seeds=4, seed=0)
    assert adjusted_rand_score(labels, res.community.values[0]) == pytest.approx(1.0)
    assert res.stability.values[0] == pytest.approx(1.0)
    assert res.n_communities.values[0] == 3
    assert res.modularity.values[0] > 0.4
    # a very low resolution merges everything into one community
    merged = dc.detect_communities(loadings, resolution=0.01, n_seeds=2)
    assert merged.n_communities.values[0] == 1


def _connectome(names, edges_within, labels, seed=0):
    rng = np.random.default_rng(seed)
    n = len(names)
    same = labels[:, None] == labels[None, :]
    chem = (rng.random((n, n)) < np.where(same, edges_within, 0.05)) * rng.integers(1, 5, (n, n))
    np.fill_diagonal(chem, 0)
    elec = rng.random((n, n)) < 0.1
    elec = np.triu(elec, 1)
    elec = (elec | elec.T).astype(float)
    return xr.Dataset(
        {"weight": (("synapse_type", "pre", "post"), np.stack([chem, elec]).astype(float))},
        coords={"synapse_type": ["chemical", "electrical"], "pre": names, "post": names},
    )


def test_structure_vs_function_enrichment_against_degree_preserving_null():
    loadings, labels, names = block_loadings([8, 8, 8])
    comms = dc.detect_communities(loadings, n_seeds=2)
    result = xr.Dataset(
        {"pair_loading": loadings, "community": comms.community},
        coords={"component": [0]},
    )
    anatomy = _connectome(names, edges_within=0.6, labels=labels)
    out = dc.compare_structure(result, anatomy, n_null=50, seed=0)
    chem = out.sel(component=0, synapse_type="chemical")
    elec = out.sel(component=0, synapse_type="electrical")
    # chemical synapses were planted within the functional communities: enriched
    assert chem.within_fraction > chem.within_fraction_null + 0.2
    assert chem.within_fraction_p < 0.05
    assert chem.edge_overlap > chem.edge_overlap_null
    assert chem.weight_correlation > 0.3
    # electrical synapses are random: no enrichment
    assert elec.within_fraction_p > 0.05
    again = dc.compare_structure(result, anatomy, n_null=50, seed=0)
    xr.testing.assert_identical(out, again)


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


def test_errors(planted):
    act, _ = planted
    with pytest.raises(ValueError, match=r"`method` must be one of \['abs_correlation'"):
        dc.affinity(act, window=30.0, method="spearman")
    with pytest.raises(ValueError, match=r"`align` must be one of \['none', 'start'\]"):
        dc.affinity(act, window=30.0, align="end")
    with pytest.raises(ValueError, match="`window` must be a positive number of seconds"):
        dc.affinity(act, window=-1)
    with pytest.raises(SchemaError, match=r"no window of 0\.1 s holds 3 shared samples"):
        dc.affinity(act, window=0.1)
    with pytest.raises(SchemaError, match=r"expected dims \('worm', 'time', 'neuron'\)"):
        dc.affinity(act.isel(worm=0).rename(neuron="channel"), window=30.0)
    with pytest.raises(SchemaError, match="1 neuron\\(s\\) hold finite values"):
        dc.affinity(act.where(act.neuron == "N00"), window=30.0)
    aff = dc.affinity(act, window=30.0)
    with pytest.raises(ValueError, match="`rank` must be a positive integer"):
        dc.ntf(aff, 0)
    with pytest.raises(ValueError, match=r"`method` must be one of \['hals', 'mu'\]"):
        dc.ntf(aff, 2, method="als")
    with pytest.raises(ValueError, match="negative values"):
        dc.ntf(-aff, 2)
    with pytest.raises(SchemaError, match="every entry is missing"):
        dc.ntf(aff * np.nan, 2)
    with pytest.raises(ValueError, match="`resolution` must be a positive number"):
        dc.detect_communities(xr.zeros_like(aff.isel(window=0, worm=0)), resolution=0)
    with pytest.raises(SchemaError, match="missing variables"):
        dc.compare_structure(xr.Dataset(), xr.Dataset())


# --------------------------------------------------------------------------------------
# real worms (Flavell lab, Dag et al. 2023), read directly with h5py
# --------------------------------------------------------------------------------------


def _flavell_worms(folder, n_worms=3):
    h5py = pytest.importorskip("h5py")
    traces, clocks, names = [], [], []
    for path in sorted(folder.glob("*-data.h5"))[:n_worms]:
        labels = pd.read_csv(path.with_name(path.name.replace("-data.h5", "_neuropal_labels.csv")))
        labels = labels[~labels["label"].astype(str).str.endswith("?")]
        labels = labels.drop_duplicates("label", keep=False)
        with h5py.File(path, "r") as f:
            trace = np.asarray(f["gcamp/trace_array"], dtype=float)
            clock = np.asarray(f["timing/timestamp_confocal"], dtype=float)
        traces.append(pd.DataFrame(trace[:, labels["roi_py0"].to_numpy()], columns=labels["label"]))
        clocks.append(clock - clock[0])
        names.append(path.name.replace("-data.h5", ""))
    neurons = sorted(set().union(*(t.columns for t in traces)))
    n_time = max(len(c) for c in clocks)
    data = np.full((len(traces), n_time, len(neurons)), np.nan)
    stamps = np.full((len(traces), n_time), np.nan)
    for w, (t, c) in enumerate(zip(traces, clocks)):
        data[w, : len(c)] = t.reindex(columns=neurons).to_numpy()
        stamps[w, : len(c)] = c
    return xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={"worm": names, "neuron": neurons, "timestamps": (("worm", "time"), stamps, {"units": "s"})},
    )  # fmt: skip


@pytest.mark.shared_data
def test_real_flavell_worms_pipeline(shared_data):
    folder = shared_data / "celegans" / "flavell2023"
    if not any(folder.glob("*-data.h5")):
        pytest.skip(f"no Flavell worms in {folder}")
    act = _flavell_worms(folder)
    assert np.isnan(act.values).any()  # neurons not identified in every worm
    res = dc.dynamic_connectome(act, rank=4, window=60.0, seed=0, n_seeds=2, resolution=1.0)
    again = dc.dynamic_connectome(act, rank=4, window=60.0, seed=0, n_seeds=2, resolution=1.0)
    xr.testing.assert_identical(res, again)
    assert res.sizes["component"] == 4
    assert np.isfinite(res.time_course).all()
    assert (res.n_communities >= 1).all()
    assert 0 < res.attrs["reconstruction_error"] < 1


# --------------------------------------------------------------------------------------
# figures and command line
# --------------------------------------------------------------------------------------


def test_figures(planted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurodata.plotting.connectome import (
        plot_communities,
        plot_component_graph,
        plot_timeline,
    )

    act, _ = planted
    epochs = {"onset": [0.0, 120.0], "duration": [120.0, 150.0], "label": ["pre", "stim"]}
    res = dc.dynamic_connectome(act, rank=3, window=30.0, n_seeds=1, epochs=epochs)
    for fig in (plot_timeline(res), plot_communities(res, 1), plot_component_graph(res, 0)):
        assert fig.axes
        plt.close(fig)


def test_cli_on_saved_worm_stores(tmp_path, planted):
    from neurodata.cli import main
    from neurodata.io import open as nd_open
    from neurodata.io import save

    act, truth = planted
    files = []
    for w in range(act.sizes["worm"]):
        one = act.isel(worm=[w])
        one = one.isel(time=np.isfinite(one.timestamps.values[0]))
        files.append(save(one.to_dataset(name="activity"), tmp_path / f"worm{w}.zarr"))
    anatomy = _connectome(np.array(truth["names"]), 0.5, truth["labels"])
    save(anatomy, tmp_path / "anatomy.zarr")
    out = tmp_path / "out"
    args = [*map(str, files), "--out", str(out), "--rank", "4", "--window", "30", "--seed", "1"]
    assert main(["connectome", *args, "--connectome", str(tmp_path / "anatomy.zarr"),
                 "--n-null", "20", "-q"]) == 0  # fmt: skip
    res = nd_open(out / "connectome.zarr", chunks=None)
    assert res.sizes["component"] == 4 and res.sizes["worm"] == 4
    assert (out / "timeline.png").exists() and (out / "communities_C0.png").exists()
    assert "within_fraction_p" in nd_open(out / "structure.zarr", chunks=None)
    # same seed, same result; existing outputs are protected
    assert main(["connectome", *args, "-q"]) == 1
    assert main(["connectome", *args, "-q", "--overwrite"]) == 0
    again = nd_open(out / "connectome.zarr", chunks=None)
    np.testing.assert_array_equal(again.pair_loading.values, res.pair_loading.values)
    assert main(["connectome", str(files[0]), "--out", str(out), "--rank", "x"]) == 2


@settings(max_examples=15, deadline=None)
@given(perm_seed=st.integers(0, 2**16), method=st.sampled_from(sorted(dc.AFFINITIES)))
def test_affinity_does_not_depend_on_neuron_order(perm_seed, method):
    act = _small(np.random.default_rng(1), n_neurons=5)
    act[1, 3:9, 2] = np.nan
    order = np.random.default_rng(perm_seed).permutation(5)
    a = dc.affinity(act, window=10.0, method=method)
    b = dc.affinity(act.isel(neuron=order), window=10.0, method=method)
    key = lambda da: {  # noqa: E731
        frozenset((i, j)): da.values[..., p]
        for p, (i, j) in enumerate(zip(da.neuron_i.values, da.neuron_j.values))
    }
    ka, kb = key(a), key(b)
    assert ka.keys() == kb.keys()
    for pair, values in ka.items():
        np.testing.assert_allclose(values, kb[pair], rtol=1e-5, atol=1e-6)


def test_abs_derivative_counts_opposite_changes():
    """|z_i z_j|: anti-phase traces are as affine as identical ones; it bounds 'derivative'."""
    t = np.arange(200) * 0.5
    x = np.sin(2 * np.pi * t / 17.0) + 0.3 * np.sin(2 * np.pi * t / 5.0)
    y = np.cos(2 * np.pi * t / 11.0)
    act = _traces([x, x.copy(), -x, y])
    both = dc.affinity(act, window=25.0, smooth=1, method="abs_derivative")
    same = dc.affinity(act, window=25.0, smooth=1, method="derivative")
    pair = {(i, j): p for p, (i, j) in enumerate(zip(both.neuron_i.values, both.neuron_j.values))}
    np.testing.assert_allclose(
        both.values[:, 0, pair[("N0", "N2")]], both.values[:, 0, pair[("N0", "N1")]], rtol=1e-6
    )
    assert np.all(both.values >= same.values - 1e-6)
    # direct transcription on one window: mean over the window's samples of |z_x z_y|
    zx = np.gradient(x, t) / np.gradient(x, t).std()
    zy = np.gradient(y, t) / np.gradient(y, t).std()
    inside = (t >= both.window_start.values[1]) & (t < both.window_stop.values[1])
    expected = np.mean(np.abs(zx[inside] * zy[inside]))
    assert both.values[1, 0, pair[("N0", "N3")]] == pytest.approx(expected, rel=1e-5)
