"""Collections: one lazy (subject, ...) view over many recordings, and sharded stores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import neurodata as nd
from neurodata.collections import (
    JOINS,
    CollectionError,
    MismatchError,
    open_collection,
    write_collection,
)
from neurodata.errors import FormatError, OutputExistsError, SchemaError

mne = pytest.importorskip("mne")
pytest.importorskip("pybv")

N_SUBJECTS = 4


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory):
    from neurodata.datasets.eeg_collection import make_eeg_collection

    root = tmp_path_factory.mktemp("bids")
    return make_eeg_collection(root, N_SUBJECTS, n_channels=6, duration=8.0, seed=3)


def _recording(n_time=500, channels=("Cz", "Pz", "Oz"), sfreq=100.0, seed=0, n_event=2):
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "signal": (("time", "channel"), rng.standard_normal((n_time, len(channels))) * 1e-5),
            "onset": ("event", np.arange(n_event, dtype=float), {"units": "s"}),
            "label": ("event", np.array([f"e{i}" for i in range(n_event)], dtype=object)),
        },
        coords={
            "time": ("time", np.arange(n_time) / sfreq, {"units": "s"}),
            "channel": ("channel", np.array(channels, dtype=object)),
            "bad": ("channel", np.zeros(len(channels), dtype=bool)),
        },
        attrs={"sfreq": sfreq, "source": f"rec{seed}"},
    )


def _stores(tmp_path, recordings):
    paths = []
    for i, ds in enumerate(recordings):
        path = tmp_path / f"sub-{i + 1:02d}_task-x_eeg.zarr"
        nd.save(ds, path)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------
# opening: lazy, labelled, with metadata
# --------------------------------------------------------------------------------------


def test_open_bids_root_reads_no_signal(bids_root, monkeypatch):
    from neurodata.loaders import eeg

    def refuse(self, key):
        raise AssertionError("a signal was read while opening the collection")

    monkeypatch.setattr(eeg._RawArray, "__getitem__", refuse)
    ds = open_collection(bids_root)
    assert ds["signal"].dims == ("subject", "time", "channel")
    assert ds.sizes["subject"] == N_SUBJECTS
    assert ds["signal"].chunks is not None  # dask-backed, nothing computed
    # the read happens at compute; its error names the file (FormatError, issue 18 item 8)
    with pytest.raises(FormatError, match=r"sub-001_task-rest_eeg\.vhdr: .*was read"):
        ds["signal"].isel(subject=0).compute()


def test_values_match_mne_reading_each_file(bids_root):
    ds = open_collection(bids_root)
    for i, subject in enumerate(ds["subject"].values):
        vhdr = bids_root / subject / "eeg" / f"{subject}_task-rest_eeg.vhdr"
        raw = mne.io.read_raw_brainvision(vhdr, preload=True, verbose="ERROR")
        np.testing.assert_array_equal(ds["signal"].isel(subject=i).values, raw.get_data().T)
        assert list(ds["channel"].values) == raw.ch_names


def test_participants_become_subject_coordinates(bids_root):
    ds = open_collection(bids_root)
    table = pd.read_csv(bids_root / "participants.tsv", sep="\t").set_index("participant_id")
    np.testing.assert_array_equal(ds["age"].values, table.loc[ds["subject"].values, "age"])
    assert list(ds["sex"].values) == list(table.loc[ds["subject"].values, "sex"])
    assert ds["age"].dims == ("subject",)
    # attrs that differ between recordings (provenance) become coordinates too
    assert ds["source"].dims == ("subject",)
    assert all(s in src for s, src in zip(ds["subject"].values, ds["source"].values))
    assert "source" not in ds.attrs and ds.attrs["sfreq"] == 250.0


def test_metadata_table_merges_over_participants_and_marks_missing(bids_root):
    extra = pd.DataFrame(
        {"participant_id": ["001", "sub-002"], "iq": [101, 97], "sex": ["X", "Y"], "site": "A"}
    )
    ds = open_collection(bids_root, metadata=extra)
    assert ds["iq"].values[:2].tolist() == [101.0, 97.0]
    assert np.isnan(ds["iq"].values[2:]).all()  # missing numbers are NaN, never 0
    assert ds["site"].values.tolist() == ["A", "A", "n/a", "n/a"]
    assert ds["sex"].values[:2].tolist() == ["X", "Y"]  # the table passed in wins
    ds = open_collection(bids_root, metadata={"sub-003": {"group": "patient"}})
    assert ds["group"].values.tolist() == ["n/a", "n/a", "patient", "n/a"]


def test_subjects_filter_and_order(bids_root):
    ds = open_collection(bids_root, subjects=["003", "sub-001"])
    assert ds["subject"].values.tolist() == ["sub-003", "sub-001"]
    with pytest.raises(CollectionError, match=r"sub-999.*no recording"):
        open_collection(bids_root, subjects=["sub-999"])


def test_entities_filter(bids_root):
    assert open_collection(bids_root, entities={"task": "rest"}).sizes["subject"] == N_SUBJECTS
    with pytest.raises(CollectionError, match=r"no BIDS recordings.*'task': 'other'"):
        open_collection(bids_root, entities={"task": "other"})


def test_two_recordings_of_one_subject_are_refused(tmp_path):
    a, b = _stores(tmp_path, [_recording(seed=0), _recording(seed=1)])
    twin = tmp_path / "sub-01_task-y_eeg.zarr"
    b.rename(twin)
    with pytest.raises(CollectionError, match=r"sub-01_task-y_eeg.zarr: subject 'sub-01' already"):
        open_collection([a, twin])


def test_bad_join_and_sources():
    with pytest.raises(ValueError, match=r"`join` must be one of \['auto'"):
        open_collection(["x"], join="left")
    assert JOINS == ("auto", "exact", "inner", "outer", "tree")
    with pytest.raises(CollectionError, match="empty list"):
        open_collection([])


# --------------------------------------------------------------------------------------
# recordings that differ: errors, DataTree, explicit padding or cutting
# --------------------------------------------------------------------------------------


def test_equal_recordings_stack_and_keep_per_subject_coords(tmp_path):
    recs = [_recording(seed=i) for i in range(3)]
    recs[1] = recs[1].assign_coords(bad=("channel", np.array([False, True, False])))
    ds = open_collection(_stores(tmp_path, recs))
    assert isinstance(ds, xr.Dataset)
    for i, rec in enumerate(recs):
        np.testing.assert_array_equal(ds["signal"].isel(subject=i), rec["signal"])
    assert ds["bad"].dims == ("subject", "channel")  # differs per subject
    assert ds["bad"].values[1].tolist() == [False, True, False]
    assert ds["source"].values.tolist() == ["rec0", "rec1", "rec2"]


def test_different_durations_give_a_datatree_by_default(tmp_path):
    paths = _stores(tmp_path, [_recording(500), _recording(400, seed=1)])
    tree = open_collection(paths)
    assert isinstance(tree, xr.DataTree)
    assert sorted(tree.children) == ["sub-01", "sub-02"]
    assert tree["sub-02"].dataset.sizes["time"] == 400
    assert "sub-02_task-x_eeg.zarr: dim 'time' has 400" in tree.attrs["collection_mismatch"]
    assert tree.dataset["subject"].values.tolist() == ["sub-01", "sub-02"]
    with pytest.raises(MismatchError, match=r"sub-02_task-x_eeg.zarr: dim 'time' has 400"):
        open_collection(paths, join="exact")
    with pytest.raises(SchemaError, match=r"got a DataTree.*join='outer'"):
        write_collection(tree, tmp_path / "out.zarr")


def test_outer_join_pads_with_nan_never_zero(tmp_path):
    short = _recording(400, channels=("Cz", "Oz"), seed=1)
    long = _recording(500, seed=0)
    ds = open_collection(_stores(tmp_path, [long, short]), join="outer")
    sig = ds["signal"]
    assert sig.sizes == {"subject": 2, "time": 500, "channel": 3}
    assert ds["n_time"].values.tolist() == [500, 400]
    padded = sig.sel(subject="sub-02")
    assert np.isnan(padded.isel(time=slice(400, None))).all()
    assert np.isnan(padded.sel(channel="Pz")).all()  # absent channel: NaN
    np.testing.assert_array_equal(
        padded.isel(time=slice(0, 400)).sel(channel=["Cz", "Oz"]), short["signal"]
    )
    assert not (sig.fillna(1.0) == 0).any()


def test_inner_join_cuts_to_the_common_part(tmp_path):
    paths = _stores(
        tmp_path, [_recording(500), _recording(400, channels=("Oz", "Cz", "T7"), seed=1)]
    )
    ds = open_collection(paths, join="inner")
    assert ds.sizes["time"] == 400
    assert ds["channel"].values.tolist() == ["Cz", "Oz"]


def test_channel_mismatch_names_the_file_and_labels(tmp_path):
    paths = _stores(tmp_path, [_recording(), _recording(channels=("Cz", "Pz", "T7"), seed=1)])
    with pytest.raises(MismatchError, match=r"sub-02_task-x_eeg.zarr: 'channel' labels.*\['T7'\]"):
        open_collection(paths, join="exact")


def test_sampling_rates_are_never_reconciled(tmp_path):
    paths = _stores(tmp_path, [_recording(), _recording(sfreq=200.0, seed=1)])
    for join in ("exact", "inner", "outer"):
        with pytest.raises(MismatchError, match=r"sub-02_task-x_eeg.zarr: sampling rate 200"):
            open_collection(paths, join=join)
    assert isinstance(open_collection(paths), xr.DataTree)


def test_events_are_padded_and_counted(tmp_path):
    paths = _stores(tmp_path, [_recording(n_event=3), _recording(n_event=1, seed=1)])
    ds = open_collection(paths)
    assert ds["n_event"].values.tolist() == [3, 1]
    assert np.isnan(ds["onset"].values[1, 1:]).all()
    assert ds["label"].values[1].tolist() == ["e0", "", ""]


# --------------------------------------------------------------------------------------
# writing: one shard per subject, atomic, round trip
# --------------------------------------------------------------------------------------


def test_store_has_one_shard_per_subject_and_round_trips(bids_root, tmp_path):
    import zarr

    ds = open_collection(bids_root)
    out = write_collection(ds, tmp_path / "group.zarr", time_chunk=500)
    array = zarr.open_array(out / "signal", mode="r")
    n_time, n_channel = ds.sizes["time"], ds.sizes["channel"]
    assert array.shards == (1, n_time, n_channel)  # 2000 samples = 4 x 500
    assert array.chunks == (1, 500, n_channel)
    assert any("Sharding" in type(c).__name__ for c in array.metadata.codecs)
    shard_files = [p for p in (out / "signal" / "c").rglob("*") if p.is_file()]
    assert len(shard_files) == N_SUBJECTS
    back = nd.open(out)
    assert back["signal"].chunks is not None  # lazy
    xr.testing.assert_identical(back.load(), ds.load())
    again = open_collection(out, subjects=["sub-002"])
    xr.testing.assert_identical(again.load(), ds.sel(subject=["sub-002"]).load())
    tagged = open_collection(out, metadata={"002": {"age": 40.0, "site": "B"}})
    assert tagged["age"].values[1] == 40.0 and np.isnan(tagged["age"].values[0])
    assert tagged["site"].values.tolist() == ["n/a", "B", "n/a", "n/a"]


def test_write_float32_odd_chunks_and_refuse_existing(tmp_path):
    import zarr

    ds = open_collection(_stores(tmp_path, [_recording(seed=i) for i in range(2)]))
    out = write_collection(ds, tmp_path / "c.zarr", dtype="float32")
    back = nd.open(out)
    assert back["signal"].dtype == np.float32
    np.testing.assert_array_equal(back["signal"].values, ds["signal"].values.astype(np.float32))
    assert ds["signal"].dtype == np.float64  # the input is not modified
    odd = write_collection(ds, tmp_path / "odd.zarr", time_chunk=150)  # 500 = 3 x 150 + 50
    assert zarr.open_array(odd / "signal", mode="r").shards == (1, 600, 3)
    xr.testing.assert_identical(nd.open(odd).load(), ds.load())
    with pytest.raises(OutputExistsError, match="already exists"):
        write_collection(ds, out)
    write_collection(ds, out, overwrite=True)


def test_a_failing_write_leaves_no_partial_store(tmp_path):
    import dask.array as da

    ds = open_collection(_stores(tmp_path, [_recording(seed=i) for i in range(3)]))

    def boom(block, block_info=None):
        if block_info[0]["chunk-location"][0] == 2:
            raise RuntimeError("disk on fire")
        return block

    failing = da.map_blocks(boom, ds["signal"].data.rechunk((1, -1, -1)), dtype=float)
    ds["signal"] = (ds["signal"].dims, failing)
    before = set(tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_collection(ds, tmp_path / "broken.zarr")
    assert set(tmp_path.iterdir()) == before  # neither the store nor a temporary sibling


def test_local_cluster_workers_read_the_store_and_the_recordings(tmp_path, bids_root):
    distributed = pytest.importorskip("distributed")
    recs = [_recording(seed=i) for i in range(3)]
    out = write_collection(open_collection(_stores(tmp_path, recs)), tmp_path / "c.zarr")
    expected = np.stack([r["signal"].values for r in recs]).std(axis=1)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        ds = open_collection(out)
        got = ds["signal"].std("time").compute()
        # the lazy MNE-backed collection travels to the workers too (each reads its files)
        eeg = open_collection(bids_root)["signal"].std("time")
        on_workers = eeg.compute()
    np.testing.assert_allclose(got.values, expected, rtol=1e-12)
    np.testing.assert_allclose(on_workers.values, eeg.compute(scheduler="sync").values, rtol=1e-12)
