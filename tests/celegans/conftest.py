"""Small synthetic C. elegans files (the real ones are in ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest


def write_flavell(path: Path, traces: np.ndarray, times: np.ndarray, **behavior) -> Path:
    """A Flavell-layout HDF5 file (time x ROI, as h5py reads the lab's files)."""
    with h5py.File(path, "w") as fh:
        fh["gcamp/trace_array"] = traces
        fh["timing/timestamp_confocal"] = times
        for key, values in behavior.items():
            fh[f"behavior/{key}"] = values
    return path


def write_labels(path: Path, uid: str, rows: list[tuple[int, str, float]]) -> Path:
    """A NeuroPAL label table: (1-based roi, label, confidence) per row."""
    frame = pd.DataFrame(rows, columns=["roi", "label", "confidence"])
    frame.insert(0, "uid", uid)
    frame["roi_py0"] = frame["roi"] - 1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def celegans_data(shared_data) -> Path:
    """../shared/data/celegans (skips when absent)."""
    path = shared_data / "celegans"
    if not (path / "flavell2023").is_dir() or not (path / "connectomes").is_dir():
        pytest.skip(f"C. elegans shared data not available: {path}")
    return path


@pytest.fixture
def worm_files(tmp_path, rng):
    """One synthetic worm: 6 ROIs, 50 frames at ~1.7 Hz, labels covering every case."""
    n_t, n_roi = 50, 6
    traces = rng.standard_normal((n_t, n_roi))
    times = 1000.0 + np.cumsum(rng.uniform(0.55, 0.65, n_t))
    h5 = write_flavell(tmp_path / "w1-data.h5", traces, times, velocity=rng.standard_normal(n_t))
    rows = [
        (1, "AVAL", 5.0),  # identified
        (2, "VB02", 4.0),  # zero-padded name -> VB2
        (3, "RIAR?", 3.0),  # uncertain, names a neuron
        (4, "SAAD?", 2.0),  # uncertain, names no single neuron (SAADL or SAADR)
        (5, "URADL", 4.0),  # duplicate ...
        (6, "URADL", 3.0),  # ... of ROI 5
    ]
    csv = write_labels(tmp_path / "w1_neuropal_labels.csv", "w1", rows)
    return h5, csv, traces, times - times[0]
