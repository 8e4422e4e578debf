"""The loaders' fast Dataset assembly gives what ``xr.Dataset(...)`` gives."""

from __future__ import annotations

import warnings

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from neurodata._timeindex import time_coords
from neurodata.loaders._dataset import build_dataset, variable

mne = pytest.importorskip("mne")

from neurodata.loaders import eeg  # noqa: E402


def _pieces(n_events: int, signal) -> tuple[dict, dict, dict]:
    names = np.array(["Fp1", "Cz", "仰卧"], dtype=object)
    coords = {
        "time": variable("time", np.arange(signal.shape[0]) / 250.0, {"units": "s"}),
        "channel": variable("channel", names),
        "bad": variable("channel", np.array([False, True, False])),
        "x": variable("channel", np.array([0.1, np.nan, 0.0]), {"units": "m"}),
    }
    data = {
        "signal": variable(("time", "channel"), signal, {"sfreq": 250.0, "units": "V"}),
        "onset": variable("event", np.arange(n_events, dtype=float), {"units": "s"}),
        "label": variable("event", np.array([f"e{i}" for i in range(n_events)], dtype=object)),
    }
    return data, coords, {"sfreq": 250.0, "history": "read x"}


@pytest.mark.parametrize("n_events", [0, 4])
@pytest.mark.parametrize("lazy", [False, True])
def test_identical_to_the_dataset_constructor(n_events, lazy):
    signal = np.random.default_rng(0).standard_normal((500, 3))
    data, coords, attrs = _pieces(n_events, da.from_array(signal, chunks=100) if lazy else signal)
    fast = build_dataset(data, coords, attrs)
    plain = xr.Dataset(data, coords=coords, attrs=attrs)
    xr.testing.assert_identical(fast, plain)
    assert list(fast.data_vars) == list(plain.data_vars)
    assert list(fast.coords) == list(plain.coords)
    for name in plain.xindexes:
        assert fast.indexes[name].dtype == plain.indexes[name].dtype
    assert (fast["signal"].chunks is None) is not lazy


def test_given_indexes_are_kept():
    data, coords, attrs = _pieces(2, np.zeros((500, 3)))
    time = time_coords(500, 250.0)
    coords = {**coords, **time.variables}
    fast = build_dataset(data, coords, attrs, indexes=dict(time.xindexes))
    assert fast.xindexes["time"].equals(time.xindexes["time"])
    xr.testing.assert_equal(fast, xr.Dataset(data, coords=_pieces(2, np.zeros((500, 3)))[1]))


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("eeg", "physionet_motor_imagery.edf"),
        ("eeg", "bv_dig_test.vhdr"),
        ("ieeg", "sample_ecog_ieeg.fif"),
    ],
)
def test_real_files_build_what_the_constructor_builds(shared_path, folder, name):
    path = shared_path(folder, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.read_raw(path, preload=True, verbose="ERROR")
        ds = eeg.dataset_from_raw(raw)
    plain = xr.Dataset(
        {k: v.variable for k, v in ds.data_vars.items()},
        coords={k: v.variable.to_base_variable() for k, v in ds.coords.items()},
        attrs=ds.attrs,
    )
    xr.testing.assert_identical(ds, plain)
