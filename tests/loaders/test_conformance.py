"""Every reader on every real recording, against the owning library read directly.

Issue 17, "the class, closed": shapes, values, channel names and types, units,
sampling rate, annotations and start time must equal what MNE / pynwb / nibabel /
h5py / numpy / pandas give for the same file; a reader that returns nothing for a
non-empty file fails, and every numeric variable carries ``units`` or a
``long_name`` (``neurodata validate`` passes). docs/loaders-eeg-nwb.md lists what
is compared per reader.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata.schema import problems
from tests.loaders.conftest import REAL_EEG

pytestmark = pytest.mark.shared_data

EEG = REAL_EEG
_VOLTS = {"uv", "µv", "μv", "mv", "v", "nv"}


def _quiet_load(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nd.load(path, **options)


def _not_empty_and_labelled(obj):
    ds = obj if isinstance(obj, xr.Dataset) else obj.to_dataset(name=obj.name or "data")
    assert ds.data_vars, "the reader returned nothing"
    assert any(v.size for v in ds.data_vars.values()), "the reader returned empty variables"
    unlabelled = [p for p in problems(obj) if "nor a `long_name`" in p]
    assert unlabelled == []  # units or long_name on every numeric variable (issue 17 case 8)


def _edf_units(path):
    """Physical dimension per signal label, read with edfio (EDF) or from the header (BDF)."""
    edfio = pytest.importorskip("edfio")
    reader = edfio.read_bdf if path.suffix.lower() == ".bdf" else edfio.read_edf
    return {s.label: s.physical_dimension for s in reader(path).signals}


@pytest.mark.parametrize("name", EEG)
def test_eeg_reader_equals_mne(name, shared_data):
    mne = pytest.importorskip("mne")
    path = shared_data / name
    typed = {"infer_types": True} if path.suffix in (".edf", ".bdf") else {}
    raw = mne.io.read_raw(path, preload=True, verbose="ERROR", **typed)
    ds = _quiet_load(path)
    _not_empty_and_labelled(ds)
    assert ds["signal"].shape == (raw.n_times, len(raw.ch_names))
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)  # same samples, exact
    assert list(ds["channel"].values) == raw.ch_names
    assert list(ds["ch_type"].values) == raw.get_channel_types()
    assert ds.attrs["sfreq"] == raw.info["sfreq"]
    if typed:  # EDF/BDF: the header's physical dimension (MNE calls every channel volts)
        dims = list(_edf_units(path).values())
        dims = [d for d in dims if d != ""] if len(dims) != len(raw.ch_names) else dims
        expected = ["V" if d.lower() in _VOLTS else d for d in dims][: len(raw.ch_names)]
        # but MNE reads stim channels as unscaled codes (unit none), whatever the header says
        stim = [t == "stim" for t in raw.get_channel_types()]
        expected = ["" if is_stim else e for e, is_stim in zip(expected, stim)]
        assert list(ds["ch_unit"].values) == expected
    else:
        volts = [int(ch["unit"]) == 107 for ch in raw.info["chs"]]  # FIFF_UNIT_V
        assert [u == "V" for u in ds["ch_unit"].values] == volts
    meas = raw.info["meas_date"]
    start = None if meas is None else (meas + timedelta(seconds=raw.first_time)).isoformat()
    assert ds.attrs.get("start_time") == start
    ann = raw.annotations
    onset = np.asarray(ann.onset) - (raw.first_time if ann.orig_time is not None else 0.0)
    labels = list(ann.description)
    durations = list(ann.duration)
    events = path.with_name(path.name.replace("_raw.fif", "-eve.fif"))
    if path.name.endswith("_raw.fif") and events.is_file():  # sibling events: annotations
        found = mne.read_events(events, verbose="ERROR")
        onset = np.concatenate([onset, (found[:, 0] - raw.first_samp) / raw.info["sfreq"]])
        labels += [str(code) for code in found[:, 2]]
        durations += [0.0] * len(found)
    assert list(ds["label"].values) == labels
    # MNE's Annotations keep onsets to the microsecond (events added through them too)
    np.testing.assert_allclose(ds["onset"].values, onset, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ds["duration"].values, durations, rtol=0, atol=1e-6)


def _pynwb(path):
    pynwb = pytest.importorskip("pynwb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
        return io, io.read()


@pytest.mark.parametrize("name", ["human_single_units_rutishauser.nwb", "A8604-211122.nwb"])
def test_nwb_units_and_intervals_equal_pynwb(name, shared_data):
    path = shared_data / "nwb" / name
    ds = _quiet_load(path)
    _not_empty_and_labelled(ds)
    io, nwb = _pynwb(path)
    try:
        units = nwb.units
        assert ds.sizes["neuron"] == len(units)
        for i, label in enumerate(ds["neuron"].values):
            expected = np.asarray(units["spike_times"][i], dtype=float)
            got = ds["spike_time"].values[ds["spike_neuron"].values == label]
            np.testing.assert_array_equal(got, expected)
        n_rows = sum(len(t) for t in nwb.intervals.values()) if nwb.intervals else 0
        assert ds.sizes.get("event", 0) == n_rows
        start = nwb.session_start_time
        assert ds.attrs.get("start_time") == (start.isoformat() if start.year > 1900 else None)
    finally:
        io.close()


def test_nwb_timeseries_equal_pynwb(shared_data):
    path = shared_data / "nwb" / "celegans_scholz2018.nwb"
    io, nwb = _pynwb(path)
    try:
        for ds in (_quiet_load(path, format="nwb"), _quiet_load(path)):  # read_nwb, worm reader
            _not_empty_and_labelled(ds)
        ds = _quiet_load(path, format="nwb")
        for j, roi in enumerate(ds["roi"].values):
            ts = nwb.acquisition[str(roi)]
            np.testing.assert_array_equal(ds["Activity"].values[:, j], ts.data[:])
        stamps = np.asarray(nwb.acquisition["Activity_0000"].timestamps[:])
        np.testing.assert_array_equal(ds["time"].values, stamps)
        assert ds.attrs["start_time"] == nwb.session_start_time.isoformat()
    finally:
        io.close()


@pytest.mark.parametrize("name", ["fmri1.nii.gz", "nipy_functional.nii.gz"])
def test_nifti_equals_nibabel(name, shared_data):
    nib = pytest.importorskip("nibabel")
    path = shared_data / "fmri" / name
    ds = _quiet_load(path)
    _not_empty_and_labelled(ds)
    img = nib.load(path)
    data = np.asarray(img.dataobj, dtype=float)
    i, j, k = (ds[c].values for c in "ijk")
    np.testing.assert_allclose(ds["bold"].values, data[i, j, k, :].T, rtol=1e-6)
    assert ds.sizes["voxel"] <= int(np.prod(img.shape[:3]))
    assert ds.sizes["time"] == img.shape[3]


@pytest.mark.parametrize(
    "uid", ["2022-07-26-31", "2022-07-26-38", "2022-07-27-31", "2022-07-27-38"]
)
def test_flavell_equals_h5py(uid, shared_data):
    h5py = pytest.importorskip("h5py")
    path = shared_data / "celegans" / "flavell2023" / f"{uid}-data.h5"
    # every ROI as recorded: with the label table found beside the file, named ROIs move to
    # the neuron axis and activity_roi keeps only the unplaced ones
    ds = _quiet_load(path, labels=False)
    _not_empty_and_labelled(ds)
    with h5py.File(path, "r") as f:
        trace = np.asarray(f["gcamp/trace_array"][:], dtype=float)
        velocity = np.asarray(f["behavior/velocity"][:], dtype=float)
    roi = ds["activity_roi"].isel(worm=0).values
    trace = trace if trace.shape == roi.shape else trace.T
    np.testing.assert_array_equal(roi, trace)
    np.testing.assert_array_equal(ds["velocity"].isel(worm=0).values, velocity)


@pytest.mark.parametrize("name", ["F.npy", "Fneu.npy", "spks.npy", "iscell.npy"])
def test_npy_equals_numpy(name, shared_data):
    path = shared_data / "ophys_suite2p" / name
    da = _quiet_load(path)
    _not_empty_and_labelled(da)
    np.testing.assert_array_equal(da.values, np.load(path))


def test_region_table_equals_pandas(shared_data):
    pd = pytest.importorskip("pandas")
    path = shared_data / "fmri" / "fmri_timeseries.csv"
    ds = _quiet_load(path, format="parcellated-table", tr=1.89)
    _not_empty_and_labelled(ds)
    frame = pd.read_csv(path)
    assert list(ds["parcel"].values) == list(frame.columns)
    np.testing.assert_array_equal(ds["bold"].transpose("time", "parcel").values, frame.values)
    assert ds.attrs["sfreq"] == pytest.approx(1 / 1.89)
