"""Structural check of a MATLAB v5 ``.mat``/``.set`` file before scipy/MNE parse it.

scipy's MAT reader trusts the sizes a file declares: a corrupted or hostile
file can make it allocate without bound or read outside its buffers (a bit
flip in a sub-element size segfaults it). [`check_mat5`][] walks the element
tree first — without building any array — and refuses, with a
[`FormatError`][neurodata.errors.FormatError], a file whose

- element sizes run past their parent element or the file,
- nesting is deeper than ``max_depth`` (cells/structs inside cells/structs),
- number of elements exceeds ``max_elements``,
- declared array dims hold more elements than the bytes that follow can store,
- compressed elements inflate beyond ``max_bytes``.

MATLAB v7.3 files are HDF5; they are left to the HDF5 reader.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import FormatError

__all__ = ["check_mat5"]

_MI_INT32, _MI_UINT32, _MI_MATRIX, _MI_COMPRESSED = 5, 6, 14, 15
_CONTAINERS = {1, 2, 3}  # cell, struct, object: their elements are miMATRIX children
_SPARSE = 5
_TAG = 8
_TYPES = {1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 17, 18}  # the miXXX data types


class _Walker:
    def __init__(self, where: str, endian: str, max_depth: int, max_elements: int, max_bytes: int):
        self.where, self.endian = where, endian
        self.max_depth, self.max_elements, self.max_bytes = max_depth, max_elements, max_bytes
        self.count = 0

    def fail(self, what: str) -> None:
        raise FormatError(f"{self.where}: MATLAB file {what}; refusing to parse it")

    def tag(self, buf: memoryview, pos: int, end: int) -> tuple[int, int, int, int]:
        """(type, nbytes, data start, next element) of the element at ``pos``."""
        if pos + _TAG > end:
            self.fail(f"has a truncated element tag at byte {pos}")
        first, second = struct.unpack_from(self.endian + "II", buf, pos)
        self.count += 1
        if self.count > self.max_elements:
            self.fail(f"has more than max_elements={self.max_elements} elements")
        if first >> 16:  # small data element: type and size packed in 4 bytes
            nbytes, mtype = first >> 16, first & 0xFFFF
            if nbytes > 4:
                self.fail(f"has a small element of {nbytes} bytes at byte {pos} (at most 4)")
            self.known(mtype, pos)
            return mtype, nbytes, pos + 4, pos + _TAG
        mtype, nbytes = first, second
        self.known(mtype, pos)
        start = pos + _TAG
        stop = start + nbytes
        if stop > end:
            self.fail(
                f"element at byte {pos} declares {nbytes} bytes; only {end - start} remain "
                "in its parent (truncated or corrupt)"
            )
        padded = stop if mtype == _MI_COMPRESSED else start + (nbytes + 7) // 8 * 8
        return mtype, nbytes, start, min(padded, end)

    def known(self, mtype: int, pos: int) -> None:
        if mtype not in _TYPES:
            self.fail(f"element at byte {pos} has unknown data type {mtype}")

    def elements(self, buf: memoryview, pos: int, end: int, depth: int) -> None:
        while pos < end:
            if end - pos < _TAG and not any(buf[pos:end]):  # trailing padding
                return
            mtype, nbytes, start, pos = self.tag(buf, pos, end)
            if mtype == _MI_COMPRESSED:
                self.compressed(buf[start : start + nbytes], depth)
            elif mtype == _MI_MATRIX:
                self.matrix(buf, start, start + nbytes, depth + 1)

    def compressed(self, data: memoryview, depth: int) -> None:
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(data, self.max_bytes + 1)
        except zlib.error as exc:
            self.fail(f"has a corrupt compressed element ({exc})")
        if len(raw) > self.max_bytes:
            self.fail(f"has a compressed element inflating beyond max_bytes={self.max_bytes}")
        self.elements(memoryview(raw), 0, len(raw), depth)

    def matrix(self, buf: memoryview, pos: int, end: int, depth: int) -> None:
        if depth > self.max_depth:
            self.fail(f"nests arrays deeper than max_depth={self.max_depth}")
        if pos == end:  # an empty miMATRIX is valid (empty cell slot)
            return
        mtype, nbytes, start, pos = self.tag(buf, pos, end)  # array flags
        if mtype != _MI_UINT32 or nbytes < 8:
            self.fail(f"array at byte {start} has no array-flags element")
        klass = struct.unpack_from(self.endian + "I", buf, start)[0] & 0xFF
        mtype, nbytes, start, pos = self.tag(buf, pos, end)  # dims
        if mtype != _MI_INT32 or nbytes % 4 or nbytes == 0:
            self.fail(f"array at byte {start} has no dimensions element")
        dims = np.frombuffer(buf[start : start + nbytes], dtype=self.endian + "i4")
        if (dims < 0).any():
            self.fail(f"array at byte {start} declares negative dimensions {dims.tolist()}")
        n = int(np.prod(dims.astype(object)))
        room = end - pos
        if klass in _CONTAINERS:
            if n * _TAG > room:
                self.fail(
                    f"cell/struct at byte {start} declares {dims.tolist()} elements but only "
                    f"{room} bytes follow"
                )
        elif klass != _SPARSE and n > room * 8:  # numeric/char/logical: >= 1 bit each
            self.fail(
                f"array at byte {start} declares dims {dims.tolist()} ({n} values) but only "
                f"{room} bytes follow"
            )
        self.elements(buf, pos, end, depth)


def check_mat5(
    path: str | Path,
    *,
    max_depth: int = 32,
    max_elements: int = 5_000_000,
    max_bytes: int = 4 << 30,
) -> None:
    """Refuse a MATLAB v5 file whose structure is corrupt or unbounded (see module doc).

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.mat``/``.set`` file. HDF5-based (v7.3) files pass unchecked.
    max_depth : int
        Deepest nesting of cells/structs.
    max_elements : int
        Most data elements in the file.
    max_bytes : int
        Largest inflated size of one compressed element.

    Raises
    ------
    FormatError
        Naming the file and what is wrong.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:8] == b"\x89HDF\r\n\x1a\n" or data[512:520] == b"\x89HDF\r\n\x1a\n":
        return
    if len(data) < 128:
        raise FormatError(f"{path}: MATLAB file is {len(data)} bytes; a v5 header needs 128")
    marker = data[126:128]
    if marker not in (b"IM", b"MI"):
        if data[:4] == b"\x00\x00\x00\x00" or b"MATLAB 5.0" not in data[:116]:
            return  # v4 or not MATLAB at all: let the reader say what it is
        raise FormatError(f"{path}: MATLAB header has endian marker {marker!r}; expected IM or MI")
    walker = _Walker(str(path), "<" if marker == b"IM" else ">", max_depth, max_elements, max_bytes)
    walker.elements(memoryview(data), 128, len(data), 0)
