"""Encoding at scale: ``ridge_cv`` over 25k, 50k and 100k targets, in one process and on a cluster.

Synthetic float32 data: ``n`` samples x ``p`` features predicting ``t`` targets
(the responses live in a memory-mapped ``.npy`` file on disk, as a whole-brain
study would, and are read one batch of targets at a time), 9 alphas, 5
contiguous folds, refit included. Each size runs twice:

- ``single``: ``scheduler=None``, this process, BLAS limited to one thread (on
  a shared, loaded machine numpy's multi-threaded BLAS was 10-30x *slower* on
  these small products, so one thread is both the fair and the faster baseline);
- ``cluster``: a fresh ``LocalCluster`` of 2 worker processes x 1 thread (the
  same cores), ``scheduler=client``: the features and fold bases are scattered
  once, each task carries one batch of targets.

Columns: wall time, time per 1,000 targets (flat = linear growth), the main
process's peak traced memory during a second, traced fit (:mod:`tracemalloc`;
numpy allocations are traced, the memory-mapped responses are not) and that peak
minus the outputs it must hold (``coef`` p x t float32, ``scores`` 9 x t
float64, ...): the working memory, bounded by ``targets_batch`` and not by ``t``.
On the cluster, the workers' peak RSS: each worker lives for one size only, and
its ``VmHWM`` (``/proc``) is reset once the cluster is idle (``getrusage``'s
high-water mark survives ``exec`` and would include the parent's memory). Also
the effective GFLOP/s of the algorithm's large products (the model in
:func:`flops`), used in ``docs/distributed.md`` to extrapolate.

Run: ``python -m benchmarks scale_encoding [--quick]``.
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ALPHAS = np.logspace(-1, 7, 9)
N_SPLITS = 5
FULL = dict(n=1000, p=256, sizes=(25_000, 50_000, 100_000), batch=2048)
QUICK = dict(n=300, p=64, sizes=(2_000, 4_000, 8_000), batch=512)


def flops(n: int, p: int, t: int, n_splits: int = N_SPLITS, n_alphas: int = len(ALPHAS)) -> float:
    """Floating-point operations of the large products of ``ridge_cv`` (a model).

    Per target: ``X'Y`` (n p) once; per fold, the projection on the fold's basis
    (k = min(p, training samples) columns: k p in the primal form, k n_train in
    the dual) and one (test x k) product per alpha; the refit (k p + p k).
    Decompositions (independent of the number of targets) are left out.
    """
    n_test = n / n_splits
    n_train = n - n_test
    k = min(p, n_train)
    per_target = n * p if p <= n_train else 0.0
    per_target += n_splits * (k * (p if p <= n_train else n_train) + n_alphas * n_test * k)
    per_target += 2 * p * k
    return 2.0 * per_target * t


def _responses(path: Path, X: np.ndarray, t: int, seed: int = 0) -> np.ndarray:
    """A (n, t) float32 memory map of responses: a few features' signal plus noise."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    Y = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, t))
    for start in range(0, t, 10_000):
        stop = min(start + 10_000, t)
        B = rng.standard_normal((16, stop - start), dtype=np.float32) * 0.2
        Y[:, start:stop] = X[:, :16] @ B + rng.standard_normal((n, stop - start), np.float32)
    Y.flush()
    del Y
    return np.load(path, mmap_mode="r")


def _fit(X: np.ndarray, Y: np.ndarray, batch: int, scheduler: object) -> dict[str, np.ndarray]:
    from neurodata.analyses.encoding import RidgeSettings, check_splits
    from neurodata.analyses.encoding._ridge import ridge_cv_arrays

    splits = check_splits(N_SPLITS, X.shape[0], None)
    settings = RidgeSettings(alphas=ALPHAS, targets_batch=batch, dtype="float32")
    return ridge_cv_arrays(X, Y, splits, settings, scheduler=scheduler)


def _measured(X: np.ndarray, Y: np.ndarray, batch: int, scheduler: object) -> dict:
    """Wall time of one fit, then the peak traced memory of a second (traced) fit."""
    gc.collect()
    start = time.perf_counter()
    out = _fit(X, Y, batch, scheduler)
    seconds = time.perf_counter() - start
    output = sum(v.nbytes for v in out.values()) / 2**20
    del out
    gc.collect()
    tracemalloc.start()
    out = _fit(X, Y, batch, scheduler)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mib": peak, "output_mib": output, "out": out}


def _reset_peak_rss() -> None:
    """Reset this process's peak RSS (Linux: ``/proc/self/clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_rss_mib() -> float:
    """Peak RSS of this process since the last reset (``VmHWM``), MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _on_cluster(X: np.ndarray, Y: np.ndarray, batch: int) -> dict:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        client.run(
            lambda: __import__("neurodata.analyses.encoding._ridge")
        )  # imports off the clock
        client.run(_reset_peak_rss)
        idle = client.run(_peak_rss_mib)
        res = _measured(X, Y, batch, client)
        peak = client.run(_peak_rss_mib)
    res["worker_idle_mib"] = max(idle.values())
    res["worker_peak_mib"] = max(peak.values())
    return res


def run(quick: bool = False) -> list[dict]:
    from threadpoolctl import threadpool_limits

    cfg = QUICK if quick else FULL
    n, p, batch = cfg["n"], cfg["p"], cfg["batch"]
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p), dtype=np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        Y_all = _responses(Path(tmp) / "responses.npy", X, max(cfg["sizes"]))
        with threadpool_limits(limits=1, user_api="blas"):
            _fit(X, Y_all[:, :batch], batch, None)  # warm-up (imports, BLAS)
        for t in cfg["sizes"]:
            Y = Y_all[:, :t]
            with threadpool_limits(limits=1, user_api="blas"):
                single = _measured(X, Y, batch, None)
            cluster = _on_cluster(X, Y, batch)
            same = float(np.mean(single["out"]["best_alpha"] == cluster["out"]["best_alpha"]))
            max_diff = float(np.max(np.abs(single["out"]["cv_score"] - cluster["out"]["cv_score"])))
            for name, res in (("single", single), ("cluster", cluster)):
                row = {
                    "task": f"ridge_cv {n}x{p}->{t} targets, batch {batch}",
                    "where": "1 process x 1 thread"
                    if name == "single"
                    else "2 processes x 1 thread",
                    "targets": t,
                    "seconds": round(res["seconds"], 2),
                    "s_per_1k_targets": round(res["seconds"] / t * 1000, 3),
                    "gflops": round(flops(n, p, t) / res["seconds"] / 1e9, 2),
                    "main_peak_mib": round(res["peak_mib"], 1),
                    "outputs_mib": round(res["output_mib"], 1),
                    "main_working_mib": round(res["peak_mib"] - res["output_mib"], 1),
                }
                if name == "cluster":
                    row["worker_idle_rss_mib"] = round(res["worker_idle_mib"], 1)
                    row["worker_peak_rss_mib"] = round(res["worker_peak_mib"], 1)
                    row["cluster_over_single_time"] = round(res["seconds"] / single["seconds"], 3)
                    row["same_alphas"] = same
                    row["max_cv_score_diff"] = float(f"{max_diff:.2g}")
                rows.append(row)
            del single, cluster, Y
            gc.collect()
        del Y_all
    return rows
