"""A linear bound on MNE's parsing of EDF+/BDF+ annotations, checked before MNE opens the file.

MNE finds the time-stamped annotation lists (TALs) of an annotation channel with one
regular expression whose lazy ``.*?`` runs, from every ``+``/``-`` that starts a
candidate onset, to the next ``\\x14\\x00`` terminator (or newline). In a real file
every TAL is terminated at once, so the work is linear; an annotation channel of
onsets without terminators makes it quadratic (100 KB took 36 s). ``check_tal``
reads the annotation channels and computes that work exactly, in linear time
(numpy), and refuses the file when it exceeds ``_WORK_PER_BYTE`` per byte.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np

from ..errors import FormatError

__all__ = ["check_tal"]

#: Characters MNE's pattern may scan per annotation byte before the file is refused.
_WORK_PER_BYTE = 64
#: Below this much scanning, never refused (a few ms of regex work).
_FLOOR = 1 << 22


def _annotation_bytes(path: Path) -> bytes:
    with builtins.open(path, "rb") as fh:
        head = fh.read(256)
        if len(head) < 256:
            return b""
        try:
            ns, n_records = int(head[252:256]), int(head[236:244])
        except ValueError:
            return b""
        if not 0 < ns <= 4096:
            return b""
        fields = fh.read(256 * ns)
        labels = [fields[16 * i : 16 * i + 16].strip() for i in range(ns)]
        at = 216 * ns
        try:
            samples = [int(fields[at + 8 * i : at + 8 * i + 8]) for i in range(ns)]
        except ValueError:
            return b""
        width = 3 if head[:1] == b"\xff" else 2  # BDF: 24-bit samples
        record = sum(samples) * width
        chans = [i for i, lab in enumerate(labels) if lab.endswith(b"Annotations")]
        if not chans or record <= 0:
            return b""
        size = path.stat().st_size - 256 * (ns + 1)
        n_records = min(n_records if n_records > 0 else size // record, size // record)
        out = bytearray()
        for r in range(max(n_records, 0)):
            for i in chans:
                fh.seek(256 * (ns + 1) + r * record + sum(samples[:i]) * width)
                out += fh.read(samples[i] * width)
    return bytes(out)


def check_tal(path: Path) -> None:
    """Refuse an EDF+/BDF+ file whose annotations would take MNE quadratic time to parse.

    Raises
    ------
    FormatError
        Naming the file, the annotation bytes and the work they would take.
    """
    data = np.frombuffer(_annotation_bytes(path), dtype=np.uint8)
    if data.size < 2:
        return
    digit = (data[1:] >= ord("0")) & (data[1:] <= ord("9"))
    starts = np.flatnonzero(((data[:-1] == ord("+")) | (data[:-1] == ord("-"))) & digit)
    stops = np.flatnonzero(((data[:-1] == 0x14) & (data[1:] == 0)) | (data[:-1] == ord("\n")))
    stops = np.append(stops, data.size)
    work = int(np.sum(stops[np.searchsorted(stops, starts)] - starts))
    if work > max(_FLOOR, _WORK_PER_BYTE * data.size):
        raise FormatError(
            f"{path}: EDF+ annotations ({data.size} bytes) hold {starts.size} onsets but few "
            f"terminated annotation lists; parsing them would scan {work} characters "
            "(corrupt or hostile file)"
        )
