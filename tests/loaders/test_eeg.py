"""EEG/iEEG loader and writers: MNE's own reader is the oracle."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurodata as nd
from neurodata.errors import FormatError, NeurodataError, SchemaError
from neurodata.schema import problems

NAMES = ["Fp1", "Fz", "Cz", "Pz", "O1", "Stim"]

mne = pytest.importorskip("mne")

from neurodata.loaders import eeg, eeg_export  # noqa: E402

REAL_FILES = [
    ("eeg", "test_raw.set"),
    ("eeg", "physionet_motor_imagery.edf"),
    ("eeg", "openbci_sleep.bdf"),
    ("eeg", "bv_dig_test.vhdr"),
    ("eeg", "test_utf8_annotations.edf"),
    ("ieeg", "sub-pt1_ses-02_task-monitor_acq-ecog_run-01_clip2.lay"),
    ("ieeg", "sample_ecog_ieeg.fif"),
    ("ssvep", "sub-01_ses-01_raw.fif"),
    ("ssvep", "sub-02_ses-01_raw.fif"),
]


def _mne_read(path: Path) -> mne.io.BaseRaw:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.io.read_raw(path, preload=True, verbose="ERROR")


def _load(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nd.load(path, **options)


# --------------------------------------------------------------------------------------
# real recordings against MNE's reader
# --------------------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(("folder", "name"), REAL_FILES, ids=[n for _, n in REAL_FILES])
def test_real_file_equals_mne(folder, name, shared_path):
    path = shared_path(folder, name)
    ds = _load(path)
    raw = _mne_read(path)
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)
    assert ds["signal"].dims == ("time", "channel")
    assert ds.attrs["sfreq"] == raw.info["sfreq"]
    assert list(ds["channel"].values) == raw.ch_names
    assert list(ds["ch_type"].values) == raw.get_channel_types()
    assert list(ds["channel"].values[ds["bad"].values]) == raw.info["bads"]
    ann = raw.annotations
    if not name.startswith("sub-0"):  # ssvep: events come from the -eve.fif sibling
        assert list(ds["label"].values) == [eeg._text(d) for d in ann.description]
        offset = raw.first_time if ann.orig_time is not None else 0.0
        np.testing.assert_allclose(ds["onset"].values, ann.onset - offset)
        np.testing.assert_allclose(ds["duration"].values, ann.duration)
    assert problems(ds, kind=["timeseries"]) == []
    assert ds.attrs["source_format"] and ds.attrs["source"] == str(path)


@pytest.mark.shared_data
def test_lazy_read_equals_eager_and_reads_only_requested_chunks(spy_signal_reads, shared_path):
    path = shared_path("eeg", "physionet_motor_imagery.edf")
    eager = _load(path)
    lazy = _load(path, lazy=True, chunk_seconds=10.0)
    assert lazy["signal"].chunks is not None
    assert lazy["signal"].data.chunks[0][0] == 1280
    calls = spy_signal_reads()
    window = lazy["signal"].sel(time=slice(20.0, 29.99)).values
    np.testing.assert_array_equal(window, eager["signal"].sel(time=slice(20.0, 29.99)).values)
    assert 1 <= len(calls) <= 2  # one or two 10-s chunks, not the whole file
    np.testing.assert_array_equal(lazy["signal"].values, eager["signal"].values)


@pytest.mark.shared_data
def test_utf8_annotations_intact(shared_path):
    ds = _load(shared_path("eeg", "test_utf8_annotations.edf"))
    assert "仰卧" in list(ds["label"].values)


@pytest.mark.shared_data
def test_overlapping_annotations_kept(shared_path):
    ds = _load(shared_path("eeg", "physionet_motor_imagery.edf"))
    onset, duration = ds["onset"].values, ds["duration"].values
    assert ds.sizes["event"] == 38
    assert set(ds["label"].values) == {"T0", "T1", "T2"}
    assert np.all(onset[1:] >= onset[:-1])
    overlapping = (onset[:-1] + duration[:-1]) > onset[1:] + 1e-9
    assert overlapping.sum() == 16  # T0/T1/T2 blocks overlap by up to 25 ms: all kept


@pytest.mark.shared_data
def test_ssvep_events_and_millimetre_positions(shared_path):
    path = shared_path("ssvep", "sub-01_ses-01_raw.fif")
    with pytest.warns(UserWarning, match="millimetres"):
        ds = nd.load(path)
    events = mne.read_events(shared_path("ssvep", "sub-01_ses-01-eve.fif"), verbose="ERROR")
    assert ds.sizes["event"] == len(events)
    assert list(ds["label"].values) == [str(c) for c in events[:, 2]]
    # exactly on the event samples (MNE's annotations hold them to 1 us only)
    np.testing.assert_array_equal(ds["onset"].values * 256.0, events[:, 0])
    assert set(ds["label"].values) <= {"1", "2", "3", "4"}
    raw = _mne_read(path)
    np.testing.assert_allclose(ds["y"].values, [c["loc"][1] / 1000 for c in raw.info["chs"]])
    assert np.nanmax(np.abs(ds["y"].values)) < 0.2
    assert "millimetres" in ds.attrs["history"]
    without = _load(path, events=False)
    assert without.sizes.get("event", 0) == 0


def test_onsets_on_samples_stay_on_them(tmp_path):
    info = mne.create_info(["Cz"], 256.0, "eeg")
    raw = mne.io.RawArray(np.zeros((1, 256 * 20)), info, verbose="ERROR")
    raw.set_annotations(mne.Annotations([3965 / 256, 1.2345678], [0.0, 0.5], ["on", "off"]))
    raw.save(tmp_path / "x_raw.fif", verbose="ERROR")
    ds = _load(tmp_path / "x_raw.fif")
    onset = dict(zip(ds["label"].values, ds["onset"].values))
    assert onset["on"] * 256 == 3965  # MNE gives 15.488281 (1-us rounding)
    # an onset between samples keeps the value MNE has
    mne_onset = dict(zip(raw.annotations.description, raw.annotations.onset))
    assert onset["off"] == mne_onset["off"]
    # and a BrainVision marker lands on that sample (MNE's export floors the 1-us onset)
    back = _load(nd.save(ds, tmp_path / "x.vhdr"))
    assert dict(zip(back["label"].values, back["onset"].values))["Comment/on"] * 256 == 3965


@pytest.mark.shared_data
def test_ieeg_channel_types_and_positions(shared_path):
    ds = _load(shared_path("ieeg", "sample_ecog_ieeg.fif"))
    raw = _mne_read(shared_path("ieeg", "sample_ecog_ieeg.fif"))
    assert set(ds["ch_type"].values) == {"ecog", "seeg"}
    locs = np.array([c["loc"][:3] for c in raw.info["chs"]])
    np.testing.assert_array_equal(np.c_[ds["x"], ds["y"], ds["z"]], locs)
    assert ds["x"].attrs["units"] == "m"


# --------------------------------------------------------------------------------------
# generated files: metadata, mixed rates, bad input
# --------------------------------------------------------------------------------------


def test_generated_fif_metadata(fif_file, raw):
    ds = _load(fif_file)
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)
    assert ds["bad"].values.tolist() == [False, False, False, False, True, False]
    assert list(ds["label"].values) == ["stim/a", "stim/ä", "resp", "仰卧"]
    np.testing.assert_allclose(ds["onset"].values, [0.5, 1.0, 1.2, 2.5])
    assert ds.attrs["start_time"].startswith("2020-09-13T12:26:40")
    assert ds["ch_unit"].values.tolist() == ["V"] * 5 + [""]  # the misc channel has no unit
    assert "units" not in ds["signal"].attrs and "ch_unit" in ds["signal"].attrs["long_name"]
    assert _load(fif_file, channels=NAMES[:5])["signal"].attrs["units"] == "V"


def test_mixed_rates_refused_with_choices(mixed_rate_edf):
    with pytest.raises(FormatError, match=r"different sampling rates.*256 Hz.*32 Hz.*resample="):
        nd.load(mixed_rate_edf)


def test_mixed_rates_resample_on_request(mixed_rate_edf):
    ds = _load(mixed_rate_edf, resample=128)
    assert ds.attrs["sfreq"] == 128.0 and ds.sizes["time"] == 1280
    assert "resampled from 32, 256 Hz to 128 Hz" in ds.attrs["history"]


def test_mixed_rates_one_group_at_its_own_rate(mixed_rate_edf):
    ds = _load(mixed_rate_edf, channels=["Temp"])
    assert ds.attrs["sfreq"] == 32.0 and ds.sizes["time"] == 320
    raw = mne.io.read_raw_edf(mixed_rate_edf, include=["Temp"], preload=True, verbose="ERROR")
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)
    fast = _load(mixed_rate_edf, channels=["Fp1", "Cz"])
    assert fast.attrs["sfreq"] == 256.0


def test_unknown_channel_named(edf_file):
    with pytest.raises(FormatError, match=r"rec.edf: `channels` names \['Nope'\]"):
        nd.load(edf_file, channels=["Nope"])


def test_truncated_edf(edf_file):
    data = edf_file.read_bytes()
    edf_file.write_bytes(data[: len(data) - 700])
    with pytest.raises(FormatError, match=r"rec.edf: header says 4 data records.*truncated"):
        nd.load(edf_file)


def test_edf_header_lying_about_records(edf_file):
    data = bytearray(edf_file.read_bytes())
    data[236:244] = b"40      "  # number of data records: 4 -> 40
    edf_file.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"rec.edf: header says 40 data records, file holds 4.0"):
        nd.load(edf_file)


def test_brainvision_missing_data_file(vhdr_file):
    vhdr_file.with_suffix(".eeg").unlink()
    with pytest.raises(FormatError, match=r"rec.vhdr: .*DataFile 'rec.eeg', which does not exist"):
        nd.load(vhdr_file)


def test_brainvision_truncated_data_file(vhdr_file):
    data_file = vhdr_file.with_suffix(".eeg")
    data_file.write_bytes(data_file.read_bytes()[:-3])
    with pytest.raises(FormatError, match=r"rec.eeg: size .* not a whole number .*truncated"):
        nd.load(vhdr_file)


def test_import_does_not_load_mne():
    code = "import neurodata.loaders.eeg, neurodata.loaders.eeg_export, sys; print('mne' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzzed_edf_header_raises_only_neurodata_errors(tmp_path_factory, edf_bytes, data):
    base = tmp_path_factory.mktemp("fuzz") / "f.edf"
    blob = bytearray(edf_bytes)
    header_len = int(blob[184:192].decode().strip())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, header_len - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    base.write_bytes(bytes(blob))
    try:
        result = _load(base)
    except NeurodataError:
        return
    assert isinstance(result, xr.Dataset)


# --------------------------------------------------------------------------------------
# BIDS
# --------------------------------------------------------------------------------------


def test_bids_sidecars_used(tmp_path, fif_file):
    mne_bids = pytest.importorskip("mne_bids")
    raw = mne.io.read_raw_fif(fif_file, verbose="ERROR")
    raw.set_channel_types({"Stim": "misc"})
    bids_path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=tmp_path / "bids")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne_bids.write_raw_bids(
            raw, bids_path, format="BrainVision", verbose="ERROR", allow_preload=True
        )
    channels_tsv = bids_path.copy().update(suffix="channels", extension=".tsv").fpath
    text = channels_tsv.read_text().replace("Cz\tEEG\tV", "Cz\tEEG\tV", 1)
    lines = text.splitlines()
    header = lines[0].split("\t")
    status = header.index("status")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split("\t")
        if cells[0] == "Cz":
            cells[status] = "bad"
            lines[i] = "\t".join(cells)
    channels_tsv.write_text("\n".join(lines) + "\n")
    vhdr = bids_path.copy().update(suffix="eeg", extension=".vhdr").fpath
    ds = _load(vhdr)
    assert ds.attrs["source_format"].startswith("BIDS")
    assert set(ds["channel"].values[ds["bad"].values]) == {"Cz", "O1"}
    assert "仰卧" in list(ds["label"].values)
    plain = _load(vhdr, bids=False)
    assert set(plain["channel"].values[plain["bad"].values]) == set()


# --------------------------------------------------------------------------------------
# writers and round trips
# --------------------------------------------------------------------------------------


def _edf_step(signal: xr.DataArray) -> np.ndarray:
    span = (signal.max("time") - signal.min("time")).values
    return np.where(span > 0, span, 1.0) / 65535


@pytest.mark.shared_data
def test_round_trip_edf_zarr_edf(tmp_path, shared_path):
    src = _load(shared_path("eeg", "physionet_motor_imagery.edf"))
    nd.save(src, tmp_path / "a.zarr")
    nd.save(nd.open(tmp_path / "a.zarr"), tmp_path / "b.edf")
    back = _load(tmp_path / "b.edf")
    err = np.abs(back["signal"].values - src["signal"].values).max(axis=0)
    print(f"EDF->zarr->EDF max error {err.max():.3g} V")
    assert np.all(err <= 0.5001 * _edf_step(src["signal"]) + 1e-12)  # half a 16-bit step
    assert list(back["channel"].values) == list(src["channel"].values)
    assert list(back["label"].values) == list(src["label"].values)
    np.testing.assert_allclose(back["onset"].values, src["onset"].values, atol=1e-4)
    assert back.attrs["start_time"] == src.attrs["start_time"]


def test_round_trip_fif_netcdf_fif(tmp_path, fif_file):
    src = _load(fif_file)
    nd.save(src, tmp_path / "a.nc")
    nd.save(nd.open(tmp_path / "a.nc"), tmp_path / "b_raw.fif")
    back = _load(tmp_path / "b_raw.fif")
    err = np.abs(back["signal"].values - src["signal"].values).max()
    print(f"FIF->netCDF->FIF max error {err:.3g} V")
    assert err == 0.0  # written as float64
    for name in ("channel", "ch_type", "bad", "label", "onset", "duration"):
        np.testing.assert_array_equal(back[name].values, src[name].values)


def test_brainvision_writer_float32_precision(tmp_path, raw, edf_file):
    src = _load(edf_file)
    nd.save(src, tmp_path / "out.vhdr")
    assert (tmp_path / "out.eeg").is_file() and (tmp_path / "out.vmrk").is_file()
    back = _load(tmp_path / "out.vhdr")
    scale = np.abs(src["signal"].values).max(axis=0)
    err = np.abs(back["signal"].values - src["signal"].values).max(axis=0)
    assert np.all(err <= scale * 2.0**-23)
    # BrainVision markers have a type; MNE writes untyped annotations as "Comment"
    assert list(back["label"].values) == [f"Comment/{x}" for x in src["label"].values]


def test_to_raw_refuses_non_volts(eeg_like):
    eeg_like["signal"].attrs["units"] = "uV"
    with pytest.raises(SchemaError, match="units 'uV'"):
        eeg_export.to_raw(eeg_like)


def test_to_raw_values_and_metadata(eeg_like):
    raw = eeg_export.to_raw(eeg_like)
    np.testing.assert_array_equal(raw.get_data(), eeg_like["signal"].values.T)
    assert raw.info["bads"] == ["Pz"]
    assert list(raw.annotations.description) == ["start", "stim/ä", "stim/b"]
    back = eeg.dataset_from_raw(raw)
    np.testing.assert_array_equal(back["signal"].values, eeg_like["signal"].values)
    np.testing.assert_allclose(back["onset"].values, eeg_like["onset"].values)
