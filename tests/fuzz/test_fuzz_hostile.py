"""Hostile-file classes, built from the real seeds, loaded in the sandboxed worker.

Where the byte mutations of ``test_fuzz_loaders.py`` ask "does anything but a
NeurodataError escape?", these files are *known* to be hostile, so the only
passing answer is a refusal (``outcome == "neurodata"``), never a successful load:

- sidecar escapes: BrainVision ``DataFile``/``MarkerFile`` leaving the header's
  folder in every spelling MNE's configparser accepts;
- HDF5 data kept elsewhere: external raw storage, virtual datasets of other files,
  external links out of the folder (netCDF-4 and Flavell-lab files);
- FIFOs named like every seed (a hang is killed by the worker's timeout and fails);
- declared-size bombs: many small unbacked HDF5 datasets, zarr arrays, chunks,
  metadata and dtypes declaring what the store does not hold, ``.npz`` and
  ``.nii.gz`` inflating 1000-fold, a 64-dim ``.npy`` (``_hostile.py``);
- damage found only at compute time: corrupt zarr chunks, a truncated ``.fdt`` read
  lazily (``_hostile.py``);
- lying rates and calibrations in EDF and BrainVision headers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz._hostile import BUILDERS, NEEDS
from tests.fuzz.test_fuzz_loaders import FORMATS, TIMEOUT


def _copy_seed(folder: Path, seed, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    for f in seed.files:
        shutil.copyfile(folder / f, work / f)
    return work / seed.main


def _refused(loader_process, path: Path, options: dict | None = None) -> dict:
    answer = loader_process.load(path, options or {}, timeout=TIMEOUT)
    assert answer["outcome"] == "neurodata", f"{path.name}: expected a refusal, got {answer}"
    return answer


def _set_line(path: Path, key: str, line: str) -> None:
    lines = path.read_text().splitlines()
    lines = [line if x.lower().startswith(key.lower()) else x for x in lines]
    path.write_text("\n".join(lines) + "\n")


SIDECARS = [
    ("DataFile", "DataFile=../rec.eeg"),
    ("DataFile", "DataFile=x/../../rec.eeg"),
    ("DataFile", "datafile: ../rec.eeg"),
    ("DataFile", "DataFile={outside}"),
    ("MarkerFile", "MarkerFile=../rec.vmrk"),
    ("MarkerFile", "MARKERFILE = {outside_vmrk}"),
    ("MarkerFile", "MarkerFile=C:\\rec.vmrk"),
]


@pytest.mark.parametrize(("key", "line"), SIDECARS)
def test_brainvision_sidecar_escapes_are_refused(seeds, loader_process, tmp_path, key, line):
    folder, made = seeds
    if "brainvision" not in made:
        pytest.skip("no BrainVision writer")
    vhdr = _copy_seed(folder, made["brainvision"], tmp_path / "sub")
    for f in ("rec.eeg", "rec.vmrk"):  # decodable files outside the header's folder
        shutil.copyfile(folder / f, tmp_path / f)
    _set_line(vhdr, key, line.format(outside=tmp_path / "rec.eeg",
                                     outside_vmrk=tmp_path / "rec.vmrk"))  # fmt: skip
    _refused(loader_process, vhdr)


@pytest.mark.parametrize("kind", ["external-storage", "virtual", "external-link"])
@pytest.mark.parametrize("container", ["netcdf", "flavell"])
def test_hdf5_data_kept_elsewhere_is_refused(seeds, loader_process, tmp_path, kind, container):
    h5py = pytest.importorskip("h5py")
    folder, made = seeds
    if container not in made:
        pytest.skip(f"no {container} seed")
    path = _copy_seed(folder, made[container], tmp_path / "sub")
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as fh:
        fh["x"] = np.arange(120.0)
    np.arange(120.0).tofile(tmp_path / "secret.bin")
    with h5py.File(path, "a") as fh:
        if kind == "external-storage":
            fh.create_dataset("leak", (120,), float, external=[("../secret.bin", 0, 960)])
        elif kind == "virtual":
            layout = h5py.VirtualLayout(shape=(120,), dtype=float)
            layout[:] = h5py.VirtualSource(str(secret), "x", shape=(120,))
            fh.create_virtual_dataset("leak", layout)
        else:
            fh["leak"] = h5py.ExternalLink("../secret.h5", "/x")
    _refused(loader_process, path, dict(made[container].options))


@pytest.mark.parametrize("name", FORMATS)
def test_a_fifo_named_like_each_seed_is_refused(seeds, loader_process, tmp_path, name):
    _folder, made = seeds
    if name not in made:
        pytest.skip(f"no {name} seed")
    fifo = tmp_path / made[name].main
    os.mkfifo(fifo)
    _refused(loader_process, fifo, dict(made[name].options))


def test_a_symlink_to_dev_zero_is_refused(seeds, loader_process, tmp_path):
    (tmp_path / "zeros.npy").symlink_to("/dev/zero")
    _refused(loader_process, tmp_path / "zeros.npy")


@pytest.mark.parametrize("container", ["netcdf", "flavell", "celegans-nwb"])
def test_many_small_unbacked_datasets_are_refused(seeds, loader_process, tmp_path, container):
    h5py = pytest.importorskip("h5py")
    folder, made = seeds
    if container not in made:
        pytest.skip(f"no {container} seed")
    path = _copy_seed(folder, made[container], tmp_path)
    with h5py.File(path, "a") as fh:  # 40 x 60 MiB, each under the per-dataset floor
        for i in range(40):
            fh.create_dataset(f"bomb{i}", shape=(60 << 17,), dtype="f8", chunks=(1 << 16,))
    _refused(loader_process, path, dict(made[container].options))


@pytest.mark.parametrize("value", ["-1", "-0.5", "nan", "inf"])
@pytest.mark.parametrize("field", ["duration", "physical_min", "physical_max"])
def test_edf_lying_rates_and_calibrations_are_refused(
    seeds, loader_process, tmp_path, field, value
):
    folder, made = seeds
    if "edf" not in made or (field != "duration" and value in ("-1", "-0.5")):
        pytest.skip("no EDF seed" if "edf" not in made else "a legal calibration")
    path = _copy_seed(folder, made["edf"], tmp_path)
    data = bytearray(path.read_bytes())
    ns = int(data[252:256])
    at = {"duration": 244, "physical_min": 256 + 104 * ns, "physical_max": 256 + 112 * ns}[field]
    data[at : at + 8] = value.ljust(8).encode("ascii")
    path.write_bytes(bytes(data))
    _refused(loader_process, path)


@pytest.mark.parametrize("value", ["1e-308", "0", "-1000", "nan", "inf"])
def test_brainvision_lying_sampling_interval_is_refused(seeds, loader_process, tmp_path, value):
    folder, made = seeds
    if "brainvision" not in made:
        pytest.skip("no BrainVision writer")
    vhdr = _copy_seed(folder, made["brainvision"], tmp_path)
    _set_line(vhdr, "SamplingInterval", f"SamplingInterval={value}")
    _refused(loader_process, vhdr)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_declared_size_bombs_and_lazy_damage_are_refused(seeds, loader_process, tmp_path, kind):
    folder, made = seeds
    if NEEDS.get(kind) and NEEDS[kind] not in made:
        pytest.skip(f"no {NEEDS[kind]} seed")
    path, options = BUILDERS[kind][1](folder, made, tmp_path)
    _refused(loader_process, path, options)
