"""Worm loaders: Flavell HDF5 + NeuroPAL, homogenized table/records, NWB TimeSeries."""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import neurodata as nd
from neurodata.celegans import neurons
from neurodata.errors import FormatError, NotFoundError
from neurodata.loaders.celegans import build_worm, from_worm_records, read_homogenized

FLAVELL = "2022-07-26-31"


def _write_flavell(path: Path, traces, times, **behavior) -> Path:
    with h5py.File(path, "w") as fh:
        fh["gcamp/trace_array"] = traces
        fh["timing/timestamp_confocal"] = times
        for key, values in behavior.items():
            fh[f"behavior/{key}"] = values
    return path


def _write_labels(path: Path, uid: str, rows) -> Path:
    frame = pd.DataFrame(rows, columns=["roi", "label", "confidence"])
    frame.insert(0, "uid", uid)
    frame["roi_py0"] = frame["roi"] - 1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def worm(tmp_path, rng):
    n_t, n_roi = 50, 7
    traces = rng.standard_normal((n_t, n_roi))
    times = 1000.0 + np.cumsum(rng.uniform(0.55, 0.65, n_t))
    h5 = _write_flavell(tmp_path / "w1-data.h5", traces, times, velocity=rng.standard_normal(n_t))
    rows = [
        (1, "AVAL", 5.0),  # identified
        (2, "VB02", 4.0),  # zero-padded -> VB2
        (3, "RIAR?", 3.0),  # uncertain, names a neuron
        (4, "SAAD?", 2.0),  # uncertain, names no single neuron (SAADL or SAADR)
        (5, "URADL", 4.0),  # duplicate ...
        (6, "URADL", 3.0),  # ... of ROI 5
    ]  # ROI 7 unlabelled
    csv = _write_labels(tmp_path / "w1_neuropal_labels.csv", "w1", rows)
    return h5, csv, traces, times - times[0]


