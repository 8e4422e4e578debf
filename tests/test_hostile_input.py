"""Hostile input: nothing in a data file runs code, escapes the output folder, or reaches HTML raw."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._archive import safe_extract
from neurodata.errors import FormatError
from neurodata.report import Section, render_html

SCRIPT = "<script>alert(1)</script>"


class _Payload:
    """Unpickling this creates a file: proof that code from the file ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_is_refused_without_allow_pickle(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "data.pkl"
    evil.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(FormatError, match=r"data\.pkl: is a Python pickle.*allow_pickle=True"):
        nd.load(evil)
    assert not marker.exists()
    # the same bytes under another name: sniffed as a pickle, still refused
    hidden = tmp_path / "data.bin"
    hidden.write_bytes(evil.read_bytes())
    with pytest.raises(FormatError, match="allow_pickle"):
        nd.load(hidden)
    assert not marker.exists()


def test_pickle_with_explicit_opt_in(tmp_path):
    da = xr.DataArray(np.arange(3.0), dims="time", name="x")
    path = tmp_path / "ok.pickle"
    path.write_bytes(pickle.dumps(da))
    xr.testing.assert_identical(nd.load(path, allow_pickle=True), da)
    path.write_bytes(pickle.dumps({"not": "xarray"}))
    with pytest.raises(FormatError, match="unpickled a dict; expected an xarray"):
        nd.load(path, allow_pickle=True)


def test_npy_object_arrays_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "objects.npy"
    np.save(path, np.array([_Payload(str(marker)), 1], dtype=object), allow_pickle=True)
    with pytest.raises(
        FormatError, match=r"objects\.npy: holds a Python object array.*allow_pickle"
    ):
        nd.load(path)
    assert not marker.exists()
    npz = tmp_path / "objects.npz"
    np.savez(npz, ok=np.arange(3), bad=np.array([None, 1], dtype=object))
    with pytest.raises(FormatError, match=r"objects\.npz\[bad\.npy\]: holds a Python object"):
        nd.load(npz)


def test_plain_npy_and_npz_are_read(tmp_path):
    values = np.arange(12.0).reshape(3, 4)
    np.save(tmp_path / "a.npy", values)
    da = nd.load(tmp_path / "a.npy", dims=("time", "channel"))
    assert da.dims == ("time", "channel")
    np.testing.assert_array_equal(da.values, values)
    np.savez(tmp_path / "b.npz", x=values, y=np.arange(2))
    ds = nd.load(tmp_path / "b.npz")
    np.testing.assert_array_equal(ds["x"].values, values)
    assert ds["y"].dims == ("y_dim_0",)


def test_npy_absurd_declared_size_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npy"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 10**6)}
    )
    path.write_bytes(b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 64)
    with pytest.raises(FormatError, match=r"header declares \(1000000000000, 1000000\)"):
        nd.load(path)


# --- archives ---------------------------------------------------------------------------


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil-neurodata.txt", "a/../../evil.txt",
                                  "C:\\evil.txt", "..\\evil.txt"])  # fmt: skip
