"""The tasks that ``before_after`` times, each as neurodata (``"ours"``) or its peer.

Every case is ``case(side, **params) -> callable``: the data are built when the case
is prepared (outside the timing) and the callable does the measured work, returning
what the run's checks compare (best alphas, RDMs, samples). The same functions run in
every side's process, so they use only what both the base tree and the current tree
export (``neurodata.analyses.encoding.ridge_cv``, ``rsa.rdm``, ``rsa.compare_vectors``,
``connectome.affinity``/``ntf``, ``neurodata.load``, ``pipelines.compare.compare``);
the data recipes are the ones of the ``bench_*`` modules.
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Work = Callable[[], Any]


def ridge(side: str, n: int, p: int, t: int) -> Work:
    """ridge_cv vs himalaya's RidgeCV: same data, alphas and folds (bench_encoding)."""
    from . import bench_encoding as be

    X, Y = be._data(n, p, t)
    impl = "neurodata" if side == "ours" else "himalaya"
    return lambda: be._fit(impl, X, Y)


def gemm(side: str) -> Work:
    """The machine's float32 matrix-multiply throughput (GFLOP/s), the ridge floor."""
    from . import bench_encoding as be

    return be._matmul_gflops


def ntf(side: str, neurons: int, windows: int, worms: int) -> Work:
    """NTF (HALS, 50 iterations, no early stop) vs tensorly on the same dense tensor."""
    from neurodata.analyses import connectome as dc

    from . import bench_connectome as bc

    aff = dc.affinity(bc._activity(neurons, windows, worms), window=10.0, method="correlation")
    if side == "ours":
        return lambda: dc.ntf(aff, bc.RANK, seed=0, n_iter_max=bc.N_ITER, tol=0)
    from tensorly.decomposition import non_negative_parafac_hals

    dense = np.ascontiguousarray(aff.values)
    return lambda: non_negative_parafac_hals(
        dense, bc.RANK, init="random", random_state=0, n_iter_max=bc.N_ITER, tol=0
    )


def rdm(side: str, method: str, n: int, p: int) -> Work:
    """Correlation or crossnobis (2 folds) RDM of ``n`` conditions x ``p`` features."""
    from neurodata.analyses import rsa

    from . import bench_rsa as br

    da, ds, daf, dsf = br.rdm_inputs(np.random.default_rng(0), n, p)
    if side == "ours":
        data = daf if method == "crossnobis" else da
        return lambda: rsa.rdm(data, method=method).values
    if method == "crossnobis":
        return lambda: br.peer_crossnobis(dsf).get_matrices()[0]
    import rsatoolbox as rt

    return lambda: rt.rdm.calc_rdm(ds, method=method).get_matrices()[0]


def rdm_compare(side: str, method: str, n: int, n_rdm: int, subset: list[int]) -> Work:
    """Spearman or tau-a between ``n_rdm`` x ``n_rdm`` RDM vectors of ``n`` conditions
    (one thread). The peer compares the first ``subset`` rows only (rsatoolbox's tau-a
    loops over pairs in Python); the run scales its time to all pairs."""
    from neurodata.analyses import rsa

    rng = np.random.default_rng(0)
    m = n * (n - 1) // 2
    va, vb = rng.standard_normal((n_rdm, m)), rng.standard_normal((n_rdm, m))
    if side == "ours":
        rsa.compare_vectors(va[:1, :100], vb[:1, :100], method, n_jobs=1)  # compile numba
        sa, sb = subset
        return lambda: rsa.compare_vectors(va, vb, method, n_jobs=1)[:sa, :sb]
    import rsatoolbox as rt

    ra, rb = rt.rdm.RDMs(va[: subset[0]]), rt.rdm.RDMs(vb[: subset[1]])

    def peer() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return rt.rdm.compare(ra, rb, "spearman" if method == "spearman" else "tau-a")

    return peer


def load_full(side: str, path: str) -> Work:
    """A whole recording into memory: ``nd.load`` vs ``mne.io.read_raw(preload=True)``."""
    import mne

    if side == "ours":
        import neurodata as nd

        return lambda: nd.load(path)["signal"].values
    return lambda: mne.io.read_raw(path, preload=True, verbose="ERROR").get_data().T


def build(side: str, path: str) -> Work:
    """Building the Dataset from an already preloaded Raw, as ``read_eeg`` does it (the
    loader's fixed cost; trees whose ``dataset_from_raw`` takes ``copy`` get the
    ``copy=False`` their ``read_eeg`` passes, older ones copied the samples)."""
    import inspect

    import mne

    from neurodata.loaders.eeg import dataset_from_raw

    raw = mne.io.read_raw(path, preload=True, verbose="ERROR")
    kwargs = {"copy": False} if "copy" in inspect.signature(dataset_from_raw).parameters else {}
    return lambda: dataset_from_raw(raw, source=path, **kwargs)


def window(side: str, path: str, first: int, last: int, call: str) -> Work:
    """Samples ``first`` to ``last`` (exclusive) of a long EDF: the default ``load`` +
    ``sel`` (seconds, both ends included) or ``load(lazy=True)`` + ``isel``, vs MNE's
    ``read_raw_edf(preload=False).get_data(start, stop)``."""
    import mne

    if side == "peer":
        return lambda: (
            mne.io.read_raw_edf(path, preload=False, verbose="ERROR")
            .get_data(start=first, stop=last)
            .T
        )
    import neurodata as nd

    if call == "lazy":
        return lambda: nd.load(path, lazy=True)["signal"].isel(time=slice(first, last)).values
    sfreq = float(mne.io.read_raw_edf(path, preload=False, verbose="ERROR").info["sfreq"])
    span = slice(first / sfreq, (last - 1) / sfreq)
    return lambda: nd.load(path)["signal"].sel(time=span).values


def alice(side: str, subjects: int, n_permutations: int, out: str, batch: str) -> Work:
    """``compare`` on the Alice fMRI with precomputed MiniLM activations (pickled by
    `activations`): as the tree runs it by default (``batch="default"``) or one
    subject at a time (``"one"``, current tree only)."""
    from neurodata.pipelines.compare import compare

    from . import bench_compare as bc

    brain, _ = bc._data()
    brain.responses = brain.responses.isel(subject=slice(0, subjects))
    acts = pickle.loads(Path(out, "activations.pkl").read_bytes())
    runs = iter(range(1_000_000))
    extra = {"subjects_batch": 1} if batch == "one" else {}

    def run() -> np.ndarray:
        dest = Path(out, f"{side}-{batch}-{os.getpid()}-{next(runs)}")  # one per process
        result = compare(brain, activations=acts, n_permutations=n_permutations, out=dest,
                         progress=False, **extra)  # fmt: skip
        return result["r"].values

    return run


def activations(side: str, out: str) -> Work:
    """MiniLM activations of the Alice words, pickled once for every side's `alice`."""
    from neurodata.models.activations import extract_activations

    from . import bench_compare as bc

    def run() -> None:
        brain, _ = bc._data()
        acts = extract_activations(brain.words, pool="mean", context=32, progress=False)
        Path(out, "activations.pkl").write_bytes(pickle.dumps(acts["activation"]))

    return run


CASES: dict[str, Callable[..., Work]] = {
    f.__name__: f
    for f in (ridge, gemm, ntf, rdm, rdm_compare, load_full, build, window, alice, activations)
}
