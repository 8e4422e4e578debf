"""RSA side by side with rsatoolbox: RDMs (correlation, crossnobis) and RDM comparisons.

Full sizes (the targets of issue 7):

- 1000 conditions x 5000 features: correlation RDM; crossnobis RDM from 2 folds;
- 100 data RDMs x 100 model RDMs of 1000 conditions (499,500 pairs each):
  Spearman and Kendall tau-a (neurodata with 1 thread and with all CPUs; the
  row names the counting engine: ``numba`` when installed, else ``scipy``).
  rsatoolbox's tau-a loops over pairs in Python
  (two merge sorts per pair); it is timed on a subset of pairs and extrapolated
  linearly to the 10,000 pairs (the row says so). The Spearman and tau-a rows
  also report the cost of sorting each of the 200 RDM vectors once on this
  machine (``sort_each_once_s``), the floor of any rank-based comparison;
- tau-a of data RDMs against categorical model RDMs (many ties), on the same
  subset of pairs for both libraries.

Both libraries are timed in the same process on the same arrays; rsatoolbox
objects are built outside the timed region.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import xarray as xr

from benchmarks._harness import measure, row
from neurodata.analyses import rsa


def _best(func: Any, repeat: int) -> float:
    return measure(func, repeat=repeat)["seconds"]


def rdm_inputs(rng: np.random.Generator, n: int, p: int) -> tuple[Any, Any, Any, Any]:
    """Patterns (``n`` conditions x ``p`` features) as neurodata and rsatoolbox take them:
    one set for correlation RDMs, two folds for crossnobis RDMs."""
    import rsatoolbox as rt

    x = rng.standard_normal((n, p))
    y = rng.standard_normal((2, n, p))
    folds = rt.data.Dataset(
        np.concatenate(list(y)),
        obs_descriptors={"conds": np.tile(np.arange(n), 2), "fold": np.repeat([0, 1], n)},
    )
    return (
        xr.DataArray(x, dims=("condition", "feature")),
        rt.data.Dataset(x),
        xr.DataArray(y, dims=("fold", "condition", "feature")),
        folds,
    )


def peer_crossnobis(folds: Any) -> Any:
    """rsatoolbox's crossnobis RDM of the two folds of `rdm_inputs`."""
    import rsatoolbox as rt

    return rt.rdm.calc_rdm(folds, method="crossnobis", descriptor="conds", cv_descriptor="fold")


def _rdm_rows(rng: np.random.Generator, n: int, p: int, repeat: int) -> list[dict]:
    import rsatoolbox as rt

    out = []
    da, ds, daf, dsf = rdm_inputs(rng, n, p)
    ours = measure(lambda: rsa.rdm(da, method="correlation"), repeat=repeat)
    peer = measure(lambda: rt.rdm.calc_rdm(ds, method="correlation"), repeat=repeat)
    diff = np.abs(
        rsa.rdm(da, method="correlation").values
        - rt.rdm.calc_rdm(ds, method="correlation").get_matrices()[0]
    ).max()
    out.append(
        row(f"correlation RDM {n}x{p}", ours, peer, "rsatoolbox 0.3.2", max_abs_diff=float(diff))
    )

    def peer_cn() -> Any:
        return peer_crossnobis(dsf)

    ours = measure(lambda: rsa.rdm(daf, method="crossnobis"), repeat=repeat)
    peer = measure(peer_cn, repeat=1)
    diff = np.abs(rsa.rdm(daf, method="crossnobis").values - peer_cn().get_matrices()[0]).max()
    out.append(
        row(
            f"crossnobis RDM {n}x{p}, 2 folds",
            ours,
            peer,
            "rsatoolbox 0.3.2",
            max_abs_diff=float(diff),
        )
    )
    return out


