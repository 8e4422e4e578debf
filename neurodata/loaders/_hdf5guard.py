"""Bounds on an HDF5 file (NWB, Flavell-lab, C. elegans NWB) before a reader trusts it.

An HDF5 dataset declares its shape; with chunked storage and a fill value, a
file of a few kilobytes can declare terabytes, which a reader then allocates.
[`check_hdf5`][] walks the file's objects once (hard links only: soft and
external links are not followed, so there are no cycles), bounded by
``max_objects``, and refuses datasets whose declared size is both large and far
beyond what the file stores for them.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormatError

__all__ = ["check_hdf5"]


def check_hdf5(
    path: str | Path,
    *,
    max_objects: int = 1_000_000,
    max_ratio: float = 1000.0,
    min_bytes: int = 64 << 20,
) -> None:
    """Refuse an HDF5 file with too many objects or datasets declaring unbacked sizes.

    Parameters
    ----------
    path : str or pathlib.Path
        The HDF5 file.
    max_objects : int
        Most groups + datasets visited.
    max_ratio : float
        Largest ratio of a dataset's declared bytes to the bytes stored for it
        (compression rarely exceeds 100x on recordings).
    min_bytes : int
        Datasets declaring less than this are never refused.

    Raises
    ------
    FormatError
        Naming the file and the dataset.
    """
    import h5py

    count = 0

    def visit(name: str, obj) -> None:
        nonlocal count
        count += 1
        if count > max_objects:
            raise FormatError(f"{path}: HDF5 file has more than max_objects={max_objects} objects")
        if not isinstance(obj, h5py.Dataset):
            return
        declared = int(obj.size or 0) * obj.dtype.itemsize
        if declared <= min_bytes:
            return
        stored = obj.id.get_storage_size()
        if declared > max_ratio * max(stored, 1):
            raise FormatError(
                f"{path}: HDF5 dataset {name!r} declares shape {obj.shape} {obj.dtype} "
                f"({declared} bytes) but the file stores {stored} bytes for it; refusing to "
                "allocate it (corrupt or hostile file)"
            )

    try:
        with h5py.File(path, "r") as fh:
            fh.visititems(visit)
    except FormatError:
        raise
    except Exception as exc:  # h5py raises OSError/RuntimeError/KeyError on broken files
        raise FormatError(f"{path}: unreadable HDF5 file: {type(exc).__name__}: {exc}") from exc
