"""How much a read may allocate: one policy for every container format.

A container declares sizes (an HDF5 dataset's shape, a zarr array's shape and chunks,
the inflated size of a ``.npz`` member or a ``.nii.gz`` image) that its reader then
allocates; nothing forces those declarations to match what the file holds, so a file
of a few kilobytes can make a reader allocate terabytes. The policy, applied to each
array and to the whole file: what a file declares may exceed [`MIN_BYTES`][] (64 MiB)
only up to ``max_expansion`` times the bytes the file stores (default
[`MAX_EXPANSION`][], 100: recordings rarely compress better than 10x). A trusted file
that needs more is read inside ``with nd.config(max_expansion=...)``.

The metadata of a zarr store (each ``zarr.json``) is parsed into Python objects whole,
so it is bounded on its own: at most [`MAX_METADATA_BYTES`][] (16 MiB) a file.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ._config import resolve
from .errors import FormatError

__all__ = ["MAX_EXPANSION", "MAX_METADATA_BYTES", "MIN_BYTES", "check_declared", "check_zarr"]

#: Declared sizes below this are never refused for their size (bytes).
MIN_BYTES = 64 << 20
#: Default of ``nd.config(max_expansion=...)``: declared bytes per stored byte.
MAX_EXPANSION = 100.0
#: Largest ``zarr.json`` parsed (bytes).
MAX_METADATA_BYTES = 16 << 20


def too_big(declared: int, stored: int, ratio: float | None = None, floor: int = MIN_BYTES) -> bool:
    """Whether ``declared`` bytes exceed what ``stored`` bytes may back (the policy above;
    ``ratio`` defaults to ``nd.config``'s ``max_expansion``)."""
    ratio = resolve("max_expansion") if ratio is None else ratio
    return declared > floor and declared > ratio * max(stored, 1)


def check_declared(where: str, what: str, declared: int, stored: int) -> None:
    """Refuse ``what`` (in ``where``) declaring ``declared`` bytes that ``stored`` cannot back.

    Raises
    ------
    FormatError
        Naming the file, the item, both sizes and the setting that raises the limit.
    """
    if too_big(declared, stored):
        raise FormatError(
            f"{where}: {what} declares {declared} bytes but the file stores {stored} bytes "
            f"for it, more than max_expansion={resolve('max_expansion'):g} times; refusing "
            "to allocate it (corrupt or hostile file; for a file you trust, read it inside "
            "`with neurodata.config(max_expansion=...)`, or `neurodata --max-expansion ...`)"
        )


def _metadata(path: Path, where: Path) -> dict:
    size = path.stat().st_size
    if size > MAX_METADATA_BYTES:
        raise FormatError(
            f"{where}: {path.relative_to(where)} is {size} bytes; expected zarr metadata of at "
            f"most {MAX_METADATA_BYTES} bytes (corrupt or hostile store)"
        )
    try:
        with open(path, "rb") as fh:
            meta = json.load(fh)
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{where}: {path.relative_to(where)} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise FormatError(f"{where}: {path.relative_to(where)} is not a JSON object")
    return meta


def _stored(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (symlinks are not followed)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _array_bytes(meta: dict, name: str, where: Path) -> tuple[int, int]:
    """(declared bytes of the array, bytes of its largest chunk), from its zarr.json."""
    import numpy as np

    try:
        shape = [int(n) for n in meta["shape"]]
        grid = meta.get("chunk_grid", {}).get("configuration", {})
        chunk = [int(n) for n in grid.get("chunk_shape", shape)]
        dtype = meta["data_type"]
        if isinstance(dtype, dict):  # e.g. {"name": "fixed_length_utf32", "configuration": ...}
            length = dtype.get("configuration", {}).get("length_bytes", 8)
            itemsize = int(length)
        else:
            itemsize = np.dtype(str(dtype)).itemsize if str(dtype) != "string" else 8
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise FormatError(
            f"{where}: array {name!r} has unreadable metadata ({type(exc).__name__}: {exc})"
        ) from None
    if min([*shape, *chunk, itemsize], default=1) < 0:
        raise FormatError(f"{where}: array {name!r} declares a negative shape or chunk")
    return math.prod(shape) * itemsize, math.prod(chunk) * itemsize


def check_zarr(path: str | os.PathLike) -> int:
    """Bound a zarr v3 store's metadata and declared sizes before it is opened.

    Every ``zarr.json`` is at most [`MAX_METADATA_BYTES`][]; each array, its largest
    chunk (allocated whole by any read touching it) and all arrays together are checked
    with [`check_declared`][] against the bytes stored for them.

    Returns
    -------
    int
        The bytes stored for the store's arrays.

    Raises
    ------
    FormatError
        Naming the store and the array.
    """
    where = Path(path)
    declared_total = stored_total = 0
    for root, dirs, files in os.walk(where):
        dirs.sort()
        if "zarr.json" not in files:
            continue
        folder = Path(root)
        meta = _metadata(folder / "zarr.json", where)
        if meta.get("node_type") != "array":
            continue
        dirs[:] = []  # an array's folder holds chunks, not nodes
        name = folder.relative_to(where).as_posix()
        declared, chunk = _array_bytes(meta, name, where)
        stored = _stored(folder) - (folder / "zarr.json").stat().st_size
        check_declared(str(where), f"array {name!r}", declared, stored)
        check_declared(str(where), f"one chunk of array {name!r}", chunk, stored)
        declared_total += declared
        stored_total += stored
    check_declared(str(where), "the store's arrays together", declared_total, stored_total)
    return stored_total
