"""Distributed execution: the heavy analyses give the same results on a dask cluster.

One ``LocalCluster`` of two worker processes serves the whole module.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata._distributed import check_scheduler, chunk_extra_dims, connect, run_tasks
from neurodata.analyses import connectome as dc
from neurodata.analyses.encoding import layer_scores, ridge_cv
from neurodata.analyses.rsa import rdm
from neurodata.errors import NotFoundError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


# --------------------------------------------------------------------------------------
# the task runner
# --------------------------------------------------------------------------------------


def _affine(x, k, *, scale, offset):
    return x * scale + offset[: len(x)] + k


def _fail(k):
    if k == 3:
        raise ValueError("task 3 failed")
    return k


def _worker_pid():
    import os

    return os.getpid()


@pytest.mark.parametrize("where", ["none", "threads", "client", "cluster", "address"])
def test_run_tasks_returns_every_result_by_index(where, cluster, client):
    scheduler = {
        "none": None,
        "threads": "threads",
        "client": client,
        "cluster": cluster,
        "address": cluster.scheduler_address,
    }[where]
    big = np.arange(300_000, dtype=np.float64)  # > 1 MiB: scattered, not in the task message
    tasks = [(big[k:], k) for k in range(7)]
    got = dict(run_tasks(_affine, tasks, shared={"scale": 2.0, "offset": big}, scheduler=scheduler))
    assert sorted(got) == list(range(7))
    for k, (x, _) in enumerate(tasks):
        np.testing.assert_array_equal(got[k], x * 2.0 + big[: len(x)] + k)


def test_run_tasks_bounds_tasks_in_flight(client):
    pulled = []

    def tasks():
        for k in range(20):
            pulled.append(k)
            yield (k,)

    results = run_tasks(_fail, ((k + 10,) for k in range(0)), scheduler=client)
    assert list(results) == []
    results = run_tasks(_worker_pid_task, tasks(), scheduler=client, max_in_flight=3)
    first = next(results)
    assert first[0] in (0, 1, 2)
    assert len(pulled) <= 4  # the window, plus the one submitted after the first result
    rest = list(results)
    assert len(rest) == 19 and len(pulled) == 20
    # both worker processes took part, none of them is this process
    import os

    pids = {pid for _, pid in [first, *rest]}
    assert os.getpid() not in pids


def _worker_pid_task(k):
    import time

    time.sleep(0.01)
    return _worker_pid()


@pytest.mark.parametrize("scheduler", [None, "client"])
def test_run_tasks_reraises_the_task_error(scheduler, client):
    scheduler = client if scheduler == "client" else None
    with pytest.raises(ValueError, match="task 3 failed"):
        list(run_tasks(_fail, [(k,) for k in range(6)], scheduler=scheduler))


def _keys_held(client, prefix):
    import time

    for _ in range(50):  # releases reach the scheduler asynchronously
        keys = [k for keys in client.has_what().values() for k in keys if str(k).startswith(prefix)]
        if not keys:
            return keys
        time.sleep(0.1)
    return keys


def test_shared_inputs_are_released_and_no_default_client_is_set(cluster, client):
    one = np.ones(3)
    shared = {"scale": 1.0, "offset": one}
    assert dict(run_tasks(_affine, [(one, 0)], shared=shared, scheduler=client, desc="mine"))
    assert _keys_held(client, "mine-") == []
    assert dict(run_tasks(_affine, [(one, 0)], shared=shared, scheduler=cluster.scheduler_address))
    with pytest.raises(ValueError):
        distributed.default_client()


def test_chunk_extra_dims_keeps_core_dims_whole():
    da = xr.DataArray(np.zeros((3, 4, 5, 10, 20)), dims=("s", "l", "t", "c", "u"))
    block = 10 * 20 * 8
    out = chunk_extra_dims(da, ["c", "u"], max_bytes=block * 10)
    assert out.chunks == ((1, 1, 1), (2, 2), (5,), (10,), (20,))
    assert chunk_extra_dims(da, ["c", "u"], max_bytes=1).chunks[2] == (1,) * 5
    already = da.chunk(s=2)
    assert chunk_extra_dims(already, ["c", "u"]) is already


# --------------------------------------------------------------------------------------
# the analyses, with and without the cluster
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_features", [30, 200])  # primal and dual (kernel) forms
def test_ridge_cv_same_alphas_and_scores_on_the_cluster(n_features, client):
    rng = np.random.default_rng(0)
    n, t = 150, 300
    X = rng.standard_normal((n, n_features))
    W = rng.standard_normal((n_features, t)) * rng.uniform(0, 1, t)
    Y = X @ W + rng.standard_normal((n, t)) * rng.uniform(0.5, 20, t)
    alphas = np.logspace(-1, 5, 7)
    local = ridge_cv(X, Y, alphas, targets_batch=64)
    remote = ridge_cv(X, Y, alphas, targets_batch=64, scheduler=client)
    np.testing.assert_array_equal(remote.best_alpha.values, local.best_alpha.values)
    for name in ("scores", "cv_score", "coef", "intercept"):
        np.testing.assert_allclose(
            remote[name].values, local[name].values, rtol=1e-4, atol=1e-6, err_msg=name
        )
    # one batch of every size: the batching itself does not change the results
    whole = ridge_cv(X, Y, alphas, targets_batch=None, scheduler="threads")
    np.testing.assert_array_equal(whole.best_alpha.values, local.best_alpha.values)


def test_ridge_cv_reads_memory_mapped_targets_batch_by_batch(tmp_path, client):
    from neurodata.analyses.encoding import RidgeSettings, check_splits
    from neurodata.analyses.encoding._ridge import ridge_cv_arrays

    rng = np.random.default_rng(6)
    X = rng.standard_normal((90, 12)).astype(np.float32)
    Y = (X[:, :3] @ rng.standard_normal((3, 50)) + rng.standard_normal((90, 50))).astype(np.float32)
    np.save(tmp_path / "y.npy", Y)
    mapped = np.load(tmp_path / "y.npy", mmap_mode="r")
    splits = check_splits(3, 90, None)
    settings = RidgeSettings(alphas=np.logspace(-1, 4, 6), targets_batch=16)
    ref = ridge_cv_arrays(X, Y, splits, settings)
    for scheduler in (None, client):
        got = ridge_cv_arrays(X, mapped, splits, settings, scheduler=scheduler)
        np.testing.assert_array_equal(got["best_alpha"], ref["best_alpha"])
        np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-4, atol=1e-6)


def test_ridge_cv_refuses_scheduler_with_torch_backend(client):
    from neurodata.analyses.encoding import RidgeSettings
    from neurodata.analyses.encoding._ridge import ridge_cv_arrays

    X, Y = np.random.default_rng(0).standard_normal((20, 3)), np.ones((20, 2))
    splits = [(np.arange(10), np.arange(10, 20)), (np.arange(10, 20), np.arange(10))]
    settings = RidgeSettings(alphas=[1.0], backend="torch")
    with pytest.raises(ValueError, match="`scheduler` runs the numpy backend"):
        ridge_cv_arrays(X, Y, splits, settings, scheduler=client)


def test_layer_scores_same_on_the_cluster(client):
    rng = np.random.default_rng(1)
    n, units, parcels = 120, 8, 40
    time = xr.DataArray(np.arange(n) * 2.0, dims="time", attrs={"units": "s"})
    acts = xr.DataArray(
        rng.standard_normal((3, n, units)),
        dims=("layer", "time", "unit"),
        coords={"layer": ["a", "b", "c"], "time": time},
    )
    resp = xr.DataArray(
        acts.isel(layer=1).values @ rng.standard_normal((units, parcels))
        + rng.standard_normal((n, parcels)) * 3,
        dims=("time", "parcel"),
        coords={"time": time, "parcel": [f"p{k}" for k in range(parcels)]},
    )
    kw = dict(cv=3, inner_cv=3, alphas=np.logspace(-1, 4, 6), targets_batch=16)
    local = layer_scores(acts, resp, **kw)
    remote = layer_scores(acts, resp, **kw, scheduler=client)
    np.testing.assert_allclose(remote.values, local.values, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(remote.alpha_median.values, local.alpha_median.values)


def _patterns(rng, dims=("subject", "layer", "condition", "unit"), shape=(3, 4, 8, 30)):
    return xr.DataArray(rng.standard_normal(shape), dims=dims)


@pytest.mark.parametrize("method", ["correlation", "euclidean"])
def test_rdm_over_layers_and_subjects_same_on_the_cluster(method, client):
    data = _patterns(np.random.default_rng(2))
    local = rdm(data, method=method)
    remote = rdm(data, method=method, scheduler=client)
    assert isinstance(remote.data, np.ndarray)  # computed, in memory
    assert remote.dims == local.dims == ("subject", "layer", "condition", "condition_2")
    np.testing.assert_allclose(remote.values, local.values, rtol=1e-12, atol=1e-12)
    # the user's chunks are the tasks; without a scheduler dask data stay lazy
    chunked = data.chunk(layer=1)
    lazy = rdm(chunked, method=method)
    assert lazy.chunks is not None
    np.testing.assert_allclose(rdm(chunked, method=method, scheduler=client), local.values)
    np.testing.assert_allclose(lazy.compute(scheduler="threads").values, local.values)


def test_crossnobis_with_folds_same_on_the_cluster(client):
    data = _patterns(
        np.random.default_rng(3), dims=("layer", "fold", "condition", "unit"), shape=(3, 4, 6, 10)
    )
    local = rdm(data, method="crossnobis", noise="shrinkage_diag")
    remote = rdm(data, method="crossnobis", noise="shrinkage_diag", scheduler=client)
    np.testing.assert_allclose(remote.values, local.values, rtol=1e-10, atol=1e-12)


def _worms(rng, n_worms=5, n_time=80, n_neurons=6, dt=0.5):
    data = rng.standard_normal((n_worms, n_time, n_neurons)).cumsum(axis=1)
    data[1, :, 2] = np.nan  # a neuron not recorded in one worm
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


@pytest.mark.parametrize("method", ["derivative", "correlation"])
def test_affinities_over_worms_same_on_the_cluster(method, client):
    act = _worms(np.random.default_rng(4))
    local = dc.affinity(act, 8.0, method=method)
    remote = dc.affinity(act, 8.0, method=method, scheduler=client)
    xr.testing.assert_identical(remote, local)
    assert np.isnan(local.sel(worm="w1").values[:, 1]).all()  # the pairs of the missing neuron


def test_dynamic_connectome_same_on_the_cluster(client):
    pytest.importorskip("tensorly")
    act = _worms(np.random.default_rng(5), n_worms=4, n_time=120)
    kw = dict(rank=[2, 3], window=6.0, n_restarts=2, n_iter_max=50, n_seeds=2)
    local = dc.dynamic_connectome(act, **kw)
    remote = dc.dynamic_connectome(act, **kw, scheduler=client)
    assert remote.attrs["rank"] == local.attrs["rank"]
    for name in ("time_course", "worm_loading", "pair_loading", "weight"):
        np.testing.assert_allclose(
            remote[name].values, local[name].values, rtol=1e-4, atol=1e-6, err_msg=name
        )


def test_config_scheduler_reaches_affinity_ntf_and_rdm(monkeypatch):
    # `nd.config(scheduler=...)` is the default of every `scheduler=None`
    import neurodata as nd
    from neurodata.analyses.connectome import _pipeline, _windows
    from neurodata.analyses.rsa import _rdm

    seen = []

    def spy(real):
        def wrapper(*args, **kwargs):
            seen.append(kwargs.get("scheduler", args[1] if len(args) > 1 else None))
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(_windows, "run_tasks", spy(_windows.run_tasks))
    monkeypatch.setattr(_pipeline, "run_tasks", spy(_pipeline.run_tasks))
    monkeypatch.setattr(_rdm, "compute", spy(_rdm.compute))
    act = _worms(np.random.default_rng(6))
    local = dc.affinity(act, 8.0)
    assert seen == []  # no config, no scheduler: in process
    with nd.config(scheduler="synchronous"):
        xr.testing.assert_identical(dc.affinity(act, 8.0), local)
        dc.ntf(local.fillna(0.0), 2, n_iter_max=5)
        rdm(xr.DataArray(np.random.default_rng(0).normal(size=(5, 4)), dims=("condition", "unit")))
    assert seen == ["synchronous"] * 3


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


def test_scheduler_values_are_checked():
    for good in (None, "threads", "processes", "synchronous", "tcp://10.0.0.1:8786", "h:8786"):
        assert check_scheduler(good) == good
    with pytest.raises(ValueError, match=r"`scheduler` must be None, one of \['processes'"):
        check_scheduler("thread")
    with pytest.raises(ValueError, match="`scheduler` must be"):
        check_scheduler(4)
    with pytest.raises(ValueError, match="`max_in_flight` must be a positive int"):
        list(run_tasks(_fail, [(1,)], max_in_flight=0))


def test_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(NotFoundError, match=r"scheduler 'tcp://127.0.0.1:1': no dask scheduler"):
        with connect("tcp://127.0.0.1:1", timeout=1):
            pass


def test_cli_scheduler_option(tmp_path, capsys, cluster):
    from neurodata.cli import main
    from neurodata.io import save

    store = save(_worms(np.random.default_rng(7)).to_dataset(name="activity"), tmp_path / "w.zarr")
    ok = [str(store), "--out", str(tmp_path / "ok"), "--rank", "2", "--window", "6", "-q"]
    assert main(["connectome", *ok, "--scheduler", cluster.scheduler_address]) == 0
    assert (tmp_path / "ok" / "connectome.zarr").exists()

    args = ["connectome", str(tmp_path / "w.zarr"), "--out", str(tmp_path / "out")]
    assert main([*args, "--scheduler", "nowhere"]) == 2
    assert "Invalid value for '--scheduler'" in capsys.readouterr().err
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no dask scheduler answered" in err[0], err
    assert main(["compare", "--help"]) == 0
    assert "--scheduler" in capsys.readouterr().out


def test_compare_pipeline_same_on_the_cluster(client):
    from neurodata.datasets.simulated import story
    from neurodata.pipelines.compare import compare
    from neurodata.pipelines.demo import simulated_brain_data

    words = story(600, seed=3)
    acts = xr.DataArray(
        np.random.default_rng(0).standard_normal((2, 600, 8)),
        dims=("layer", "word", "unit"),
        coords={"layer": ["a", "b"], "onset": ("word", words.onset.values)},
    )
    brain = simulated_brain_data(acts, words, layer="b", n_subjects=2, snr=3.0, seed=1)
    kw = dict(activations=acts, n_permutations=0, progress=False)
    local = compare(brain, **kw)
    remote = compare(brain, **kw, scheduler=client)
    xr.testing.assert_allclose(remote["r"], local["r"], rtol=1e-4, atol=1e-6)
    assert (remote["best_layer"] == local["best_layer"]).all()
