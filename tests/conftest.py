"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
#: The real recordings beside the repository (never copied into it).
SHARED_DATA = Path(os.environ.get("NEURODATA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; the calling test is skipped when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(name="shared_path")
def _shared_path_fixture():
    """The :func:`shared_path` helper as a fixture: ``shared_path("eeg", "x.edf")``."""
    return shared_path


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder (tests using it skip cleanly when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not available: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def eeg_like(rng) -> xr.Dataset:
    """A small valid recording: signal(time, channel) in volts with annotations."""
    sfreq = 100.0
    n_times, names = 250, ["Fz", "Cz", "Pz", "Oz"]
    signal = xr.DataArray(
        rng.standard_normal((n_times, len(names))) * 1e-5,
        dims=("time", "channel"),
        coords={
            "time": ("time", np.arange(n_times) / sfreq, {"units": "s"}),
            "channel": names,
            "ch_type": ("channel", ["eeg"] * 4),
            "bad": ("channel", [False, False, True, False]),
        },
        attrs={"units": "V", "sfreq": sfreq},
    )
    return xr.Dataset(
        {
            "signal": signal,
            "onset": ("event", [0.5, 1.0, 1.2], {"units": "s"}),
            "duration": ("event", [0.0, 0.5, 0.5], {"units": "s"}),
            "label": ("event", np.array(["start", "stim/ä", "stim/b"], dtype=object)),
        },
        attrs={"sfreq": sfreq, "start_time": "2024-01-02T03:04:05+00:00", "source": "synthetic"},
    )