def test_zip_members_cannot_escape(tmp_path, name):
    archive = _zip(tmp_path / "a.zip", {"ok.txt": b"fine", name: b"evil"})
    with pytest.raises(FormatError, match="outside the output folder"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_zip_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16  # a symlink
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(FormatError, match="link or special file"):
        safe_extract(archive, tmp_path / "out")


def test_tar_links_and_traversal_are_refused(tmp_path):
    def make(name, **kind):
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tf:
            info = tarfile.TarInfo(kind.pop("member"))
            for key, value in kind.items():
                setattr(info, key, value)
            tf.addfile(info, io.BytesIO(b"") if info.isfile() else None)
        return path

    sym = make("sym.tar.gz", member="data", type=tarfile.SYMTYPE, linkname="/etc")
    with pytest.raises(FormatError, match="link or special file"):
        safe_extract(sym, tmp_path / "out")
    up = make("up.tar.gz", member="../../evil")
    with pytest.raises(FormatError, match="outside the output folder"):
        safe_extract(up, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_extract_extracts_good_archives(tmp_path):
    archive = _zip(tmp_path / "a.zip", {"sub/x.txt": b"x", "y.txt": b"y"})
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "sub" / "x.txt").read_bytes() == b"x"
    tgz = tmp_path / "b.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        tf.add(out / "sub" / "x.txt", arcname="d/x.txt")
    assert (safe_extract(tgz, tmp_path / "out2") / "d" / "x.txt").read_bytes() == b"x"


def test_zip_bomb_is_bounded(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros", b"\x00" * 2_000_000)
    with pytest.raises(FormatError, match="max_bytes=1000000"):
        safe_extract(archive, tmp_path / "out", max_bytes=1_000_000)
    assert os.listdir(tmp_path) == ["bomb.zip"]


# --- HTML reports -----------------------------------------------------------------------


def test_render_html_escapes_text_and_table_labels():
    import pandas as pd

    table = pd.DataFrame({SCRIPT: [1.0]}, index=pd.Index([SCRIPT], name=SCRIPT))
    section = Section(SCRIPT, paragraphs=[SCRIPT], tables=[(table, SCRIPT)], notice=SCRIPT)
    page = render_html(SCRIPT, [section], parameters={SCRIPT: SCRIPT}, versions={"x": SCRIPT})
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8


def test_compare_report_escapes_names_from_data(tmp_path):
    from neurodata.datasets.simulated import story
    from neurodata.pipelines.compare import compare
    from neurodata.pipelines.demo import simulated_brain_data

    words = story(300, seed=3)
    rng = np.random.default_rng(0)
    acts = xr.DataArray(
        rng.standard_normal((2, 300, 6)),
        dims=("layer", "word", "unit"),
        coords={"layer": [SCRIPT, "b"], "onset": ("word", words.onset.values)},
    )
    brain = simulated_brain_data(acts, words, layer="b", n_subjects=1, snr=3.0, seed=1)
    parcels = [f"{SCRIPT}{i}" for i in range(brain.responses.sizes["parcel"])]
    brain.responses = brain.responses.assign_coords(parcel=parcels)
    brain.name = f"<img src=x onerror=alert(1)> {SCRIPT}"
    brain.notes.append(SCRIPT)
    compare(brain, activations=acts, cv=2, n_permutations=0, out=tmp_path / "o", progress=False)
    page = (tmp_path / "o" / "report.html").read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# --- HDF5: declared sizes the file does not back -------------------------------------------


def _huge(fh, name):
    """A dataset declaring 80 GB that stores nothing (chunked, never written)."""
    fh.create_dataset(name, shape=(100_000, 100_000), dtype="f8", chunks=(100, 100))


def test_hdf5_datasets_declaring_absurd_sizes_are_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    flavell = tmp_path / "w1-data.h5"
    with h5py.File(flavell, "w") as fh:
        _huge(fh, "gcamp/trace_array")
        fh["timing/timestamp_confocal"] = np.arange(5.0)
    assert flavell.stat().st_size < 100_000
    with pytest.raises(FormatError, match=r"'gcamp/trace_array' declares shape \(100000, 100000\)"):
        nd.load(flavell)
    nwb = tmp_path / "worm.nwb"
    with h5py.File(nwb, "w") as fh:
        fh.attrs["nwb_version"] = "2.1.0"
        fh["identifier"] = b"x"
        _huge(fh, "acquisition/Activity_0000/data")
        fh["acquisition/Activity_0000/timestamps"] = np.arange(5.0)
    with pytest.raises(FormatError, match="refusing to allocate"):
        nd.load(nwb)


def test_hdf5_object_count_is_bounded(tmp_path):
    h5py = pytest.importorskip("h5py")
    from neurodata.loaders._hdf5guard import check_hdf5

    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as fh:
        for i in range(30):
            fh.create_group(f"g{i}")
    check_hdf5(path)
    with pytest.raises(FormatError, match="more than max_objects=10 objects"):
        check_hdf5(path, max_objects=10)


# --- MATLAB v5 (EEGLAB .set) --------------------------------------------------------------


def test_mat5_guard_bounds_nesting_and_declared_sizes(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    from neurodata.loaders._matguard import check_mat5

    nested = np.empty((1,), dtype=object)
    inner = nested
    for _ in range(40):  # cells in cells, 40 deep
        cell = np.empty((1,), dtype=object)
        inner[0] = cell
        inner = cell
    inner[0] = np.arange(3.0)
    path = tmp_path / "deep.mat"
    scipy_io.savemat(path, {"x": nested})
    check_mat5(path, max_depth=64)
    with pytest.raises(FormatError, match="deeper than max_depth=32"):
        check_mat5(path)

    flat = tmp_path / "flat.mat"
    scipy_io.savemat(flat, {"x": np.arange(4.0)})
    data = bytearray(flat.read_bytes())
    dims_at = data.index(np.array([1, 4], dtype="<i4").tobytes())
    data[dims_at + 4 : dims_at + 8] = np.array([2**31 - 1], dtype="<i4").tobytes()
    flat.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"declares dims \[1, 2147483647\]"):
        check_mat5(flat)


def test_cli_refuses_a_pickle_and_names_the_option(tmp_path):
    from click.testing import CliRunner

    from neurodata.cli import cli

    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps(xr.DataArray(np.arange(3.0), dims="time", name="x")))
    refused = CliRunner().invoke(cli, ["info", str(path)])
    assert refused.exit_code == 1
    assert "is a Python pickle" in refused.output and "-o allow_pickle=true" in refused.output
    allowed = CliRunner().invoke(cli, ["info", str(path), "-o", "allow_pickle=true"])
    assert allowed.exit_code == 0, allowed.output
    assert "time=3" in allowed.output
