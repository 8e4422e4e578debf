"""NWB ophys against pynwb: ROI ids, PlaneSegmentation columns, several series, both clocks."""

from __future__ import annotations

import numpy as np
import pytest

import neurodata as nd
from neurodata.errors import FormatError

pynwb = pytest.importorskip("pynwb")

from tests.loaders.test_nwb import _electrodes, _nwbfile, _read_pynwb, _segmentation, _write  # noqa: E402

FLUO = "processing/ophys/Fluorescence/RoiResponseSeries"
DFF = "processing/ophys/DfOverF/dff"


def _ophys_file(path, *, timestamps: bool, other_rois: bool = False):
    from pynwb.ophys import DfOverF, Fluorescence

    nwb = _nwbfile()
    segmentation, ps = _segmentation(nwb, 5, ids=[100 + i for i in range(5)])  # not row numbers
    ps.add_column("iscell", "classifier says cell", data=[True, False, True, True, False])
    ps.add_column("probcell", "cell probability", data=[0.9, 0.1, 0.8, 0.7, 0.2])
    module = nwb.create_processing_module("ophys", "optical")
    module.add(segmentation)
    rng = np.random.default_rng(0)
    raw = rng.uniform(100, 200, size=(60, 3))
    clock = (
        {"timestamps": 0.5 + np.arange(60) / 29.97 + rng.uniform(0, 1e-3, 60)}
        if timestamps
        else {"rate": 29.97, "starting_time": 0.5}
    )
    fluorescence, dff = Fluorescence(), DfOverF()
    fluorescence.create_roi_response_series(
        name="RoiResponseSeries", data=raw, unit="lumens", conversion=0.5,
        rois=ps.create_roi_table_region("cells", region=[0, 2, 3]), **clock,
    )  # fmt: skip
    dff.create_roi_response_series(
        name="dff", data=(raw - 150) / 150, unit="n.a.",
        rois=ps.create_roi_table_region("some", region=[0, 1, 2] if other_rois else [0, 2, 3]),
        **clock,
    )  # fmt: skip
    module.add(fluorescence)
    module.add(dff)
    return _write(nwb, path)


@pytest.mark.parametrize("timestamps", [False, True], ids=["rate", "timestamps"])
def test_roi_ids_columns_and_values_match_pynwb(tmp_path, timestamps):
    path = _ophys_file(tmp_path / "ophys.nwb", timestamps=timestamps)
    ds = nd.load(path, series=[FLUO, DFF])
    io, nwb = _read_pynwb(path)
    try:
        fluo = nwb.processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        dff = nwb.processing["ophys"]["DfOverF"]["dff"]
        rows = fluo.rois.data[:]
        table = fluo.rois.table
        np.testing.assert_array_equal(ds["roi"].values, table.id[:][rows])  # 100, 102, 103
        np.testing.assert_array_equal(ds["iscell"].values, table["iscell"].data[:][rows])
        np.testing.assert_array_equal(ds["probcell"].values, table["probcell"].data[:][rows])
        np.testing.assert_allclose(ds["activity"].values, fluo.data[:] * fluo.conversion)
        np.testing.assert_array_equal(ds["dff"].values, dff.data[:])
        if timestamps:
            np.testing.assert_array_equal(ds["time"].values, fluo.timestamps[:])
            assert "sfreq" not in ds.attrs
        else:
            expected = fluo.starting_time + np.arange(60) / fluo.rate
            np.testing.assert_allclose(ds["time"].values, expected, rtol=0, atol=1e-12)
            assert ds.attrs["sfreq"] == fluo.rate
    finally:
        io.close()
    assert "image_mask" not in ds.coords
    assert ds["activity"].attrs["long_name"].endswith("(unit in file: 'lumens')")


def test_default_read_is_dff_with_ids(tmp_path):
    ds = nd.load(_ophys_file(tmp_path / "ophys.nwb", timestamps=False))
    assert list(ds.data_vars) == ["dff"]
    assert ds["roi"].values.tolist() == [100, 102, 103]
    assert ds.attrs["nwb_other_series"] == [FLUO]


def test_series_over_other_rois_refused(tmp_path):
    path = _ophys_file(tmp_path / "ophys.nwb", timestamps=False, other_rois=True)
    with pytest.raises(FormatError, match=r"covers ROIs \[100, 101, 102\].*read them separately"):
        nd.load(path, series=[FLUO, DFF])


def test_two_electrical_series_refused(tmp_path):
    from pynwb.ecephys import ElectricalSeries

    nwb = _nwbfile()
    region = _electrodes(nwb, 2)
    for name in ("a", "b"):
        nwb.add_acquisition(
            ElectricalSeries(name=name, data=np.zeros((10, 2)), electrodes=region, rate=100.0)
        )
    path = _write(nwb, tmp_path / "two.nwb")
    with pytest.raises(FormatError, match="an ElectricalSeries is read on its own"):
        nd.load(path, series=["acquisition/a", "acquisition/b"])


def test_nwb_to_nwb_keeps_electrode_locations_and_groups(tmp_path):
    """Read with neurodata, write with neurodata, read back with pynwb: the brain areas stay."""
    from pynwb.ecephys import ElectricalSeries

    nwb = _nwbfile()
    device = nwb.create_device("probe")
    shanks = {
        "shank0": nwb.create_electrode_group("shank0", "first", "CA1", device),
        "shank1": nwb.create_electrode_group("shank1", "second", "DG", device),
    }
    layout = [("shank0", "CA1"), ("shank0", "CA1"), ("shank1", "DG"), ("shank1", "CA3")]
    for i, (group, location) in enumerate(layout):
        nwb.add_electrode(x=0.001 * i, y=0.0, z=0.0, location=location, group=shanks[group])
    region = nwb.create_electrode_table_region(list(range(4)), "all")
    data = np.random.default_rng(1).standard_normal((50, 4))
    nwb.add_acquisition(ElectricalSeries(name="es", data=data, electrodes=region, rate=500.0))
    source = _write(nwb, tmp_path / "source.nwb")
    out = nd.save(nd.load(source), tmp_path / "copy.nwb")
    io, back = _read_pynwb(out)
    try:
        table = back.electrodes.to_dataframe()
        assert table["location"].tolist() == [loc for _, loc in layout]
        assert table["group_name"].tolist() == [g for g, _ in layout]
        assert back.electrode_groups["shank0"].location == "CA1"
        assert back.electrode_groups["shank1"].location in ("DG", "CA3")
        np.testing.assert_array_equal(back.acquisition["ElectricalSeries"].data[:], data)
    finally:
        io.close()
