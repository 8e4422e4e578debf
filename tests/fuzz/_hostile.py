"""Builders of hostile files: declared-size bombs and damage found only at compute time.

Each builder takes the seed folder, the seeds and a fresh work folder, writes one
hostile file from a real seed, and returns ``(path, options)`` for ``neurodata.load``.
The sandboxed worker then loads it *and its lazy data*: the only passing answer is a
refusal (a ``NeurodataError``).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: Just over the 64 MiB floor of the size policy (neurodata._bounds).
_OVER = 80 << 20


def _store(folder: Path, made: dict, work: Path) -> Path:
    import neurodata as nd

    return nd.save(nd.open(folder / made["netcdf"].main).load(), work / "store.zarr")


def _edit(meta_path: Path, edit: Callable[[dict], None]) -> None:
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))


def zarr_unbacked_array(folder, made, work):
    path = _store(folder, made, work)

    def grow(meta):  # 2**30 time points (8 GiB of signal, 8 GiB of times), none written
        meta["shape"] = [1 << 30, *meta["shape"][1:]]
        grid = meta["chunk_grid"]["configuration"]
        grid["chunk_shape"] = [1 << 20, *grid["chunk_shape"][1:]]

    _edit(path / "signal" / "zarr.json", grow)
    _edit(path / "time" / "zarr.json", grow)
    return path, {}


def zarr_huge_chunk(folder, made, work):
    path = _store(folder, made, work)
    _edit(
        path / "signal" / "zarr.json",
        lambda meta: meta["chunk_grid"]["configuration"].update(chunk_shape=[1 << 24, 3]),
    )
    return path, {}


def zarr_huge_metadata(folder, made, work):
    path = _store(folder, made, work)
    _edit(path / "zarr.json", lambda meta: meta["attributes"].update(pad=" " * (17 << 20)))
    return path, {}


def zarr_dtype_in_attrs(folder, made, work):
    path = _store(folder, made, work)
    _edit(
        path / "channel" / "zarr.json",
        lambda meta: meta["attributes"].update(_neurodata_dtype="<U100000000"),
    )
    return path, {}


def zarr_corrupt_chunk(folder, made, work):
    path = _store(folder, made, work)
    for chunk in sorted((path / "signal" / "c").rglob("*")):
        if chunk.is_file():
            chunk.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(64)))  # a zstd magic, then junk
    return path, {}


def write_npz_bomb(path: Path, nbytes: int) -> Path:
    """A .npz whose one member ``x.npy`` inflates to ``nbytes`` of zeros (1 MiB blocks)."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0))
    header["shape"] = (nbytes // 8,)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            block = bytes(1 << 20)
            for _ in range(nbytes >> 20):
                member.write(block)
    return path


def npz_bomb(folder, made, work):
    return write_npz_bomb(work / "bomb.npz", _OVER), {}


def nii_gz_bomb(folder, made, work):
    import nibabel as nib

    image = nib.load(folder / made["nifti"].main)  # its affine; a volume big enough
    volume = (64, 64, 32)
    big = nib.Nifti1Image(np.ones((*volume, _OVER // (64 * 64 * 32 * 4)), "float32"), image.affine)
    big.header.set_xyzt_units("mm", "sec")
    nib.save(big, work / "bold.nii.gz")
    return work / "bold.nii.gz", dict(made["nifti"].options)


def npy_64_dims(folder, made, work):
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % ("1, " * 64)).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    path = work / "deep.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(8))
    return path, {}


def eeglab_truncated_fdt(folder, made, work):
    import scipy.io

    path = work / "rec.set"
    shutil.copyfile(folder / made["eeglab"].main, path)
    mat = scipy.io.loadmat(path, appendmat=False)
    eeg = mat["EEG"] if "EEG" in mat else None
    data = np.asarray(eeg["data"][0, 0] if eeg is not None else mat["data"], dtype="<f4")
    data.T.tofile(work / "rec.fdt")  # the samples in an .fdt, as EEGLAB writes them
    if eeg is not None:
        eeg["data"][0, 0] = np.array(["rec.fdt"])
    else:
        mat["data"] = np.array(["rec.fdt"])
    scipy.io.savemat(path, {k: v for k, v in mat.items() if not k.startswith("__")},
                     appendmat=False)  # fmt: skip
    with open(work / "rec.fdt", "r+b") as fh:
        fh.truncate(data.shape[0] * 4 * 10)  # ten samples left of each channel
    return path, {"lazy": True}


#: Class of each builder, as the closing figures report them.
BUILDERS: dict[str, tuple[str, Callable]] = {
    "zarr-unbacked-array": ("declared-size bombs", zarr_unbacked_array),
    "zarr-huge-chunk": ("declared-size bombs", zarr_huge_chunk),
    "zarr-huge-metadata": ("declared-size bombs", zarr_huge_metadata),
    "zarr-dtype-in-attrs": ("declared-size bombs", zarr_dtype_in_attrs),
    "npz-bomb": ("declared-size bombs", npz_bomb),
    "nii-gz-bomb": ("declared-size bombs", nii_gz_bomb),
    "npy-64-dims": ("declared-size bombs", npy_64_dims),
    "zarr-corrupt-chunk": ("damage found at compute time", zarr_corrupt_chunk),
    "eeglab-truncated-fdt": ("damage found at compute time", eeglab_truncated_fdt),
}

#: The seeds each builder starts from.
NEEDS = {
    **{name: "netcdf" for name in BUILDERS if name.startswith("zarr-")},
    "nii-gz-bomb": "nifti",
    "eeglab-truncated-fdt": "eeglab",
}
