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

import threading
from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from ..errors import FormatError

__all__ = [
    "LAZY_MIN_BYTES",
    "LAZY_SECONDS",
    "LAZY_THRESHOLD",
    "default_lazy",
    "indexed_signal",
    "lazy_signal",
    "signal_data",
]

#: Recordings longer than this (seconds) are read lazily by default ...
LAZY_SECONDS = 300.0
#: ... unless their float64 signal takes less than this (bytes).
LAZY_MIN_BYTES = 16 << 20
#: Signals larger than this (bytes of float64) are read lazily whatever their duration.
LAZY_THRESHOLD = 1 << 30


def default_lazy(n_times: int, n_channels: int, sfreq: float) -> bool | str:
    """``lazy`` of the default read of a recording of this shape: ``True`` (dask),
    ``"indexed"`` or ``False`` (see the module doc)."""
    nbytes = n_times * n_channels * 8
    if nbytes > LAZY_THRESHOLD:
        return True
    return "indexed" if n_times / sfreq > LAZY_SECONDS and nbytes > LAZY_MIN_BYTES else False


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
        try:
            data = self.raw.get_data(picks=picks, start=start, stop=stop, verbose="ERROR")
        except Exception as exc:  # a truncated or damaged data file, found only now
            where = next(iter(getattr(self.raw, "filenames", None) or ()), None) or "recording"
            raise FormatError(
                f"{where}: could not read samples {start}:{stop}: {type(exc).__name__}: "
                + (" ".join(str(exc).split()) or "no message")
            ) from exc
        return data.T[::step]


def lazy_signal(raw: Any, chunk_seconds: float) -> Any:
    """``signal(time, channel)`` of ``raw`` as a dask array of ``chunk_seconds`` chunks."""
    import dask.array as da

    chunk = max(1, round(chunk_seconds * raw.info["sfreq"]))
    return da.from_array(  # meta given: dask does not read an empty slice to find it
        _RawArray(raw), chunks=(chunk, -1), lock=True, asarray=True, name=False, fancy=False,
        meta=np.empty((0, 0)),
    )  # fmt: skip


class _RawBackendArray(BackendArray):
    """A Raw's ``(time, channel)`` signal for xarray's lazy indexing (basic keys)."""

    def __init__(self, raw: Any):
        self.raw = raw
        self.shape = (raw.n_times, len(raw.ch_names))
        self.dtype = np.dtype("float64")
        self._lock = threading.Lock()  # one file handle: one read at a time

    def __getstate__(self) -> dict:
        return {"raw": self.raw, "shape": self.shape, "dtype": self.dtype}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple) -> np.ndarray:
        """Integers and slices (xarray has split any other key off)."""
        scalar = tuple(axis for axis, k in enumerate(key) if not isinstance(k, slice))
        spans = [
            k if isinstance(k, slice) else slice(int(k) % size, int(k) % size + 1)
            for k, size in zip(key, self.shape, strict=True)
        ]
        with self._lock:
            data = _RawArray(self.raw)[spans[0], spans[1]]
        return data.squeeze(axis=scalar) if scalar else data


def indexed_signal(raw: Any) -> indexing.LazilyIndexedArray:
    """``signal(time, channel)`` of ``raw``, read on indexing (no dask)."""
    return indexing.LazilyIndexedArray(_RawBackendArray(raw))


def signal_data(raw: Any, lazy: bool | str, chunk_seconds: float, copy: bool = True) -> Any:
    """The ``(time, channel)`` samples of ``raw``: in memory (``lazy=False``; ``copy=False``
    takes MNE's preloaded buffer), read on indexing (``"indexed"``) or a dask array."""
    if not lazy and copy:
        return raw.get_data(verbose="ERROR").T
    if not lazy:
        # MNE's preload path is its fastest full read; its buffer is ours (the Raw is dropped),
        # so no copy is made (raw.get_data() would copy it once more)
        if not raw.preload:  # (MNE's verbose handling alone costs ~0.1 ms)
            raw.load_data(verbose="ERROR")
        data = getattr(raw, "_data", None)
        return data.T if isinstance(data, np.ndarray) else raw.get_data(verbose="ERROR").T
    if lazy == "indexed":
        return indexed_signal(raw)
    return lazy_signal(raw, chunk_seconds)
