"""Long recordings: lazy by default, windows read through ``load`` + ``isel``/``sel``
equal MNE's ``read_raw_edf(preload=False).get_data(start, stop)``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._timeindex import SampleIndex

mne = pytest.importorskip("mne")
edfio = pytest.importorskip("edfio")

from neurodata.loaders import _eeg_lazy  # noqa: E402

SFREQ = 128
SECONDS = 360  # 6 min x 64 channels: over both thresholds of the default rule
N_CHANNELS = 64


@pytest.fixture(scope="module")
def long_edf(tmp_path_factory):
    """A 6-minute, 64-channel EDF written with edfio (MNE's EDF exporter)."""
    rng = np.random.default_rng(3)
    n = SFREQ * SECONDS
    ramp = np.sin(2 * np.pi * np.arange(n) / SFREQ)
    signals = [
        edfio.EdfSignal(
            rng.standard_normal(n) * 20 + 40 * ramp * (i % 3),
            SFREQ,
            label=f"E{i:02d}",
            physical_dimension="uV",
            physical_range=(-500, 500),
        )
        for i in range(N_CHANNELS)
    ]
    path = tmp_path_factory.mktemp("long") / "long.edf"
    edfio.Edf(signals).write(path)
    return path


def _mne(path):
    return mne.io.read_raw_edf(path, preload=False, verbose="ERROR")


def test_default_load_of_a_long_recording_is_lazy(long_edf):
    ds = nd.load(long_edf)
    assert ds["signal"].chunks is not None  # dask, nothing read yet
    assert isinstance(ds.xindexes["time"], SampleIndex)
    raw = _mne(long_edf)
    np.testing.assert_array_equal(ds["time"].values, raw.times)  # bit for bit
    assert ds["time"].attrs["units"] == "s"
    assert ds.sizes == {"time": raw.n_times, "channel": N_CHANNELS, "event": 0}


@pytest.mark.parametrize("lazy", [None, True])
@pytest.mark.parametrize(("start", "stop"), [(0, 1), (100 * SFREQ, 160 * SFREQ), (-SFREQ, None)])
def test_isel_window_equals_mne(long_edf, lazy, start, stop):
    raw = _mne(long_edf)
    begin = start % raw.n_times
    end = raw.n_times if stop is None else stop
    window = nd.load(long_edf, lazy=lazy)["signal"].isel(time=slice(start, stop))
    np.testing.assert_array_equal(window.values, raw.get_data(start=begin, stop=end).T)
    np.testing.assert_array_equal(window["time"].values, raw.times[begin:end])


@pytest.mark.parametrize(("a", "b"), [(100.0, 160.0), (0.0, 0.5), (359.5, 400.0), (10.004, 10.02)])
def test_sel_window_includes_both_ends_like_mne_indices(long_edf, a, b):
    raw = _mne(long_edf)
    first, last = raw.time_as_index([a, min(b, raw.times[-1])], use_rounding=False)
    first += raw.times[first] < a - 1e-9  # the first sample at or after a
    window = nd.load(long_edf)["signal"].sel(time=slice(a, b))
    expected = raw.get_data(start=first, stop=last + 1).T
    np.testing.assert_array_equal(window.values, expected)
    np.testing.assert_array_equal(window["time"].values, raw.times[first : last + 1])
    assert window["time"].values[0] >= a and window["time"].values[-1] <= b


def test_sel_points_match_mne_time_as_index(long_edf):
    raw = _mne(long_edf)
    ds = nd.load(long_edf)
    times = np.array([0.0, 1.004, 33.3333, 200.7, 359.99])
    picked = ds["signal"].sel(time=times, method="nearest")
    index = raw.time_as_index(times, use_rounding=True)
    np.testing.assert_array_equal(picked.values, raw.get_data().T[index])
    exact = ds["signal"].sel(time=raw.times[[5, 5000]])
    np.testing.assert_array_equal(exact.values, raw.get_data(start=0, stop=5001).T[[5, 5000]])


def test_lazy_whole_signal_equals_eager(long_edf):
    lazy = nd.load(long_edf)
    eager = nd.load(long_edf, lazy=False)
    assert eager["signal"].chunks is None
    assert not isinstance(eager.xindexes["time"], SampleIndex)  # in memory: a plain index
    xr.testing.assert_equal(lazy, eager)
    np.testing.assert_array_equal(lazy["signal"].values, eager["signal"].values)


@pytest.mark.parametrize(
    ("n_times", "n_channels", "sfreq", "long"),
    [
        (360 * 128, 64, 128.0, True),  # 6 min, 22.5 MiB
        (240 * 512, 64, 512.0, False),  # 4 min: short, whatever its size
        (7200 * 100, 2, 100.0, False),  # 2 h of two slow channels: 11 MiB, cheap to hold
        (7200 * 256, 64, 256.0, True),  # the 2 h case of issue 22
        (120 * 30000, 512, 30000.0, True),  # 2 min, 13.7 GiB: too big to hold
    ],
)
def test_default_rule_weighs_duration_and_size(n_times, n_channels, sfreq, long):
    assert _eeg_lazy.is_long(n_times, n_channels, sfreq) is long
