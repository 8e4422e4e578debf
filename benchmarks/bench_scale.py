"""Collections at scale: time and peak memory vs the number of subjects.

A synthetic resting-EEG collection (``neurodata.datasets.eeg_collection``:
BrainVision files in a BIDS-like tree with ``participants.tsv``; 200 subjects x
64 channels x 5 min at 250 Hz, ~3.8 GB; ``quick``: 8 x 8 channels x 20 s) is
generated once into a cache folder outside the repository
(``$NEURODATA_BENCH_CACHE``, default ``<tmp>/neurodata-bench``). At three sizes
(50/100/200 subjects; ``quick``: 2/4/8) it measures, each in a fresh process
so that peak RSS belongs to that step alone (recordings opened with
``chunk_seconds=3600``: one read and one dask task per subject):

- ``open``: :func:`open_collection` of the BIDS root (headers and metadata only);
- ``alpha-threads``: alpha (8-12 Hz) Welch band power per subject and channel on
  the lazy collection, dask's threaded scheduler in one process;
- ``alpha-cluster``: the same graph on a ``dask.distributed.LocalCluster`` with
  2 worker processes x 1 thread (cluster start-up reported apart); the workers'
  peak RSS is measured too;
- ``alpha-mne`` (the peer): the loop a user writes by hand, one
  ``mne.io.read_raw_brainvision(preload=True)`` + the same kernel per subject;
- ``write``: :func:`write_collection` to one sharded zarr v3 store (float32, the
  files' own precision), threaded scheduler; store size per subject reported.

``scaling`` is (seconds per subject) / (seconds per subject at the smallest
size): 1.0 is linear growth. ``time_ratio`` compares the alpha runs to the peer.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(
    os.environ.get("NEURODATA_BENCH_CACHE", Path(tempfile.gettempdir()) / "neurodata-bench")
)

FULL = {"n": 200, "channels": 64, "sfreq": 250.0, "duration": 300.0, "sizes": (50, 100, 200)}
QUICK = {"n": 8, "channels": 8, "sfreq": 250.0, "duration": 20.0, "sizes": (2, 4, 8)}
TASKS = ("open", "alpha-threads", "alpha-cluster", "alpha-mne", "write")


def _collection(params: dict[str, Any]) -> Path:
    """The cached synthetic collection (generated on first use, ~4 min for the full size)."""
    from neurodata.datasets.eeg_collection import make_eeg_collection

    name = "eeg-{n}x{channels}-{sfreq:g}Hz-{duration:g}s-brainvision".format(**params)
    root = CACHE / name
    done = root / ".complete"
    if not done.exists():
        if root.exists():
            shutil.rmtree(root)
        make_eeg_collection(
            root,
            params["n"],
            n_channels=params["channels"],
            sfreq=params["sfreq"],
            duration=params["duration"],
            format="brainvision",
            progress=True,
        )
        done.write_text("ok\n")
    return root


def _alpha_kernel(x: np.ndarray, sfreq: float) -> np.ndarray:
    """Mean Welch power (V^2/Hz) in 8-12 Hz along the last axis."""
    from scipy.signal import welch

    freqs, psd = welch(x, fs=sfreq, nperseg=int(2 * sfreq), axis=-1)
    band = (freqs >= 8) & (freqs <= 12)
    return psd[..., band].mean(axis=-1)


def _alpha(collection: Any) -> Any:
    import xarray as xr

    signal = collection["signal"].chunk({"subject": 1, "time": -1})
    return xr.apply_ufunc(
        _alpha_kernel,
        signal,
        input_core_dims=[["time"]],
        kwargs={"sfreq": float(collection.attrs["sfreq"])},
        dask="parallelized",
        output_dtypes=[float],
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _warm() -> None:
    """Import what the tasks use, so that import time is not measured."""
    import dask.array  # noqa: F401
    import distributed  # noqa: F401  (dask imports it on the first compute: ~1.5 s)
    import mne  # noqa: F401
    import scipy.signal  # noqa: F401
    import zarr  # noqa: F401

    import neurodata.loaders.eeg  # noqa: F401


def _child(task: str, root: Path, n: int) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from neurodata.collections import open_collection, write_collection

    _warm()
    subjects = [f"sub-{i + 1:03d}" for i in range(n)]
    chunk = 3600.0  # one dask chunk (one read, one task) per recording of up to an hour
    out: dict[str, Any] = {}
    start = time.perf_counter()
    if task == "open":
        ds = open_collection(root, subjects=subjects, chunk_seconds=chunk)
        out["lazy"] = ds["signal"].chunks is not None
    elif task == "alpha-threads":
        import dask

        with dask.config.set(scheduler="threads", num_workers=2):
            power = _alpha(open_collection(root, subjects=subjects, chunk_seconds=chunk)).compute()
        out["check"] = float(power.mean())
    elif task == "alpha-cluster":
        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(_warm)
            out["startup_s"] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            power = _alpha(open_collection(root, subjects=subjects, chunk_seconds=chunk)).compute()
            out["check"] = float(power.mean())
            elapsed = time.perf_counter() - start
            peaks = client.run(_peak_mib)
            out["worker_rss_mib"] = round(max(peaks.values()), 1)
            out["seconds"] = elapsed
    elif task == "alpha-mne":
        import mne

        values = []
        for subject in subjects:
            vhdr = root / subject / "eeg" / f"{subject}_task-rest_eeg.vhdr"
            raw = mne.io.read_raw_brainvision(vhdr, preload=True, verbose="ERROR")
            values.append(_alpha_kernel(raw.get_data(), raw.info["sfreq"]))
            del raw
        out["check"] = float(np.mean(values))
    elif task == "write":
        import dask

        target = CACHE / f"bench-store-{os.getpid()}.zarr"
        try:
            with dask.config.set(scheduler="threads", num_workers=2):
                write_collection(
                    open_collection(root, subjects=subjects, chunk_seconds=chunk),
                    target,
                    dtype="float32",
                )
            out["seconds"] = time.perf_counter() - start
            size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
            out["store_mib_per_subject"] = round(size / 2**20 / n, 2)
        finally:
            shutil.rmtree(target, ignore_errors=True)
    else:
        raise ValueError(f"`task` must be one of {list(TASKS)}; got {task!r}")
    out.setdefault("seconds", time.perf_counter() - start)
    out["rss_mib"] = round(_peak_mib(), 1)
    return out


def _run_child(task: str, root: Path, n: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scale", task, str(root), str(n)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{task} with {n} subjects failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict[str, Any]]:
    params = QUICK if quick else FULL
    root = _collection(params)
    rows: list[dict[str, Any]] = []
    first: dict[str, float] = {}
    peer: dict[int, float] = {}
    for n in params["sizes"]:
        for task in ("alpha-mne", *[t for t in TASKS if t != "alpha-mne"]):
            result = _run_child(task, root, n)
            per_subject = result["seconds"] / n
            first.setdefault(task, per_subject)
            row: dict[str, Any] = {
                "task": task,
                "subjects": n,
                "seconds": round(result["seconds"], 3),
                "s_per_subject": round(per_subject, 4),
                "scaling": round(per_subject / first[task], 2),
                "rss_mib": result["rss_mib"],
            }
            if task == "alpha-mne":
                peer[n] = result["seconds"]
            elif task.startswith("alpha"):
                row["time_ratio_vs_mne_loop"] = round(result["seconds"] / peer[n], 2)
            for key in ("worker_rss_mib", "startup_s", "store_mib_per_subject"):
                if key in result:
                    row[key] = result[key]
            rows.append(row)
            print(f"  [scale] {row}", file=sys.stderr, flush=True)  # partial results as they come
    shape = "{channels} ch x {duration:g} s at {sfreq:g} Hz".format(**params)
    for row in rows:
        row["recording"] = shape
    return rows


if __name__ == "__main__":
    task_name, root_arg, n_arg = sys.argv[1:4]
    print(json.dumps(_child(task_name, Path(root_arg), int(n_arg))))
