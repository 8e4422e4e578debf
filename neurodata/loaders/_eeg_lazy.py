"""Reading an MNE Raw lazily: when to, and the dask array that does it.

The rule (``read_eeg(lazy=None)``, so also ``neurodata.load(path)``): a
recording is read lazily when it lasts longer than [`LAZY_SECONDS`][]
(5 minutes) and its float64 signal would take more than [`LAZY_MIN_BYTES`][]
(16 MiB), or when the signal would take more than [`LAZY_THRESHOLD`][]
(1 GiB) whatever its duration. Short recordings, and long ones with a handful
of slow channels, are cheaper to hold than to read piecewise. A lazy
recording's ``signal`` is a dask array read ``chunk_seconds`` at a time with
``raw.get_data(start, stop)``, and its ``time`` coordinate is a
`SampleIndex` (computed, not stored).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LAZY_MIN_BYTES", "LAZY_SECONDS", "LAZY_THRESHOLD", "is_long", "lazy_signal"]

#: Recordings longer than this (seconds) are read lazily by default ...
LAZY_SECONDS = 300.0
#: ... unless their float64 signal takes less than this (bytes).
LAZY_MIN_BYTES = 16 << 20
#: Signals larger than this (bytes of float64) are read lazily whatever their duration.
LAZY_THRESHOLD = 1 << 30


def is_long(n_times: int, n_channels: int, sfreq: float) -> bool:
    """Whether the default read of a recording of this shape is lazy (see the module doc)."""
    nbytes = n_times * n_channels * 8
    return nbytes > LAZY_THRESHOLD or (n_times / sfreq > LAZY_SECONDS and nbytes > LAZY_MIN_BYTES)


class _RawArray:
    """Array-like view (time, channel) of a non-preloaded Raw, read on indexing."""

    def __init__(self, raw: Any):
        self.raw = raw
        self.shape = (raw.n_times, len(raw.ch_names))
        self.dtype = np.dtype("float64")
        self.ndim = 2

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        tkey, ckey = key if isinstance(key, tuple) else (key, slice(None))
        start, stop, step = tkey.indices(self.shape[0])
        picks = np.arange(self.shape[1])[ckey]
        if stop <= start or picks.size == 0:
            return np.empty((max(0, len(range(start, stop, step))), picks.size))
        data = self.raw.get_data(picks=picks, start=start, stop=stop, verbose="ERROR")
        return data.T[::step]


def lazy_signal(raw: Any, chunk_seconds: float) -> Any:
    """``signal(time, channel)`` of ``raw`` as a dask array of ``chunk_seconds`` chunks."""
    import dask.array as da

    chunk = max(1, round(chunk_seconds * raw.info["sfreq"]))
    return da.from_array(
        _RawArray(raw), chunks=(chunk, -1), lock=True, asarray=True, name=False, fancy=False
    )