def _load(h5, csv, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return nd.load(h5, labels=csv, **kw)


def test_synthetic_worm_every_case(worm):
    h5, csv, traces, times = worm
    with pytest.warns(UserWarning, match=r"URADL \(ROIs \[5, 6\]\)"):
        ds = nd.load(h5, labels=csv)
    assert ds["activity"].dims == ("worm", "time", "neuron")
    assert ds.sizes == {"worm": 1, "time": 50, "neuron": 302, "roi": 4}
    act = ds["activity"].isel(worm=0)
    np.testing.assert_array_equal(act.sel(neuron="AVAL"), traces[:, 0])
    np.testing.assert_array_equal(act.sel(neuron="VB2"), traces[:, 1])
    np.testing.assert_array_equal(act.sel(neuron="RIAR"), traces[:, 2])
    filled = act.notnull().any("time")
    assert sorted(ds["neuron"].values[filled.values]) == ["AVAL", "RIAR", "VB2"]
    assert bool(ds["neuron_uncertain"].sel(worm="w1", neuron="RIAR"))
    assert not bool(ds["neuron_uncertain"].sel(worm="w1", neuron="AVAL"))
    assert float(ds["neuron_confidence"].sel(worm="w1", neuron="AVAL")) == 5.0
    assert float(ds["neuron_roi"].sel(worm="w1", neuron="VB2")) == 2
    assert ds["neuron_label"].sel(worm="w1", neuron="VB2").item() == "VB02"
    # the duplicate is reported, never resolved
    assert bool(ds["neuron_duplicate"].sel(worm="w1", neuron="URADL"))
    assert act.sel(neuron="URADL").isnull().all()
    status = dict(zip(ds["roi"].values.tolist(), ds["roi_status"].values[0].tolist()))
    assert status == {4: "ambiguous", 5: "duplicate", 6: "duplicate", 7: "unlabelled"}
    np.testing.assert_array_equal(ds["activity_roi"].sel(worm="w1", roi=4), traces[:, 3])
    np.testing.assert_allclose(ds["timestamps"].values[0], times)
    assert ds["timestamps"].attrs["units"] == "s"
    assert ds["velocity"].dims == ("worm", "time")
    assert ds.attrs["n_identified"] == 3
    assert ds.attrs["source_format"] == "flavell-hdf5"
    nd.validate(ds, "timeseries")


def test_uncertain_exclude_and_min_confidence(worm):
    h5, csv, traces, _ = worm
    ds = _load(h5, csv, uncertain="exclude")
    assert ds["activity"].sel(neuron="RIAR").isnull().all()
    assert ds["roi_status"].sel(worm="w1", roi=3).item() == "uncertain-excluded"
    np.testing.assert_array_equal(ds["activity_roi"].sel(worm="w1", roi=3), traces[:, 2])
    ds = _load(h5, csv, min_confidence=4.5)
    assert ds["activity"].sel(neuron="VB2").isnull().all()
    assert ds["roi_status"].sel(worm="w1", roi=2).item() == "low-confidence"


def test_every_roi_is_kept_exactly_once(worm):
    h5, csv, traces, _ = worm
    ds = _load(h5, csv)
    placed = int(ds["neuron_roi"].notnull().sum())
    assert placed + ds.sizes["roi"] == traces.shape[1]
    assert set(ds["neuron_roi"].values[0][~np.isnan(ds["neuron_roi"].values[0])]).isdisjoint(
        ds["roi"].values
    )


def test_errors(worm, tmp_path):
    h5, csv, _, _ = worm
    with pytest.raises(FormatError, match="several ROIs carry the same label: URADL"):
        nd.load(h5, labels=csv, duplicates="raise")
    with pytest.raises(ValueError, match=r"`uncertain` must be one of \['exclude', 'include'\]"):
        nd.load(h5, labels=csv, uncertain="maybe")
    other = _write_labels(tmp_path / "w2_neuropal_labels.csv", "w2", [(1, "AVAL", 5.0)])
    with pytest.raises(FormatError, match="label table is for worm"):
        nd.load(h5, labels=other)
    beyond = _write_labels(tmp_path / "w1b.csv", "w1", [(9, "AVAL", 5.0)])
    with pytest.raises(FormatError, match=r"ROI numbers must be within 1\.\.7"):
        nd.load(h5, labels=beyond)
    with pytest.raises(NotFoundError, match="no such label table"):
        nd.load(h5, labels=tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="`signal` must be one of"):
        nd.load(h5, labels=csv, signal="nope")


def test_without_labels_everything_is_an_roi(worm):
    h5, _, traces, _ = worm
    ds = nd.load(h5, labels=False)
    assert ds["activity"].isnull().all()
    assert ds.sizes["roi"] == traces.shape[1]
    assert (ds["roi_status"] == "unlabelled").all()
    assert ds.attrs["labels"] == ""


def test_label_table_beside_the_file_is_found_or_its_absence_said(worm):
    h5, csv, _, _ = worm
    found = _load(h5, None)  # labels=None: <uid>_neuropal_labels.csv beside the file
    xr.testing.assert_identical(found, _load(h5, csv))
    assert found.attrs["labels"] == str(csv)
    csv.rename(csv.with_name("elsewhere.csv"))
    with pytest.warns(UserWarning, match=r"w1-data\.h5: no NeuroPAL label table beside it "
                                         r"\(looked for w1_neuropal_labels\.csv\)"):  # fmt: skip
        alone = nd.load(h5)
    assert alone["activity"].isnull().all() and alone.attrs["labels"] == ""
    with pytest.raises(NotFoundError, match="no NeuroPAL label table beside it"):
        nd.load(h5, labels=True)


def test_sniffer_picks_flavell_for_h5(worm):
    h5, *_ = worm
    assert nd.io.detect_format(h5).name == "flavell"


def test_save_and_open_round_trip(worm, tmp_path):
    h5, csv, _, _ = worm
    ds = _load(h5, csv)
    out = nd.save(ds, tmp_path / "w1.nc")
    back = nd.open(out).load()
    np.testing.assert_array_equal(back["activity"].values, ds["activity"].values)
    assert back["roi_status"].values.tolist() == ds["roi_status"].values.tolist()
    assert back["neuron_uncertain"].dtype == bool


def test_summary_counts_identified_neurons(worm):
    from neurodata.summary import summarize

    h5, csv, _, _ = worm
    assert summarize(_load(h5, csv))["identified_neurons"] == {"w1": 3}


# -- real Flavell files -----------------------------------------------------------------


def _real(shared_data, uid):
    folder = shared_data / "celegans" / "flavell2023"
    h5, csv = folder / f"{uid}-data.h5", folder / f"{uid}_neuropal_labels.csv"
    if not h5.exists() or not csv.exists():
        pytest.skip(f"Flavell worm {uid} not available")
    return h5, csv


def test_real_worm_rial_is_roi_5(shared_data):
    h5, csv = _real(shared_data, FLAVELL)
    ds = nd.load(h5, labels=csv)
    with h5py.File(h5, "r") as fh:
        raw = fh["gcamp/trace_array"][()]
        stamps = fh["timing/timestamp_confocal"][()]
    np.testing.assert_array_equal(ds["activity"].sel(worm=FLAVELL, neuron="RIAL"), raw[:, 4])
    assert float(ds["neuron_roi"].sel(worm=FLAVELL, neuron="RIAL")) == 5
    np.testing.assert_allclose(ds["timestamps"].values[0], stamps - stamps[0])
    # uncertain label "SAAD?" (SAADL or SAADR) stays an ROI, marked
    saad = ds["roi_label"].values[0] == "SAAD?"
    assert saad.sum() == 1
    assert ds["roi_status"].values[0][saad][0] == "ambiguous"


@pytest.mark.parametrize(
    "uid", ["2022-07-26-31", "2022-07-26-38", "2022-07-27-31", "2022-07-27-38"]
)
def test_real_worms_every_labelled_roi_in_its_slot(shared_data, uid):
    h5, csv = _real(shared_data, uid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = nd.load(h5, labels=csv)
    table = pd.read_csv(csv)
    with h5py.File(h5, "r") as fh:
        raw = fh["gcamp/trace_array"][()]
    names = table["label"].map(nd.celegans.normalize_name)
    counts = names.value_counts()
    expected = set()
    for _, row in table.assign(neuron=names).iterrows():
        name = row["neuron"]
        if not nd.celegans.is_neuron(name.rstrip("?")) or counts[name] > 1:
            continue
        slot = name.rstrip("?")
        expected.add(slot)
        np.testing.assert_array_equal(
            ds["activity"].sel(worm=uid, neuron=slot), raw[:, row["roi"] - 1]
        )
        assert bool(ds["neuron_uncertain"].sel(worm=uid, neuron=slot)) == name.endswith("?")
    filled = ds["activity"].isel(worm=0).notnull().any("time")
    assert set(ds["neuron"].values[filled.values]) == expected  # NaN everywhere else
    assert ds.attrs["n_identified"] == len(expected)
    dup = sorted(n for n, c in counts.items() if c > 1 and nd.celegans.is_neuron(n.rstrip("?")))
    assert sorted(ds["neuron"].values[ds["neuron_duplicate"].values[0]]) == dup
    assert bool(dup) == any("same label" in str(w.message) for w in caught)
    # every ROI is either in a slot or in activity_roi
    assert ds.attrs["n_identified"] + ds.sizes["roi"] == raw.shape[1]


# -- homogenized dataset ----------------------------------------------------------------


def _homogenized_table(rng):
    """Rows as written by worm-graph's parquet converter (one per worm and neuron)."""
    rows = []
    for worm, n_t, names in (
        ("worm0", 30, ["AVAL", "AVAR", "12"]),
        ("worm1", 20, ["RIAL", "VB02"]),
    ):
        t = np.arange(n_t) / 3.0
        for slot, name in enumerate(names):
            rows.append(
                {
                    "source_dataset": "Synthetic2024",
                    "worm": worm,
                    "neuron": name,
                    "slot": slot,
                    "is_labeled_neuron": not name.isdigit(),
                    "is_unlabeled_neuron": name.isdigit(),
                    "original_calcium_data": rng.standard_normal(n_t).astype(np.float32),
                    "calcium_data": rng.standard_normal(n_t).astype(np.float32),
                    "original_time_in_seconds": t.astype(np.float32),
                    "time_in_seconds": t.astype(np.float32),
                }
            )
    return pd.DataFrame(rows)


def test_homogenized_table(rng):
    table = _homogenized_table(rng)
    worms = read_homogenized(table)
    assert [w["worm"].item() for w in worms] == ["Synthetic2024/worm0", "Synthetic2024/worm1"]
    first = worms[0]
    np.testing.assert_array_equal(
        first["activity"].sel(neuron="AVAL").values[0], table["original_calcium_data"][0]
    )
    assert first.sizes["roi"] == 1 and first["roi_status"].item() == "unlabelled"
    assert worms[1]["activity"].sel(neuron="VB2").notnull().all()
    stacked = nd.celegans.stack(worms)
    assert stacked.sizes["time"] == 30
    assert stacked["timestamps"].sel(worm="Synthetic2024/worm1").isnull().sum() == 10


def test_homogenized_records_ignore_zero_filled_slots(rng):
    data = np.zeros((25, 302))
    data[:, 10] = rng.standard_normal(25)
    data[:, 40] = rng.standard_normal(25)
    record = {
        "original_calcium_data": data,
        "original_time_in_seconds": np.arange(25)[:, None] / 3.0,
        "slot_to_neuron": {10: "AVAL", 40: "7"},
        "source_dataset": "Synthetic2024",
    }
    (ds,) = from_worm_records({"worm0": record})
    assert ds.attrs["n_identified"] == 1
    np.testing.assert_array_equal(ds["activity"].sel(neuron="AVAL").values[0], data[:, 10])
    assert int(ds["activity"].notnull().any("time").sum()) == 1  # zeros never become data
    np.testing.assert_array_equal(ds["activity_roi"].sel(roi=40).values[0], data[:, 40])
    with pytest.raises(FormatError, match="record lacks keys"):
        from_worm_records({"worm0": {"calcium_data": data}})


def test_homogenized_table_missing_columns():
    with pytest.raises(FormatError, match="lacks columns"):
        read_homogenized(pd.DataFrame({"worm": ["a"]}))


# -- NWB TimeSeries per neuron ------------------------------------------------------------


def test_scholz_nwb(shared_data):
    from neurodata.loaders.celegans import read_nwb_timeseries

    path = shared_data / "nwb" / "celegans_scholz2018.nwb"
    if not path.exists():
        pytest.skip("Scholz NWB file not available")
    ds = read_nwb_timeseries(path)
    assert ds.sizes["roi"] == 62 and ds.sizes["time"] == 2244
    assert ds["activity"].isnull().all()  # the neurons are unnamed
    with h5py.File(path, "r") as fh:
        np.testing.assert_array_equal(
            ds["activity_roi"].sel(roi=12).values[0], fh["acquisition/Activity_0012/data"][()]
        )
        np.testing.assert_allclose(
            ds["timestamps"].values[0], fh["acquisition/Activity_0012/timestamps"][()]
        )
    assert ds["worm"].item() == "BrainScanner20180223_141721"


def test_build_worm_shape_errors():
    with pytest.raises(FormatError, match="one time per row"):
        build_worm(np.zeros((5, 2)), np.zeros(4), worm="x")
    assert len(neurons()) == 302


def _write_nwb_timeseries(path: Path, series: dict[str, np.ndarray], times: np.ndarray) -> Path:
    """The layout of the Scholz showcase file, written with h5py (no pynwb needed)."""
    with h5py.File(path, "w") as fh:
        fh.attrs["nwb_version"] = "2.1.0"
        fh.attrs["neurodata_type"] = "NWBFile"
        fh["identifier"] = b"synthetic-worm"
        fh["session_start_time"] = b"2020-06-18T10:07:10+01:00"
        for i, (desc, data) in enumerate(series.items()):
            group = fh.create_group(f"acquisition/Activity_{i:04d}")
            group.attrs["neurodata_type"] = "TimeSeries"
            group.attrs["description"] = f"Neuron: {desc}"
            group["data"] = data
            group["timestamps"] = times
    return path


def test_nwb_timeseries_named_neurons(tmp_path, rng):
    times = np.arange(40) / 6.0
    series = {
        "AVAL": rng.standard_normal(40),
        "3": rng.standard_normal(40),
        "VB02": rng.standard_normal(40),
    }
    path = _write_nwb_timeseries(tmp_path / "worm.nwb", series, times)
    assert nd.io.detect_format(path).name == "celegans-nwb"
    ds = nd.load(path)
    np.testing.assert_array_equal(ds["activity"].sel(neuron="AVAL").values[0], series["AVAL"])
    np.testing.assert_array_equal(ds["activity"].sel(neuron="VB2").values[0], series["VB02"])
    assert list(ds["roi"].values) == [1]  # "Neuron: 3" is unnamed: Activity_0001
    assert ds.attrs["start_time"] == "2020-06-18T10:07:10+01:00"
    assert ds["worm"].item() == "synthetic-worm"


def test_scholz_nwb_through_load(shared_data):
    path = shared_data / "nwb" / "celegans_scholz2018.nwb"
    if not path.exists():
        pytest.skip("Scholz NWB file not available")
    assert nd.io.detect_format(path).name == "celegans-nwb"
    assert nd.load(path).sizes["roi"] == 62


def test_homogenized_parquet_through_load(tmp_path, rng):
    pytest.importorskip("pyarrow")
    path = tmp_path / "worms.parquet"
    _homogenized_table(rng).to_parquet(path)
    ds = nd.load(path)
    assert ds.sizes["worm"] == 2
    assert ds["activity"].sel(worm="Synthetic2024/worm0", neuron="AVAL").notnull().all()


def test_cli_info_and_convert(worm, tmp_path):
    from click.testing import CliRunner

    from neurodata.cli import cli

    h5, csv, traces, _ = worm
    runner = CliRunner()
    result = runner.invoke(cli, ["info", str(h5), "-o", f"labels={csv}"])
    assert result.exit_code == 0, result.output
    assert "identified neurons per worm: w1=3" in result.output
    out = tmp_path / "w1.zarr"
    result = runner.invoke(cli, ["convert", str(h5), str(out), "-o", f"labels={csv}", "-q"])
    assert result.exit_code == 0, result.output
    back = nd.open(out)
    np.testing.assert_array_equal(back["activity"].sel(neuron="AVAL").values[0], traces[:, 0])
    assert back["roi_status"].values[0].tolist() == [
        "ambiguous",
        "duplicate",
        "duplicate",
        "unlabelled",
    ]


def test_label_table_quirks(tmp_path, rng):
    """Blank labels are unlabelled; a ROI with two different labels is ambiguous."""
    traces = rng.standard_normal((20, 4))
    h5 = _write_flavell(tmp_path / "w9-data.h5", traces, np.arange(20) * 0.6)
    rows = [(1, "AVAL", 5.0), (1, "AVAL", 4.0), (2, "AIYL", 3.0), (2, "AIYR", 3.0), (3, None, 2.0)]
    csv = _write_labels(tmp_path / "w9.csv", "w9", rows)
    ds = nd.load(h5, labels=csv)
    np.testing.assert_array_equal(ds["activity"].sel(neuron="AVAL").values[0], traces[:, 0])
    assert float(ds["neuron_confidence"].sel(worm="w9", neuron="AVAL")) == 5.0
    assert ds["roi_label"].sel(worm="w9", roi=2).item() == "AIYL|AIYR"
    assert ds["roi_status"].sel(worm="w9", roi=2).item() == "ambiguous"
    assert ds["roi_status"].sel(worm="w9", roi=3).item() == "unlabelled"
    assert ds["activity"].sel(neuron=["AIYL", "AIYR"]).isnull().all()


def test_renamed_file_takes_worm_id(worm, tmp_path):
    h5, csv, _, _ = worm
    renamed = tmp_path / "renamed.h5"
    renamed.write_bytes(h5.read_bytes())
    with pytest.raises(FormatError, match="pass worm= if the file was renamed"):
        nd.load(renamed, labels=csv)
    ds = _load(renamed, csv, worm="w1")
    assert ds["worm"].item() == "w1" and ds.attrs["n_identified"] == 3
