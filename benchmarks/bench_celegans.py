"""C. elegans worm loading and resampling, against h5py/pandas and numpy read directly.

- ``load_flavell``: ``neurodata.load(h5, labels=csv)`` (placing ROIs on the 302-neuron
  axis, behaviour, validation) vs the bare read of the same arrays with h5py and the
  label table with pandas.
- ``resample``: ``celegans.resample`` of a stack of worms to 3 Hz vs ``numpy.interp``
  column by column (the same linear interpolation).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from benchmarks._harness import measure, row


def _write_worm(folder: Path, uid: str, n_t: int, n_roi: int, rng) -> tuple[Path, Path]:
    h5 = folder / f"{uid}-data.h5"
    with h5py.File(h5, "w") as fh:
        fh["gcamp/trace_array"] = rng.standard_normal((n_t, n_roi))
        fh["timing/timestamp_confocal"] = np.cumsum(rng.uniform(0.55, 0.65, n_t))
        for key in ("velocity", "head_angle", "pumping"):
            fh[f"behavior/{key}"] = rng.standard_normal(n_t)
    from neurodata.celegans import neurons

    names = rng.choice(neurons(), size=n_roi // 2, replace=False)
    rois = rng.choice(np.arange(1, n_roi + 1), size=names.size, replace=False)
    labels = pd.DataFrame({"uid": uid, "roi": rois, "label": names, "confidence": 4.0})
    labels["roi_py0"] = labels["roi"] - 1
    csv = folder / f"{uid}_neuropal_labels.csv"
    labels.to_csv(csv, index=False)
    return h5, csv


def run(quick: bool) -> list[dict]:
    import neurodata as nd
    from neurodata import celegans

    rng = np.random.default_rng(0)
    n_t, n_roi, n_worms = (800, 146, 3) if quick else (8000, 200, 10)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = [_write_worm(Path(tmp), f"w{i}", n_t, n_roi, rng) for i in range(n_worms)]
        h5, csv = files[0]

        def ours():
            return nd.load(h5, labels=csv)

        def peer():
            with h5py.File(h5, "r") as fh:
                traces = fh["gcamp/trace_array"][()]
                times = fh["timing/timestamp_confocal"][()]
                behavior = {k: fh[f"behavior/{k}"][()] for k in fh["behavior"]}
            return traces, times, behavior, pd.read_csv(csv)

        rows.append(
            row("load_flavell", measure(ours), measure(peer), "h5py+pandas", shape=f"{n_t}x{n_roi}")
        )

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stacked = celegans.stack([nd.load(h, labels=c) for h, c in files])
        stamps = stacked["timestamps"].values
        act = stacked["activity"].values
        grid = np.arange(int(np.nanmax(stamps) * 3.0) + 1) / 3.0

        def ours_resample():
            return celegans.resample(stacked, rate=3.0)

        def peer_resample():
            out = np.full((act.shape[0], grid.size, act.shape[2]), np.nan)
            for w in range(act.shape[0]):
                t = stamps[w][~np.isnan(stamps[w])]
                for k in range(act.shape[2]):
                    x = act[w, : t.size, k]
                    if not np.isnan(x).all():
                        out[w, :, k] = np.interp(grid, t, x, left=np.nan, right=np.nan)
            return out

        check = ours_resample()["activity"].values
        ref = peer_resample()
        agree = bool(np.allclose(check, ref, equal_nan=True, rtol=1e-12, atol=1e-12))
        rows.append(
            row(
                "resample_3Hz",
                measure(ours_resample),
                measure(peer_resample),
                "numpy.interp",
                worms=n_worms,
                identical=agree,
            )
        )
    return rows
