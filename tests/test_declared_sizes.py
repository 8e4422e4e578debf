"""Declared sizes a file cannot back are refused before anything is allocated (issue 18, item 7).

One policy (`neurodata._bounds`): above 64 MiB, a file may declare at most
``nd.config(max_expansion=...)`` (default 100) bytes per byte it stores: zarr arrays and
chunks, ``.npz`` members once inflated, ``.nii.gz`` images once inflated, HDF5 datasets.
Also the other blow-up the fuzz suite found: FIF next-tag pointers that loop.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._bounds import MAX_METADATA_BYTES, MIN_BYTES
from neurodata.errors import FormatError, SchemaError
from tests.fuzz._hostile import write_npz_bomb

#: Just over the floor: big enough to be bounded, small enough to build in a test.
OVER = MIN_BYTES + (16 << 20)


def _zarr_store(path, shape, chunks, fill=None):
    """A store as xarray writes one (dimension names), built with zarr itself."""
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(path, mode="w", zarr_format=3)
    array = group.create_array("x", shape=shape, chunks=chunks, dtype="float64",
                               dimension_names=["time"])  # fmt: skip
    if fill is not None:
        array[:] = fill
    return path


def test_zarr_array_declaring_more_than_it_stores_is_refused(tmp_path):
    path = _zarr_store(tmp_path / "big.zarr", shape=(1 << 30,), chunks=(1 << 20,))
    with pytest.raises(
        FormatError,
        match=r"big\.zarr: array 'x' declares 8589934592 bytes but the file stores 0 bytes "
        r"for it, more than max_expansion=100 times",
    ):
        nd.open(path)


def test_zarr_chunk_larger_than_its_array_is_refused(tmp_path):
    # ten values in one 80 MiB chunk: any read decodes the whole chunk
    path = _zarr_store(tmp_path / "chunk.zarr", shape=(10,), chunks=(OVER // 8,), fill=1.0)
    with pytest.raises(FormatError, match=r"chunk\.zarr: one chunk of array 'x' declares 83886080"):
        nd.open(path)
    with nd.config(max_expansion=math.inf):  # a store you trust
        assert float(nd.open(path).x.sum()) == 10.0


def test_huge_itemsize_dtype_in_an_attribute_value_is_refused(tmp_path):
    ds = xr.Dataset({"x": ("time", np.arange(3.0))}, attrs={"names": np.array(["a", "b"])})
    path = nd.save(ds, tmp_path / "attr.zarr")
    xr.testing.assert_identical(nd.open(path).load(), ds)  # arrays in attrs round-trip
    meta = json.loads((path / "zarr.json").read_text())
    encoded = meta["attributes"]["names"]
    assert '"dtype": "<U1"' in encoded  # how neurodata writes an array attribute
    meta["attributes"]["names"] = encoded.replace('"<U1"', '"<U100000000"')
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=r"attr\.zarr: an attribute array of 2 <U100000000 "
                       r"values declares 800000000 bytes"):  # fmt: skip
        nd.open(path)


def test_huge_zarr_metadata_is_refused_before_parsing(tmp_path):
    path = nd.save(xr.Dataset({"x": ("time", np.arange(3.0))}), tmp_path / "meta.zarr")
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"]["padding"] = " " * (MAX_METADATA_BYTES + 1)
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=r"meta\.zarr: zarr\.json is \d+ bytes; expected zarr "):
        nd.open(path)


@pytest.mark.parametrize(
    ("dtype", "message"),
    [
        ("<U100000000", r"variable 'name' as <U100000000 declares 1200000000 bytes"),
        ("<f8", r"variable 'name' asks for dtype float64 in _neurodata_dtype; expected a string"),
    ],
)
def test_hostile_dtype_in_store_attrs_is_refused(tmp_path, dtype, message):
    ds = xr.Dataset({"name": ("channel", np.array(["Fp1", "Cz", "O1"]))})
    path = nd.save(ds.chunk(), tmp_path / "s.zarr")
    meta_path = path / "name" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    assert meta["attributes"]["_neurodata_dtype"] == "<U3"  # what neurodata wrote
    meta["attributes"]["_neurodata_dtype"] = dtype
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatError, match=message):
        nd.open(path)


def test_npz_member_inflating_far_beyond_the_archive_is_refused(tmp_path):
    path = write_npz_bomb(tmp_path / "bomb.npz", OVER)
    assert path.stat().st_size < OVER / 500  # deflate packs zeros about 1000:1
    with pytest.raises(
        FormatError, match=r"bomb\.npz: member 'x\.npy' once inflated declares 83886\d+ bytes"
    ):
        nd.load(path)
    with nd.config(max_expansion=5000):
        assert nd.load(path)["x"].size == OVER // 8


def test_the_cli_takes_the_bound_for_one_command(tmp_path):
    from click.testing import CliRunner

    from neurodata.cli import cli

    path = write_npz_bomb(tmp_path / "bomb.npz", OVER)
    refused = CliRunner().invoke(cli, ["info", str(path)])
    assert refused.exit_code == 1 and "--max-expansion" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    trusted = CliRunner().invoke(cli, ["--max-expansion", "inf", "info", str(path)])
    assert trusted.exit_code == 0, trusted.output
    assert "x (x_dim_0)" in trusted.output
    assert nd.get_config()["max_expansion"] == 100.0  # nothing left changed


def test_nii_gz_inflating_far_beyond_the_file_is_refused(tmp_path):
    nib = pytest.importorskip("nibabel")
    image = nib.Nifti1Image(
        np.full((64, 64, 32, OVER // (64 * 64 * 32 * 4)), 100, "float32"), np.eye(4)
    )
    image.header.set_xyzt_units("mm", "sec")
    path = tmp_path / "bomb.nii.gz"
    nib.save(image, path)
    with pytest.raises(FormatError, match=r"bomb\.nii\.gz: its \(64, 64, 32, 160\) float32 image"):
        nd.load(path)
    with nd.config(max_expansion=math.inf):
        assert nd.load(path, mask="all").sizes["time"] == 160


def test_hdf5_guard_follows_the_same_setting(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "sparse.h5"
    with h5py.File(path, "w") as fh:  # 80 MiB declared, nothing written
        fh.create_dataset("x", shape=(OVER // 8,), dtype="f8", chunks=(1 << 16,))
    from neurodata._hdf5guard import check_hdf5

    with pytest.raises(
        FormatError, match=r"sparse\.h5: HDF5 dataset '/?x' declares .*max_expansion"
    ):
        check_hdf5(path)
    with nd.config(max_expansion=math.inf):
        check_hdf5(path)


def test_the_setting_is_checked():
    with pytest.raises(SchemaError, match=r"`max_expansion` must be a number >= 1 .*; got 0"):
        with nd.config(max_expansion=0):
            pass
    assert nd.get_config()["max_expansion"] == 100.0


def test_fif_tags_that_loop_are_refused(tmp_path):
    # found by `python -m tests.fuzz.report --examples 30`: four zero bytes inserted at byte
    # 403 of the fuzz seed break its tag directory, and MNE's sequential walk then follows
    # next-tag pointers round a loop, appending to a list until memory runs out
    pytest.importorskip("mne")
    from tests.fuzz._mutate import apply
    from tests.fuzz._seeds import _eeg

    _eeg(tmp_path)
    path = tmp_path / "rec_raw.fif"
    path.write_bytes(apply(path.read_bytes(), [("insert", 403, b"\x00\x00")] * 2))
    with pytest.raises(FormatError, match=r"rec_raw\.fif: FIF tags loop \(a tag's next-tag"):
        nd.load(path)
