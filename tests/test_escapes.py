"""A file may not make neurodata read another file: sidecar escapes, HDF5 external data, FIFOs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._hdf5guard import check_hdf5
from neurodata.errors import FormatError, NotFoundError

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs FIFOs and /dev/zero")


def _raw():
    from tests.loaders.conftest import make_raw

    return make_raw()


def _export(path: Path) -> Path:
    from tests.loaders.conftest import export

    return export(_raw(), path)


def _edit_header(vhdr: Path, key: str, value: str) -> None:
    lines = vhdr.read_text().splitlines()
    lines = [f"{key}={value}" if line.lower().startswith(key.lower()) else line for line in lines]
    vhdr.write_text("\n".join(lines) + "\n")


# --- BrainVision and EEGLAB companions ------------------------------------------------------


@pytest.mark.parametrize("where", ["parent", "absolute", "nested"])
def test_brainvision_data_file_outside_the_folder_is_refused(tmp_path, where):
    pytest.importorskip("mne")
    sub = tmp_path / "sub"
    sub.mkdir()
    vhdr = _export(sub / "rec.vhdr")
    secret = tmp_path / "secret.eeg"
    shutil.move(sub / "rec.eeg", secret)  # a decodable file, outside the header's folder
    name = {"parent": "../secret.eeg", "absolute": str(secret), "nested": "x/../../secret.eeg"}
    _edit_header(vhdr, "DataFile", name[where])
    with pytest.raises(FormatError, match=r"rec\.vhdr: DataFile '.*secret\.eeg' leaves the"):
        nd.load(vhdr)


def test_brainvision_marker_file_in_any_spelling_is_confined(tmp_path):
    pytest.importorskip("mne")
    vhdr = _export(tmp_path / "rec.vhdr")
    text = vhdr.read_text().replace("MarkerFile=rec.vmrk", "markerfile: /etc/hostname")
    vhdr.write_text(text)  # configparser (MNE) reads keys in any case, with ':' too
    with pytest.raises(FormatError, match=r"MarkerFile '/etc/hostname' leaves the header's"):
        nd.load(vhdr)


@posix_only
def test_brainvision_data_file_that_is_a_fifo_is_refused(tmp_path):
    pytest.importorskip("mne")
    vhdr = _export(tmp_path / "rec.vhdr")
    (tmp_path / "rec.eeg").unlink()
    os.mkfifo(tmp_path / "rec.eeg")
    with pytest.raises(FormatError, match=r"rec\.eeg: DataFile is a FIFO \(named pipe\)"):
        nd.load(vhdr)


def test_eeglab_data_file_outside_the_folder_is_refused(tmp_path):
    pytest.importorskip("mne")
    pytest.importorskip("eeglabio")
    import scipy.io

    sub = tmp_path / "sub"
    sub.mkdir()
    raw = _raw()
    secret = tmp_path / "secret.fdt"
    raw.get_data().T.astype("<f4").tofile(secret)  # the layout of an .fdt
    _export(sub / "rec.set")
    mat = scipy.io.loadmat(sub / "rec.set", appendmat=False)
    key = "EEG" if "EEG" in mat else "data"
    if key == "EEG":
        mat["EEG"]["data"][0, 0] = np.array(["../secret.fdt"])
    else:
        mat["data"] = np.array(["../secret.fdt"])
    scipy.io.savemat(sub / "rec.set", {k: v for k, v in mat.items() if not k.startswith("__")},
                     appendmat=False)  # fmt: skip
    with pytest.raises(FormatError, match=r"rec\.set: its data file '.*secret\.fdt' is outside"):
        nd.load(sub / "rec.set")


# --- HDF5: external storage, virtual datasets, external links -------------------------------


def _external_nc(folder: Path, name: str = "../secret.bin") -> Path:
    h5netcdf = pytest.importorskip("h5netcdf")
    (folder.parent / "secret.bin").write_bytes(np.arange(4.0).tobytes())
    path = folder / "store.nc"
    with h5netcdf.File(path, "w") as fh:
        fh.dimensions = {"x": 4}
        fh.create_variable("v", ("x",), float, external=[(name, 0, 32)])
    return path


def test_netcdf_with_external_storage_is_refused(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    path = _external_nc(sub)
    with pytest.raises(FormatError, match=r"store\.nc: HDF5 dataset 'v' keeps its data in the "
                       r"external file '\.\./secret\.bin'"):  # fmt: skip
        nd.open(path)
    with pytest.raises(FormatError, match="external file"):
        nd.load(path)


def test_flavell_h5_with_external_storage_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(120.0).tobytes())
    path = tmp_path / "w1-data.h5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("gcamp/trace_array", (30, 4), float, external=[(str(secret), 0, 960)])
        fh["timing/timestamp_confocal"] = 1000 + np.arange(30) * 0.6
    with pytest.raises(FormatError, match=r"'gcamp/trace_array' keeps its data in the external"):
        nd.load(path)


def test_hdf5_virtual_dataset_mapping_another_file_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "other.h5", "w") as fh:
        fh["x"] = np.arange(10.0)
    layout = h5py.VirtualLayout(shape=(10,), dtype=float)
    layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "x", shape=(10,))
    with h5py.File(tmp_path / "vds.h5", "w") as fh:
        fh.create_virtual_dataset("v", layout)
    with pytest.raises(FormatError, match=r"'v' is a virtual dataset mapping other files"):
        check_hdf5(tmp_path / "vds.h5")


def test_hdf5_external_links_are_confined_and_followed(tmp_path):
    h5py = pytest.importorskip("h5py")
    sub = tmp_path / "sub"
    sub.mkdir()
    with h5py.File(tmp_path / "outside.h5", "w") as fh:
        fh["x"] = np.arange(3.0)
    with h5py.File(sub / "leaky.h5", "w") as fh:
        fh["gcamp"] = h5py.ExternalLink("../outside.h5", "/")
    with pytest.raises(FormatError, match=r"leaky\.h5: external link 'gcamp' '\.\./outside\.h5'"):
        check_hdf5(sub / "leaky.h5")
    with h5py.File(sub / "bomb.h5", "w") as fh:  # beside it: checked in turn
        fh.create_dataset("huge", shape=(1 << 40,), dtype="f8", chunks=(1 << 16,))
    with h5py.File(sub / "linked.h5", "w") as fh:
        fh["data"] = h5py.ExternalLink("bomb.h5", "/huge")
        fh["self"] = h5py.ExternalLink("linked.h5", "/")  # a cycle: visited once
    with pytest.raises(FormatError, match=r"bomb\.h5: HDF5 dataset 'huge' declares"):
        check_hdf5(sub / "linked.h5")


def test_many_small_unbacked_datasets_are_refused_together(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as fh:  # each under the per-dataset floor (64 MiB), 2.5 GB together
        for i in range(40):
            fh.create_dataset(f"d{i}", shape=(60 << 17,), dtype="f8", chunks=(1 << 16,))
    with pytest.raises(FormatError, match=r"many\.h5: HDF5 datasets declare 2516582400 bytes "
                       "together but the file stores 0"):  # fmt: skip
        check_hdf5(path)


# --- FIFOs, devices, names too long ---------------------------------------------------------

HANGS = textwrap.dedent(
    """
    import sys
    import neurodata as nd
    from neurodata.errors import NeurodataError
    try:
        nd.load(sys.argv[1]) if sys.argv[2] == "load" else nd.open(sys.argv[1]).load()
    except NeurodataError as exc:
        print(type(exc).__name__, exc)
    """
)


def _in_child(path: Path, how: str = "load") -> str:
    """Run the read in a child process: on the old code a FIFO blocks it forever."""
    done = subprocess.run([sys.executable, "-c", HANGS, str(path), how], env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@posix_only
@pytest.mark.parametrize("name", ["rec.vhdr", "edges.csv", "words.textgrid", "a.npy", "x.nwb"])
def test_a_fifo_named_like_a_recording_is_refused(tmp_path, name):
    os.mkfifo(tmp_path / name)
    out = _in_child(tmp_path / name)
    assert out.startswith("FormatError") and f"{name}: input is a FIFO (named pipe)" in out


@posix_only
def test_a_fifo_inside_a_zarr_store_is_refused(tmp_path):
    store = nd.save(xr.Dataset({"x": ("a", np.arange(4.0))}), tmp_path / "s.zarr")
    chunk = next(p for p in (store / "x").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.unlink()
    os.mkfifo(chunk)
    out = _in_child(store, "open")
    assert out.startswith("FormatError") and "is a FIFO (named pipe)" in out


@posix_only
def test_a_symlink_to_a_device_is_refused(tmp_path):
    (tmp_path / "zeros.npy").symlink_to("/dev/zero")
    with pytest.raises(FormatError, match=r"zeros\.npy: input is a character device"):
        nd.load(tmp_path / "zeros.npy")


def test_a_name_too_long_is_a_not_found_error(tmp_path):
    with pytest.raises(NotFoundError, match=r"cannot be opened \(File name too long\)"):
        nd.load(tmp_path / ("x" * 300 + ".edf"))


# --- lying rates and calibrations -----------------------------------------------------------


def _edf_field(path: Path, offset: int, value: str) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + 8] = value.ljust(8).encode("ascii")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration", "-1", r"sampling rate of -256\.0 Hz; expected a positive, finite"),
        ("physical_min", "nan", r"channel 'Fp1' has physical min nan in the header"),
        ("physical_max", "inf", r"channel 'Fp1' has physical max inf in the header"),
    ],
)
def test_edf_lying_rates_and_calibrations_are_refused_at_load(tmp_path, field, value, message):
    pytest.importorskip("mne")
    from tests.loaders.conftest import export

    raw = _raw()
    raw.set_annotations(None)  # (annotations past a negative duration fail in MNE already)
    path = export(raw, tmp_path / "rec.edf")
    n_signals = int(path.read_bytes()[252:256])
    offset = {"duration": 244, "physical_min": 256 + 104 * n_signals,
              "physical_max": 256 + 112 * n_signals}[field]  # fmt: skip
    _edf_field(path, offset, value)
    with pytest.raises(FormatError, match=message):
        nd.load(path)


def test_brainvision_absurd_sampling_interval_is_refused_at_load(tmp_path):
    pytest.importorskip("mne")
    vhdr = _export(tmp_path / "rec.vhdr")
    _edit_header(vhdr, "SamplingInterval", "1e-308")
    with pytest.raises(FormatError, match=r"rec\.vhdr: header gives a sampling rate of inf Hz"):
        nd.load(vhdr)


# --- hostile attributes in neurodata's own stores -------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        'neurodata-json:{"__ndarray__": [1], "dtype": "zz"}',  # TypeError
        "neurodata-json:{not json",  # JSONDecodeError
        "neurodata-json:" + "[" * 100_000 + "]" * 100_000,  # RecursionError
        'neurodata-json:{"__npscalar__": 1e400, "dtype": "<i8"}',  # OverflowError
    ],
    ids=["dtype", "json", "nesting", "overflow"],
)
def test_hostile_attrs_in_a_store_are_a_format_error(tmp_path, value):
    import zarr

    store = nd.save(
        xr.Dataset({"x": ("a", np.arange(3.0))}, attrs={"a": [1, 2]}), tmp_path / "s.zarr"
    )
    zarr.open_group(store, mode="r+").attrs["a"] = value
    with pytest.raises(FormatError, match=r"s\.zarr: could not open store: \w+Error"):
        nd.open(store)


# --- EDF+ annotations that MNE's pattern would parse in quadratic time ----------------------


def _edf_with_annotations(path: Path, n: int) -> Path:
    edfio = pytest.importorskip("edfio")
    signal = edfio.EdfSignal(np.zeros(256 * 10), sampling_frequency=256, label="EEG Cz",
                             physical_range=(-1, 1))  # fmt: skip
    notes = [edfio.EdfAnnotation(i * 10 / n, None, f"note {i:05d} " + "x" * 40) for i in range(n)]
    edfio.Edf([signal], annotations=notes).write(path)
    return path


def _overwrite_annotations(path: Path, fill: bytes) -> int:
    data = bytearray(path.read_bytes())
    ns = int(data[252:256])
    labels = [bytes(data[256 + 16 * i : 272 + 16 * i]).strip() for i in range(ns)]
    samples = [int(data[256 + 216 * ns + 8 * i : 264 + 216 * ns + 8 * i]) for i in range(ns)]
    (k,) = [i for i, lab in enumerate(labels) if lab.endswith(b"Annotations")]
    record, start, total = sum(samples) * 2, 256 * (ns + 1), 0
    for r in range(int(data[236:244])):
        at = start + r * record + sum(samples[:k]) * 2
        width = samples[k] * 2
        keep = 16 if r else 0  # (the first record's time-keeping TAL is replaced too)
        data[at + keep : at + width] = (fill * width)[: width - keep]
        total += width
    path.write_bytes(bytes(data))
    return total


def test_edf_annotations_without_terminators_are_refused_in_linear_time(tmp_path):
    pytest.importorskip("mne")
    path = _edf_with_annotations(tmp_path / "rec.edf", 2000)
    good = nd.load(path)  # many real annotations: accepted
    assert good.sizes["event"] == 2000
    size = _overwrite_annotations(path, b"+1")  # onsets, never a \x14\x00 terminator
    assert size > 100_000
    with pytest.raises(FormatError, match=r"rec\.edf: EDF\+ annotations \(\d+ bytes\) hold \d+ "
                       "onsets but few terminated annotation lists"):  # fmt: skip
        nd.load(path)