def _compare_rows(
    rng: np.random.Generator, n: int, n_rdm: int, kendall_subset: tuple[int, int], repeat: int
) -> list[dict]:
    import rsatoolbox as rt

    out = []
    m = n * (n - 1) // 2
    va = rng.standard_normal((n_rdm, m))
    vb = rng.standard_normal((n_rdm, m))
    ra, rb = rt.rdm.RDMs(va), rt.rdm.RDMs(vb)

    def sort_once() -> None:
        for v in (*va, *vb):
            np.argsort(v)

    sort_s = _best(sort_once, repeat)
    peer = measure(lambda: rt.rdm.compare(ra, rb, "spearman"), repeat=1)
    ref = rt.rdm.compare(ra, rb, "spearman")
    for n_jobs in (1, -1):
        ours = measure(
            lambda jobs=n_jobs: rsa.compare_vectors(va, vb, "spearman", n_jobs=jobs), repeat=repeat
        )
        diff = np.abs(rsa.compare_vectors(va, vb, "spearman", n_jobs=n_jobs) - ref).max()
        out.append(
            row(
                f"spearman {n_rdm}x{n_rdm} RDMs of {n} conditions, n_jobs={n_jobs}",
                ours,
                peer,
                "rsatoolbox 0.3.2",
                sort_each_once_s=round(sort_s, 3),
                neurodata_over_sort=round(ours["seconds"] / sort_s, 2),
                max_abs_diff=float(diff),
            )
        )

    # Kendall tau-a: neurodata on all pairs (1 thread, then all CPUs); rsatoolbox on a
    # subset of pairs, extrapolated per pair (its cost is the same for every pair)
    from neurodata.analyses.rsa import _kendall

    engine = "numba" if _kendall._numba_kernel() is not None else "scipy"
    if engine == "numba":  # compile outside the timed region
        _kendall.kendall(va[:1, :100], vb[:1, :100])
    n_pairs = n_rdm * n_rdm
    sa, sb = kendall_subset
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sub = rt.rdm.compare(rt.rdm.RDMs(va[:sa]), rt.rdm.RDMs(vb[:sb]), "tau-a")
    peer_sub_s = time.perf_counter() - start
    peer_s = peer_sub_s / (sa * sb) * n_pairs
    measured = (
        f"{sa}x{sb} pairs in {peer_sub_s:.2f} s, extrapolated x{n_pairs / (sa * sb):g}"
        if sa * sb < n_pairs
        else "all pairs"
    )
    for n_jobs in (1, -1):
        start = time.perf_counter()
        full = rsa.compare_vectors(va, vb, "tau-a", n_jobs=n_jobs)
        ours_s = time.perf_counter() - start
        out.append(
            row(
                f"tau-a {n_rdm}x{n_rdm} RDMs of {n} conditions, n_jobs={n_jobs}",
                {"seconds": ours_s},
                {"seconds": peer_s},
                "rsatoolbox 0.3.2",
                engine=engine,
                peer_measured=measured,
                sort_each_once_s=round(sort_s, 3),
                neurodata_over_sort=round(ours_s / sort_s, 2),
                max_abs_diff=float(np.abs(full[:sa, :sb] - sub).max()),
            )
        )
    out.append(_kendall_ties_row(rng, n, kendall_subset, engine))
    return out


def _kendall_ties_row(
    rng: np.random.Generator, n: int, subset: tuple[int, int], engine: str
) -> dict:
    """tau-a of data RDMs against categorical models (many ties), same pairs for both."""
    import rsatoolbox as rt

    sa, sb = subset
    m = n * (n - 1) // 2
    va = rng.standard_normal((sa, m))
    category = rng.integers(0, 4, n)
    same = (category[:, None] != category[None, :]).astype(float)[np.triu_indices(n, 1)]
    vb = np.stack([same, *rng.integers(0, 5, (sb - 1, m))]).astype(float)
    ours = measure(lambda: rsa.compare_vectors(va, vb, "tau-a"), repeat=1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rt.rdm.compare(rt.rdm.RDMs(va), rt.rdm.RDMs(vb), "tau-a")
    peer = {"seconds": time.perf_counter() - start}
    return row(
        f"tau-a {sa}x{sb} RDMs of {n} conditions vs categorical models (ties)",
        ours,
        peer,
        "rsatoolbox 0.3.2",
        engine=engine,
        max_abs_diff=float(np.abs(rsa.compare_vectors(va, vb, "tau-a") - ref).max()),
    )


def run(quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    if quick:
        return [*_rdm_rows(rng, 200, 500, repeat=2), *_compare_rows(rng, 150, 10, (3, 3), repeat=2)]
    return [
        *_rdm_rows(rng, 1000, 5000, repeat=3),
        *_compare_rows(rng, 1000, 100, (2, 10), repeat=1),
    ]
