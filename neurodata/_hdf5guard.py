"""Bounds on an HDF5 file (NWB, Flavell-lab, netCDF-4) before a reader trusts it.

An HDF5 dataset declares its shape; with chunked storage and a fill value, a
file of a few kilobytes can declare terabytes, which a reader then allocates. And
a dataset can keep its bytes in *another* file (external raw storage, a virtual
dataset) or a link can point into another file: an untrusted file could make a
reader decode any local file as data. ``check_hdf5`` walks the file's objects
once (hard links only, so there are no cycles), bounded by ``max_objects``, and
refuses, with a ``neurodata.errors.FormatError`` naming the dataset:

- datasets with external raw storage, and virtual datasets mapping other files;
- external links whose target file is absolute or has a ``..`` component (links
  to files beside it are checked in turn, with the same bounds);
- datasets, and the file as a whole, that declare more than ``min_bytes`` and
  more than ``max_ratio`` times the bytes the file stores for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._bounds import MIN_BYTES, too_big
from ._config import resolve
from ._inputs import check_regular, companion
from .errors import FormatError, NeurodataError

__all__ = ["check_hdf5"]

#: Most files reached through external links (each is checked once).
_MAX_LINKED_FILES = 64


class _Walk:
    def __init__(self, path: Path, max_objects: int, max_ratio: float, min_bytes: int):
        self.path, self.max_objects = path, max_objects
        self.max_ratio, self.min_bytes = max_ratio, min_bytes
        self.count = self.declared = self.stored = 0
        self.links: list[tuple[str, str]] = []

    def _too_big(self, declared: int, stored: int) -> bool:
        return too_big(declared, stored, self.max_ratio, self.min_bytes)

    def objects(self, name: str, obj: Any) -> None:
        import h5py

        self.count += 1
        if self.count > self.max_objects:
            raise FormatError(
                f"{self.path}: HDF5 file has more than max_objects={self.max_objects} objects"
            )
        if not isinstance(obj, h5py.Dataset):
            return
        plist = obj.id.get_create_plist()
        if plist.get_external_count() > 0:
            where = plist.get_external(0)[0].decode("utf-8", "replace")
            raise FormatError(
                f"{self.path}: HDF5 dataset {name!r} keeps its data in the external file "
                f"{where!r}; expected data stored in the file itself"
            )
        if plist.get_layout() == h5py.h5d.VIRTUAL:
            files = {plist.get_virtual_filename(i) for i in range(plist.get_virtual_count())}
            if files - {"."}:
                raise FormatError(
                    f"{self.path}: HDF5 dataset {name!r} is a virtual dataset mapping other "
                    f"files {sorted(files - {'.'})}; expected data stored in the file itself"
                )
        declared = int(obj.size or 0) * obj.dtype.itemsize
        stored = obj.id.get_storage_size()
        self.declared += declared
        self.stored += stored
        if self._too_big(declared, stored):
            raise FormatError(
                f"{self.path}: HDF5 dataset {name!r} declares shape {obj.shape} {obj.dtype} "
                f"({declared} bytes) but the file stores {stored} bytes for it; refusing to "
                "allocate it (corrupt or hostile file; for a file you trust, read it inside "
                "`with neurodata.config(max_expansion=...)`)"
            )

    def link(self, name: str, link: Any) -> None:
        import h5py

        if isinstance(link, h5py.ExternalLink):  # checked after the walk: raising in here
            self.links.append((name, link.filename))  # breaks h5py's callback machinery


def check_hdf5(
    path: str | Path,
    *,
    max_objects: int = 1_000_000,
    max_ratio: float | None = None,
    min_bytes: int | None = None,
) -> None:
    """Refuse an HDF5 file that escapes its folder or declares sizes it cannot back.

    Parameters
    ----------
    path : str or pathlib.Path
        The HDF5 file.
    max_objects : int
        Most groups + datasets visited.
    max_ratio : float, optional
        Largest ratio of declared bytes to the bytes stored for them, per dataset
        and for the file's datasets together (default: ``nd.config``'s
        ``max_expansion``, the one policy of `neurodata._bounds`).
    min_bytes : int, optional
        A dataset, or a file's datasets together, declaring less than this are
        never refused for their size (default `neurodata._bounds.MIN_BYTES`).

    Raises
    ------
    FormatError
        Naming the file and the dataset or link.
    """
    ratio = resolve("max_expansion") if max_ratio is None else max_ratio
    floor = MIN_BYTES if min_bytes is None else min_bytes
    _check(Path(path), (max_objects, ratio, floor), [])


def _check(path: Path, bounds: tuple[int, float, int], seen: list[Path]) -> None:
    import h5py

    check_regular(path)
    seen.append(path.resolve())
    max_objects, max_ratio, min_bytes = bounds
    walk = _Walk(path, max_objects, max_ratio, min_bytes)
    try:
        with h5py.File(path, "r") as fh:
            fh.visititems(walk.objects)
            fh.visititems_links(walk.link)
    except NeurodataError:
        raise
    except Exception as exc:  # h5py raises OSError/RuntimeError/KeyError on broken files
        raise FormatError(f"{path}: unreadable HDF5 file: {type(exc).__name__}: {exc}") from exc
    if walk._too_big(walk.declared, walk.stored):
        raise FormatError(
            f"{path}: HDF5 datasets declare {walk.declared} bytes together but the file stores "
            f"{walk.stored} bytes for them; refusing to allocate them (corrupt or hostile file; "
            "for a file you trust, read it inside `with neurodata.config(max_expansion=...)`)"
        )
    for name, filename in walk.links:
        target = companion(path, filename, key=f"external link {name!r}")
        if target.resolve() in seen:
            continue
        if len(seen) > _MAX_LINKED_FILES:
            raise FormatError(
                f"{path}: HDF5 external links reach more than {_MAX_LINKED_FILES} files"
            )
        _check(target, bounds, seen)
