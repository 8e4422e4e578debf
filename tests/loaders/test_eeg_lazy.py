"""Long recordings: lazy by default, windows read through ``load`` + ``isel``/``sel``
equal MNE's ``read_raw_edf(preload=False).get_data(start, stop)``."""

from __future__ import annotations

import pickle
import subprocess
import sys

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


def test_default_load_of_a_long_recording_reads_only_the_window(long_edf, spy_signal_reads):
    reads = spy_signal_reads()
    ds = nd.load(long_edf)
    assert ds["signal"].chunks is None and reads == []  # read on indexing, no dask
    window = ds["signal"].isel(time=slice(1280, 2560), channel=[3, 1]).values
    assert reads == [(slice(1280, 2560, 1), slice(1, 4, None))]  # that window, nothing else
    assert window.shape == (1280, 2)
    assert ds["signal"].isel(time=-1, channel=0).values.shape == ()
    assert reads[-1][0] == slice(SFREQ * SECONDS - 1, SFREQ * SECONDS, None)


def test_default_load_of_a_long_recording_is_lazy(long_edf):
    ds = nd.load(long_edf)
    assert isinstance(ds.xindexes["time"], SampleIndex)
    raw = _mne(long_edf)
    np.testing.assert_array_equal(ds["time"].values, raw.times)  # bit for bit
    assert ds["time"].attrs["units"] == "s"
    assert ds.sizes == {"time": raw.n_times, "channel": N_CHANNELS, "event": 0}


@pytest.mark.parametrize("lazy", [None, "indexed", True])
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
    ("n_times", "n_channels", "sfreq", "lazy"),
    [
        (360 * 128, 64, 128.0, "indexed"),  # 6 min, 22.5 MiB
        (240 * 512, 64, 512.0, False),  # 4 min: short, whatever its size
        (7200 * 100, 2, 100.0, False),  # 2 h of two slow channels: 11 MiB, cheap to hold
        (7200 * 256, 64, 256.0, "indexed"),  # the 2 h case of issue 22 (0.88 GiB)
        (120 * 30000, 512, 30000.0, True),  # 2 min, 13.7 GiB: dask, whole-signal work streams
    ],
)
def test_default_rule_weighs_duration_and_size(n_times, n_channels, sfreq, lazy):
    assert _eeg_lazy.default_lazy(n_times, n_channels, sfreq) == lazy


def test_lazy_choices_are_checked(long_edf):
    with pytest.raises(ValueError, match=r"`lazy` must be one of \[None, False, True, 'indexed'\]"):
        nd.load(long_edf, lazy="chunks")


def test_indexed_signal_pickles_and_chunks(long_edf):
    ds = pickle.loads(pickle.dumps(nd.load(long_edf, lazy="indexed")))
    window = ds["signal"].chunk({"time": 4096}).isel(time=slice(500, 9000))
    raw = _mne(long_edf)
    np.testing.assert_array_equal(window.values, raw.get_data(start=500, stop=9000).T)


@pytest.mark.parametrize("which", ["small, read now", "long, read on indexing"])
def test_window_read_imports_no_dask(long_edf, edf_file, which):
    path = edf_file if which.startswith("small") else long_edf
    code = (
        "import sys, warnings; warnings.simplefilter('ignore'); import neurodata as nd; "
        f"ds = nd.load({str(path)!r}); ds['signal'].sel(time=slice(1, 1.5)).values; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
