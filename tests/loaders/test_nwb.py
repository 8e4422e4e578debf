"""NWB reader and writer: pynwb is the oracle."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import numpy as np
import pytest

import neurodata as nd
from neurodata.errors import FormatError
from neurodata.schema import problems

pynwb = pytest.importorskip("pynwb")

from neurodata.loaders import nwb as nwb_loader  # noqa: E402


def _read_pynwb(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
        return io, io.read()


def _nwbfile():
    return pynwb.NWBFile(
        session_description="test",
        identifier="id-1",
        session_start_time=datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC),
    )


def _write(nwb, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
    return path


def _electrodes(nwb, n):
    device = nwb.create_device("amp")
    group = nwb.create_electrode_group("shank", "a shank", "CA1", device)
    nwb.add_electrode_column("label", "channel name")
    for i in range(n):
        nwb.add_electrode(
            x=0.001 * i, y=0.002, z=-0.001, location="CA1", group=group, label=f"ch{i}"
        )
    return nwb.create_electrode_table_region(list(range(n)), "all")


@pytest.fixture
def ephys_nwb(tmp_path):
    from pynwb.ecephys import LFP, ElectricalSeries

    nwb = _nwbfile()
    region = _electrodes(nwb, 3)
    rng = np.random.default_rng(0)
    data = rng.integers(-1000, 1000, size=(500, 3), dtype=np.int16)
    nwb.add_acquisition(
        ElectricalSeries(
            name="raw", data=data, electrodes=region, rate=1000.0, starting_time=0.0,
            conversion=1e-6, offset=0.001, channel_conversion=[1.0, 2.0, 0.5],
        )
    )  # fmt: skip
    module = nwb.create_processing_module("ecephys", "processed")
    lfp_data = rng.standard_normal((50, 3))
    module.add(
        LFP(
            electrical_series=ElectricalSeries(
                name="lfp", data=lfp_data, electrodes=region, rate=100.0, starting_time=0.0
            )
        )
    )
    stamps = np.cumsum(rng.uniform(0.01, 0.05, 40))
    nwb.add_acquisition(
        pynwb.TimeSeries(name="speed", data=rng.standard_normal(40), unit="m/s", timestamps=stamps)
    )
    nwb.add_trial_column("stim", "stimulus name")
    for start, stop, stim in [(0.0, 0.3, "a"), (0.2, 0.4, "b"), (0.35, 0.45, "é")]:
        nwb.add_trial(start_time=start, stop_time=stop, stim=stim)
    return _write(nwb, tmp_path / "ephys.nwb"), data, lfp_data, stamps


def test_electrical_series_scaling_and_electrodes(ephys_nwb):
    path, data, _, _ = ephys_nwb
    ds = nd.load(path)
    expected = (data * 1e-6) * np.array([1.0, 2.0, 0.5]) + 0.001
    assert ds["signal"].chunks is not None  # lazy
    np.testing.assert_allclose(ds["signal"].values, expected, rtol=1e-12)
    assert ds["signal"].attrs["units"] == "V"
    assert list(ds["channel"].values) == ["ch0", "ch1", "ch2"]
    np.testing.assert_allclose(ds["x"].values, [0.0, 0.001, 0.002])
    assert list(ds["location"].values) == ["CA1"] * 3
    assert ds.attrs["sfreq"] == 1000.0
    assert ds.attrs["start_time"] == "2021-05-06T07:08:09+00:00"
    assert problems(ds) == []


def test_trials_kept_overlapping_with_columns(ephys_nwb):
    ds = nd.load(ephys_nwb[0])
    np.testing.assert_allclose(ds["onset"].values, [0.0, 0.2, 0.35])
    np.testing.assert_allclose(ds["duration"].values, [0.3, 0.2, 0.1])
    assert list(ds["stim"].values) == ["a", "b", "é"]
    assert list(ds["interval_table"].values) == ["trials"] * 3


def test_lfp_and_irregular_series_by_name(ephys_nwb):
    path, _, lfp, stamps = ephys_nwb
    inventory = nwb_loader.list_series(path)
    assert inventory["processing/ecephys/LFP/lfp"] == "LFP"
    ds = nd.load(path, series="processing/ecephys/LFP/lfp")
    np.testing.assert_array_equal(ds["signal"].values, lfp)
    irregular = nd.load(path, series="acquisition/speed")
    np.testing.assert_array_equal(irregular["time"].values, stamps)
    assert "sfreq" not in irregular.attrs
    assert irregular["speed"].attrs["units"] == "m/s"
    with pytest.raises(FormatError, match="`series` must be among"):
        nd.load(path, series="acquisition/nope")


def _segmentation(nwb, n_rois, ids=None):
    """An ImageSegmentation with one PlaneSegmentation of ``n_rois`` 8x8 masks (pynwb)."""
    from pynwb.ophys import ImageSegmentation, OpticalChannel

    device = nwb.create_device("scope")
    channel = OpticalChannel(name="green", description="GCaMP", emission_lambda=525.0)
    plane = nwb.create_imaging_plane(
        name="plane", optical_channel=channel, description="plane", device=device,
        excitation_lambda=920.0, indicator="GCaMP6", location="V1", imaging_rate=30.0,
    )  # fmt: skip
    segmentation = ImageSegmentation()
    ps = segmentation.create_plane_segmentation("rois", plane, "seg")
    for i in range(n_rois):
        mask = np.zeros((8, 8))
        mask[i, i : i + 2] = 1
        ps.add_roi(image_mask=mask, **({} if ids is None else {"id": ids[i]}))
    return segmentation, ps


def test_ophys_dff_and_non_si_units(tmp_path):
    from pynwb.ophys import DfOverF, RoiResponseSeries

    nwb = _nwbfile()
    segmentation, ps = _segmentation(nwb, 4)
    module = nwb.create_processing_module("ophys", "optical")
    module.add(segmentation)
    rois = ps.create_roi_table_region("all", region=list(range(4)))
    values = np.random.default_rng(0).standard_normal((30, 4))
    module.add(
        DfOverF(
            roi_response_series=RoiResponseSeries(
                name="dff", data=values, rois=rois, unit="a.u.", rate=30.0
            )
        )
    )
    ds = nd.load(_write(nwb, tmp_path / "ophys.nwb"))
    np.testing.assert_array_equal(ds["dff"].values, values)
    assert ds["dff"].dims == ("time", "roi")
    assert "units" not in ds["dff"].attrs and "dF/F" in ds["dff"].attrs["long_name"]
    assert problems(ds) == []


def test_missing_required_group(ephys_nwb, tmp_path):
    import h5py

    path = ephys_nwb[0]
    with h5py.File(path, "a") as f:
        del f["general"]
    with pytest.raises(FormatError, match=r"ephys.nwb: NWB file is missing required .*'general'"):
        nd.load(path)


def test_not_hdf5(tmp_path):
    path = tmp_path / "fake.nwb"
    path.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(FormatError, match=r"fake\.nwb"):
        nd.load(path)


def test_truncated_nwb(ephys_nwb):
    path = ephys_nwb[0]
    path.write_bytes(path.read_bytes()[:4000])
    with pytest.raises(FormatError, match=r"ephys\.nwb"):
        nd.load(path)


# --------------------------------------------------------------------------------------
# real files
# --------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_rutishauser_units_and_tables(shared_path):
    path = shared_path("nwb", "human_single_units_rutishauser.nwb")
    ds = nd.load(path)
    io, nwb = _read_pynwb(path)
    try:
        units = nwb.units
        assert ds.sizes["neuron"] == len(units) == 35
        for i in (0, 17, 34):
            mine = ds["spike_time"].values[ds["spike_neuron"].values == ds["neuron"].values[i]]
            np.testing.assert_array_equal(mine, units["spike_times"][i])
        n_rows = sum(len(t) for t in nwb.intervals.values())
        assert ds.sizes["event"] == n_rows
        enc = nwb.intervals["encoding_table"].to_dataframe()
        first = ds["interval_table"].values == "encoding_table"
        np.testing.assert_array_equal(ds["onset"].values[first], enc["start_time"].values)
        clips = ds["Clip_name"].values[first]
        assert all(isinstance(c, str) and not c.startswith("b'") for c in clips)
        assert clips[0] == enc["Clip_name"].values[0].decode()
        # each unit's electrode columns: positions and impedance as pynwb gives them
        rows = units["electrodes"].data[:]
        for column in ("x", "y", "z", "imp"):
            expected = nwb.electrodes[column].data[:][rows]
            np.testing.assert_array_equal(ds[f"electrode_{column}"].values, expected)
    finally:
        io.close()
    assert set(ds["electrode_location"].values) == {"hippocampus_right", "amygdala_right"}
    assert "start_time" not in ds.attrs  # 1900-01-01 marks an anonymised date
    assert "1900-01-01 is the anonymised placeholder" in ds.attrs["history"]
    assert "acquisition/events" in ds.attrs["nwb_other_series"]
    assert problems(ds) == []
    binned = nd.load(path, bin_size=1.0)
    assert binned["rate"].dims == ("time", "neuron")
    np.testing.assert_allclose(binned["rate"].sum("time").values, ds["n_spikes"].values)


@pytest.mark.shared_data
def test_a8604_units(shared_path):
    ds = nd.load(shared_path("nwb", "A8604-211122.nwb"))
    assert list(ds["neuron"].values) == ["6", "191", "206"]
    assert ds["n_spikes"].values.sum() == ds.sizes["spike"]
    assert list(ds["label"].values) == ["wake"]


@pytest.mark.shared_data
def test_scholz_timeseries_stacked(shared_path):
    path = shared_path("nwb", "celegans_scholz2018.nwb")
    # by default this worm file goes to the C. elegans reader (worm, time, neuron|roi);
    # the generic NWB reader stacks its per-neuron TimeSeries into (time, roi)
    assert nd.io.detect_format(path).name == "celegans-nwb"
    ds = nd.load(path, format="nwb")
    assert ds["Activity"].dims == ("time", "roi") and ds.sizes["roi"] == 62
    io, nwb = _read_pynwb(path)
    try:
        for i in (0, 30, 61):
            ts = nwb.acquisition[f"Activity_{i:04d}"]
            np.testing.assert_array_equal(ds["Activity"].values[:, i], ts.data[:])
            np.testing.assert_array_equal(ds["time"].values, ts.timestamps[:])
    finally:
        io.close()
    assert "units" not in ds["Activity"].attrs  # the file says 'none'
    assert problems(ds, kind="timeseries") == []


# --------------------------------------------------------------------------------------
# writer
# --------------------------------------------------------------------------------------


def test_nwb_writer_round_trip_and_inspector(tmp_path, eeg_like):
    nwbinspector = pytest.importorskip("nwbinspector")
    path = nd.save(eeg_like, tmp_path / "out.nwb")
    messages = list(nwbinspector.inspect_nwbfile(nwbfile_path=str(path)))
    critical = [m for m in messages if m.importance.name == "CRITICAL"]
    assert critical == []
    back = nd.load(path)
    np.testing.assert_array_equal(back["signal"].values, eeg_like["signal"].values)
    for name in ("channel", "ch_type", "bad"):
        assert list(back[name].values) == list(eeg_like[name].values)
    assert list(back["label"].values) == list(eeg_like["label"].values)
    np.testing.assert_allclose(back["onset"].values, eeg_like["onset"].values)
    np.testing.assert_allclose(back["duration"].values, eeg_like["duration"].values)
    assert back.attrs["start_time"] == eeg_like.attrs["start_time"]


def test_nwb_to_nwb_keeps_every_electrode_column(tmp_path):
    # imp, filtering and a file's own column survive NWB -> neurodata -> NWB, and the
    # electrode ids of a channel subset stay theirs (pynwb reads the written table)
    from pynwb.ecephys import ElectricalSeries

    nwb = _nwbfile()
    device = nwb.create_device("amp")
    group = nwb.create_electrode_group("shank", "a shank", "CA1", device)
    nwb.add_electrode_column("depth_um", "depth along the shank")
    for i in range(4):
        nwb.add_electrode(location="CA1", group=group, imp=1e5 + i, filtering="300-6000 Hz",
                          depth_um=10.0 * i, x=0.0, y=0.0, z=0.0)  # fmt: skip
    region = nwb.create_electrode_table_region(list(range(4)), "all")
    data = np.random.default_rng(1).standard_normal((200, 4)) * 1e-5
    nwb.add_acquisition(ElectricalSeries(name="raw", data=data, electrodes=region, rate=1e3))
    src = nd.load(_write(nwb, tmp_path / "src.nwb")).load().isel(channel=[3, 1])
    back = nd.load(nd.save(src, tmp_path / "back.nwb")).load()
    for name in ("imp", "filtering", "depth_um", "electrode"):
        assert list(back[name].values) == list(src[name].values), name
    io, written = _read_pynwb(tmp_path / "back.nwb")
    with io:
        table = written.electrodes.to_dataframe()
    assert list(table.index) == [3, 1]
    assert list(table["imp"]) == [1e5 + 3, 1e5 + 1]
    assert list(table["depth_um"]) == [30.0, 10.0]
    np.testing.assert_array_equal(back["signal"].values, data[:, [3, 1]])


@pytest.mark.shared_data
def test_round_trip_brainvision_nwb_zarr(tmp_path, shared_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = nd.load(shared_path("eeg", "bv_dig_test.vhdr"))
    nd.save(src, tmp_path / "a.nwb")
    nd.save(nd.load(tmp_path / "a.nwb"), tmp_path / "b.zarr")
    back = nd.open(tmp_path / "b.zarr")
    err = float(np.abs(back["signal"].values - src["signal"].values).max())
    print(f"BrainVision->NWB->zarr max error {err:.3g} V")
    assert err == 0.0  # NWB stores float64
    assert list(back["channel"].values) == list(src["channel"].values)
    assert list(back["label"].values) == list(src["label"].values)
