"""NumPy ``.npy``/``.npz`` arrays and Python pickles, read without running code from the file.

A pickle (and a ``.npy`` object array, which is a pickle inside) can execute
arbitrary code when it is loaded. These readers refuse them with a
[`FormatError`][neurodata.errors.FormatError] naming the file and the parameter,
unless the caller passes ``allow_pickle=True`` explicitly for a file they trust.
Plain numeric ``.npy``/``.npz`` arrays are read without unpickling, after
checking that the size the header declares is really in the file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from .._bounds import check_declared
from ..errors import FormatError

__all__ = ["read_npy", "read_pickle", "sniff_npy", "sniff_pickle"]

_NPY_MAGIC = b"\x93NUMPY"
_REFUSED = (
    "{path}: {what}; unpickling can run code stored in the file, so it is refused. "
    "Pass allow_pickle=True (CLI: -o allow_pickle=true) only for a file you trust"
)


def sniff_npy(path: Path) -> bool:
    """True for a ``.npy`` file (magic ``\\x93NUMPY``) or a zip of ``.npy`` members (``.npz``;
    not any zip: an Excel workbook or a zipped folder is not an array archive)."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head == _NPY_MAGIC:
        return True
    if head[:4] != b"PK\x03\x04":
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith(".npy") for name in archive.namelist())


def sniff_pickle(path: Path) -> bool:
    """True for a pickle of protocol 2-5 (starts with the PROTO opcode)."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


#: Most dims of an array read (numpy's nditer and ufuncs stop at 32).
_MAX_DIMS = 32


def _check_npy_header(fh, where: str, available: int, allow_pickle: bool) -> None:
    """Validate a ``.npy`` header before numpy allocates anything."""
    start = fh.tell()
    try:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown .npy format version {version}")
        width = 2 if version == (1, 0) else 4
        length = int.from_bytes(fh.read(width), "little")
        if length > min(10_000, available):  # numpy would read (allocate) it first
            raise ValueError(f"header length {length} exceeds 10000 bytes or the file")
        fh.seek(-width, 1)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(fh, max_header_size=10_000)
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise FormatError(f"{where}: not a valid .npy header: {exc}") from None
    if len(shape) > _MAX_DIMS:  # numpy holds 64, but most of its operations stop at 32
        raise FormatError(
            f"{where}: header declares {len(shape)} dims; expected at most {_MAX_DIMS} "
            "(numpy's limit for most operations)"
        )
    if dtype.hasobject:
        if not allow_pickle:
            raise FormatError(_REFUSED.format(path=where, what="holds a Python object array"))
        return
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > available - (fh.tell() - start):
        raise FormatError(
            f"{where}: header declares {shape} {dtype} ({declared} bytes) but the file holds "
            f"{available - (fh.tell() - start)} bytes of data (truncated or corrupt)"
        )


def _dataarray(values: np.ndarray, dims: Sequence[str] | None, name: str, where: str):
    if dims is None:
        dims = [f"dim_{i}" for i in range(values.ndim)]
    if len(dims) != values.ndim:
        raise FormatError(
            f"{where}: `dims` names {len(dims)} dims ({list(dims)}); the array has {values.ndim}"
        )
    attrs = {"long_name": f"{name} (a bare array: {Path(where).name} states no unit)"}
    return xr.DataArray(values, dims=list(dims), name=name, attrs=attrs)


def read_npy(
    path: Path, *, allow_pickle: bool = False, dims: Sequence[str] | None = None
) -> xr.DataArray | xr.Dataset:
    """Read a ``.npy`` array (a DataArray) or a ``.npz`` archive (a Dataset of its arrays).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    allow_pickle : bool
        Allow Python object arrays (which are unpickled, and can run code).
        Default False: they are refused with a [`FormatError`][].
    dims : sequence of str, optional
        Dim names of a ``.npy`` array (default ``dim_0``, ``dim_1``, ...). For a
        ``.npz``, each array ``key`` gets dims ``key_dim_0``, ... .

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        The values, not copied into any other dtype.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(6) == _NPY_MAGIC:
            fh.seek(0)
            _check_npy_header(fh, str(path), size, allow_pickle)
            fh.seek(0)
            values = np.load(fh, allow_pickle=allow_pickle)
            return _dataarray(values, dims, path.stem, str(path))
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{path}: neither a .npy file nor a .npz archive: {exc}") from None
    arrays = {}
    with archive:
        members = archive.infolist()
        for info in members:  # inflated sizes, before anything is inflated
            check_declared(str(path), f"member {info.filename!r} once inflated",
                           info.file_size, info.compress_size)  # fmt: skip
        declared = sum(info.file_size for info in members)
        check_declared(str(path), "its members together once inflated", declared, size)
        for info in members:
            key = info.filename.removesuffix(".npy")
            where = f"{path}[{info.filename}]"
            with archive.open(info) as member:
                data = member.read(min(info.file_size, 1 << 16))
            head = io.BytesIO(data)
            if head.read(6) != _NPY_MAGIC:
                raise FormatError(f"{where}: member is not a .npy array")
            head.seek(0)
            _check_npy_header(head, where, info.file_size, allow_pickle)
            with archive.open(info) as member:
                values = np.lib.format.read_array(member, allow_pickle=allow_pickle)
            arrays[key] = ([f"{key}_dim_{i}" for i in range(values.ndim)], values)
    return xr.Dataset(arrays)


def read_pickle(path: Path, *, allow_pickle: bool = False) -> xr.Dataset | xr.DataArray:
    """Read a pickled xarray object — only with ``allow_pickle=True``.

    Parameters
    ----------
    path : pathlib.Path
        The pickle.
    allow_pickle : bool
        Must be True: unpickling runs code stored in the file. Default False:
        the file is refused with a [`FormatError`][] and nothing is unpickled.

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        The unpickled object, which must be one of these.
    """
    if not allow_pickle:
        raise FormatError(_REFUSED.format(path=path, what="is a Python pickle"))
    import pickle

    with open(path, "rb") as fh:
        obj = pickle.load(fh)  # the caller opted in explicitly
    if not isinstance(obj, xr.Dataset | xr.DataArray):
        raise FormatError(
            f"{path}: unpickled a {type(obj).__name__}; expected an xarray Dataset or DataArray"
        )
    return obj
