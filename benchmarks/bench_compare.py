"""The main job on the Alice fMRI: all subjects fitted together vs one fit per subject.

``compare`` fits every subject's targets in one ``encode`` (``subjects_batch=None``), so each
layer's features are decomposed and detrended once per fold for all subjects; the old way
fitted one subject at a time (``subjects_batch=1``), repeating that work per subject. Both
run here on the same activations (computed once, outside the timing), alternating, best of
``repeat``; the results must agree (r to float rounding, identical p-values).

Needs ``../shared/data/language/alice`` (or ``NEURODATA_DATA``); without it the benchmark
uses the simulated story of the demo (13 subjects) and says so.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _data():
    from neurodata.errors import NotFoundError
    from neurodata.pipelines.compare import resolve_data

    data_dir = os.environ.get("NEURODATA_DATA") or str(ROOT.parent / "shared" / "data")
    try:
        return resolve_data("alice", data_dir=data_dir), "Alice fMRI (real)"
    except NotFoundError:
        from neurodata.datasets.simulated import story
        from neurodata.pipelines.demo import simulated_brain_data

        words = story(2000, seed=3)
        rng = np.random.default_rng(0)
        import xarray as xr

        acts = xr.DataArray(
            rng.standard_normal((7, 2000, 64)).astype("float32"),
            dims=("layer", "word", "unit"),
            coords={"layer": [f"l{i}" for i in range(7)], "onset": ("word", words.onset.values)},
        )
        return simulated_brain_data(acts, words, layer="l3", n_subjects=13, snr=1.0, seed=1), acts


def run(quick: bool = False) -> list[dict]:
    from neurodata.models.activations import extract_activations
    from neurodata.pipelines.compare import compare

    brain, what = _data()
    if isinstance(what, str):
        acts = extract_activations(brain.words, pool="mean", context=32, progress=False)
        acts = acts["activation"]
    else:
        acts, what = what, "simulated story (no ../shared/data)"
    if quick:
        brain.responses = brain.responses.isel(subject=slice(0, 3))
    n_perm = 20 if quick else 200
    times: dict[str, list[float]] = {"joint": [], "per_subject": []}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1 if quick else 2):
            for name, batch in (("per_subject", 1), ("joint", None)):
                out = Path(tmp) / f"{name}-{k}"
                start = time.perf_counter()
                results[name] = compare(brain, activations=acts, n_permutations=n_perm, out=out,
                                        subjects_batch=batch, progress=False)  # fmt: skip
                times[name].append(time.perf_counter() - start)
    joint, single = results["joint"], results["per_subject"]
    load = os.getloadavg()[0]
    return [
        {
            "task": f"compare on {what}: {brain.responses.sizes['subject']} subjects, "
            f"{acts.sizes['layer']} layers, {n_perm} permutations, with --out",
            "peer": "the same job fitting one subject at a time (subjects_batch=1)",
            "neurodata_s": round(min(times["joint"]), 2),
            "peer_s": round(min(times["per_subject"]), 2),
            "time_ratio": round(min(times["joint"]) / min(times["per_subject"]), 3),
            "max_abs_r_difference": float(np.nanmax(np.abs(joint["r"] - single["r"]))),
            "same_p_values": bool(np.array_equal(joint["p_value"], single["p_value"])),
            "load_average": round(load, 1),
        }
    ]
