"""Ridge with per-target alphas: neurodata ``ridge_cv`` vs himalaya ``RidgeCV`` (numpy backend).

Both fit the same float32 data (samples x features -> targets), 9 alphas, the
same 5 contiguous folds, without intercept (himalaya's default). Each side runs
in its own subprocess, twice: once timed (wall time, and the growth of peak RSS
over the process's baseline) and once under :mod:`tracemalloc` (peak traced
allocations during the fit, inputs excluded), so neither run disturbs the other.
The rows also give the fraction of targets with the same chosen alpha and the
time of the lower bound implied by the machine's measured float32
matrix-multiply throughput.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ALPHAS = np.logspace(-1, 7, 9)
N_SPLITS = 5


def _data(n: int, p: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p), dtype=np.float32)
    B = rng.standard_normal((64, t), dtype=np.float32) * 0.1
    Y = X[:, :64] @ B + rng.standard_normal((n, t), dtype=np.float32)
    return X, Y


def _fit(impl: str, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    if impl == "neurodata":
        from neurodata.analyses.encoding import ridge_cv

        return np.asarray(ridge_cv(X, Y, ALPHAS, cv=N_SPLITS, fit_intercept=False)["best_alpha"])
    from himalaya.backend import set_backend
    from himalaya.ridge import RidgeCV

    set_backend("numpy")
    return np.asarray(RidgeCV(alphas=ALPHAS, cv=N_SPLITS).fit(X, Y).best_alphas_)


def _worker(impl: str, n: int, p: int, t: int, mode: str, out: str) -> None:
    X, Y = _data(n, p, t)
    if impl == "himalaya":  # import outside the measured region, as for neurodata
        import himalaya.ridge  # noqa: F401
    else:
        import neurodata.analyses.encoding  # noqa: F401
    result: dict[str, float] = {}
    if mode == "time":
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        alphas = _fit(impl, X, Y)
        result["seconds"] = time.perf_counter() - start
        result["rss_growth_mib"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
        ) / 1024
        np.save(out + ".npy", alphas)
    else:
        tracemalloc.start()
        _fit(impl, X, Y)
        result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    Path(out + ".json").write_text(json.dumps(result))


def _run(impl: str, n: int, p: int, t: int, mode: str, tmp: Path) -> dict:
    out = str(tmp / f"{impl}-{mode}")
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_encoding",
        impl,
        str(n),
        str(p),
        str(t),
        mode,
        out,
    ]
    subprocess.run(cmd, check=True, cwd=Path(__file__).resolve().parents[1])
    result = json.loads(Path(out + ".json").read_text())
    if mode == "time":
        result["alphas"] = np.load(out + ".npy")
    return result


def _matmul_gflops(dtype: type = np.float32) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2048, 768)).astype(dtype)
    b = rng.standard_normal((768, 2048)).astype(dtype)
    a @ b
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 2048 * 768 * 2048 / best / 1e9


def _flops(n: int, p: int, t: int) -> float:
    """Multiply-adds of the algorithm's large products (no decomposition, no elementwise)."""
    n_test = n / N_SPLITS
    per_target = n * p  # X'Y of each batch
    per_target += N_SPLITS * (n_test * p + p * p)  # X'Y updates and projections per fold
    per_target += N_SPLITS * len(ALPHAS) * n_test * p  # one (test x k) @ (k x b) per alpha
    per_target += 2 * p * p  # refit
    return 2 * per_target * t


def run(quick: bool = False) -> list[dict]:
    n, p, t = (600, 128, 1000) if quick else (3000, 768, 10000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        res = {
            impl: {**_run(impl, n, p, t, "time", tmp), **_run(impl, n, p, t, "memory", tmp)}
            for impl in ("neurodata", "himalaya")
        }
    ours, peer = res["neurodata"], res["himalaya"]
    gflops = _matmul_gflops()
    bound = _flops(n, p, t) / (gflops * 1e9)
    rows.append(
        {
            "task": f"ridge_cv {n}x{p}->{t}, {len(ALPHAS)} alphas, {N_SPLITS} folds, float32",
            "peer": "himalaya RidgeCV (numpy)",
            "neurodata_s": round(ours["seconds"], 2),
            "peer_s": round(peer["seconds"], 2),
            "time_ratio": round(ours["seconds"] / peer["seconds"], 3),
            "neurodata_mib": round(ours["peak_mib"], 1),
            "peer_mib": round(peer["peak_mib"], 1),
            "memory_ratio": round(ours["peak_mib"] / peer["peak_mib"], 3),
            "rss_growth_ratio": round(
                ours["rss_growth_mib"] / max(peer["rss_growth_mib"], 1e-9), 3
            ),
            "same_alphas": float(np.mean(np.isclose(ours["alphas"], peer["alphas"], rtol=1e-5))),
            "matmul_gflops": round(gflops, 1),
            "lower_bound_s": round(bound, 2),
            "vs_lower_bound": round(ours["seconds"] / bound, 2),
        }
    )
    return rows


if __name__ == "__main__":
    impl, n, p, t, mode, out = sys.argv[1:]
    _worker(impl, int(n), int(p), int(t), mode, out)
