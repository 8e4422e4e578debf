"""Dynamic connectome: affinity + NTF + communities vs tensorly's NTF on the dense tensor.

Rows per size (neurons, windows, worms):

- ``ntf``: neurodata's chunked NTF (HALS, 50 iterations, no early stop) vs
  ``tensorly.decomposition.non_negative_parafac_hals`` called directly on the
  same dense float32 tensor with the same seed and iterations (same objective);
  a second ``ntf`` row runs tensorly with BLAS limited to one thread too (neurodata
  limits BLAS to one thread during NTF by default: the products are thin);
- ``pipeline``: neurodata's whole ``dynamic_connectome`` with its default
  ("derivative") affinity (affinities, NTF, Louvain communities) vs the same
  tensorly NTF alone (the peer has no affinity or community step, so this ratio
  is an upper bound of our overhead).

The largest full size has a whole-brain pair axis (300 neurons: 44,850 pairs).

Peak memory is traced allocation (tracemalloc) beyond the inputs.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ._harness import measure, row

RANK = 5
N_ITER = 50


def _activity(n_neurons: int, n_windows: int, n_worms: int, samples: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_time = n_windows * samples
    groups = rng.integers(0, RANK, n_neurons)
    shared = rng.standard_normal((n_worms, n_time, RANK)).cumsum(axis=1)
    data = shared[:, :, groups] + 2 * rng.standard_normal((n_worms, n_time, n_neurons))
    return xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={
            "time": ("time", np.arange(n_time, dtype=float), {"units": "s"}),
            "neuron": [f"N{k:03d}" for k in range(n_neurons)],
            "worm": [f"w{k}" for k in range(n_worms)],
        },
    )


def run(quick: bool = False, sizes: list[tuple[int, int, int]] | None = None) -> list[dict]:
    """Rows for each (neurons, windows, worms) of ``sizes`` (default: by ``quick``)."""
    from tensorly.decomposition import non_negative_parafac_hals
    from threadpoolctl import threadpool_limits

    from neurodata.analyses import connectome as dc

    if sizes is None:
        sizes = [(20, 20, 3), (30, 30, 4), (40, 40, 5)] if quick else [
            (40, 60, 4), (80, 150, 8), (120, 300, 10), (300, 100, 10)]  # fmt: skip
    rows = []
    for n_neurons, n_windows, n_worms in sizes:
        repeat = 1 if quick or n_neurons >= 300 else 2
        act = _activity(n_neurons, n_windows, n_worms)
        aff = dc.affinity(act, window=10.0, method="correlation")
        dense = np.ascontiguousarray(aff.values)  # (window, worm, pair) float32, complete
        size = (
            f"{n_neurons} neurons x {n_windows} windows x {n_worms} worms ({dense.shape[2]} pairs)"
        )

        def ours_ntf(aff=aff):
            return dc.ntf(aff, RANK, seed=0, n_iter_max=N_ITER, tol=0)

        def peer_ntf(dense=dense):
            return non_negative_parafac_hals(
                dense, RANK, init="random", random_state=0, n_iter_max=N_ITER, tol=0
            )

        def ours_pipeline(act=act):
            return dc.dynamic_connectome(
                act, rank=RANK, window=10.0, seed=0, n_iter_max=N_ITER, tol=0, n_seeds=1,
            )  # fmt: skip

        ours = measure(ours_ntf, repeat=repeat, memory=True)
        peer = measure(peer_ntf, repeat=repeat, memory=True)
        mine = ours_ntf()
        (_, theirs) = peer_ntf()
        order = np.argsort(-np.prod([f.max(axis=0) for f in theirs], axis=0))
        diff = max(
            float(np.nanmax(np.abs(ours_f / ours_f.max(0) - (t / t.max(0))[:, order])))
            for ours_f, t in zip(
                (mine.time_course.values.T, mine.worm_loading.values.T, mine.pair_loading.values.T),
                theirs,
            )
        )
        rows.append(row("ntf", ours, peer, "tensorly non_negative_parafac_hals", size=size,
                        dense_mib=round(dense.nbytes / 2**20, 1), max_factor_diff=f"{diff:.1e}"))  # fmt: skip
        # the same peer with BLAS limited to one thread, as neurodata's NTF runs by default
        with threadpool_limits(limits=1, user_api="blas"):
            peer1 = measure(peer_ntf, repeat=repeat, memory=True)
        rows.append(row("ntf", ours, peer1, "tensorly HALS, 1 BLAS thread", size=size))
        pipe = measure(ours_pipeline, repeat=1, memory=True)
        rows.append(row("pipeline", pipe, peer, "tensorly NTF alone", size=size))
    return rows
