"""A ``time`` index computed from the sampling rate instead of stored.

The ``time`` coordinate of a regularly sampled recording is ``i / sfreq``
seconds for sample ``i``. [`SampleIndex`][] is an xarray index (a coordinate
transform, like `xarray.indexes.RangeIndex`) that computes these labels
when they are asked for: a 2 h recording at 256 Hz keeps no 14 MiB float64
``time`` array, nor a pandas index of it, and slicing it (``isel``/``sel``)
keeps it virtual. Its values are bit for bit ``np.arange(n) / sfreq``, the
same as MNE's ``raw.times``, because each label is computed as ``(offset + i *
stride) / sfreq`` from integers.

Label-based selection behaves like a pandas index of the same values, which
is what a user of xarray expects:

- ``sel(time=slice(a, b))`` keeps the samples with ``a <= t <= b`` (seconds,
  both ends included; an open end is the recording's start or end);
- ``sel(time=t)`` needs ``t`` to be a sample time (within a millionth of a
  sample, so that ``0.1 * 3`` finds the sample at 0.3 s); otherwise a
  [`SelectionError`][neurodata.errors.SelectionError] (a ``KeyError``) names the nearest
  samples. ``method="nearest"``, ``"pad"``/``"ffill"``, ``"backfill"``/``"bfill"``
  and ``tolerance`` (seconds) work as in pandas;
- arrays of labels select sample by sample.

Positional indexing keeps the index for slices and falls back to a plain
pandas index for arrays of positions; joins and concatenations of indexes on
one sampling grid stay virtual, anything else falls back to pandas.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.core.coordinate_transform import CoordinateTransform
from xarray.core.indexes import CoordinateTransformIndex, Index, PandasIndex
from xarray.core.indexing import IndexSelResult

from ._registry import pick
from .errors import SelectionError

__all__ = ["SampleIndex", "time_coords"]

#: A label within this fraction of a sample interval of a sample time selects it.
EPS = 1e-6

_METHODS = ("nearest", "pad", "ffill", "backfill", "bfill")


class _SampleTransform(CoordinateTransform):
    """Position ``i`` -> ``(offset + i * stride) / sfreq`` seconds."""

    def __init__(
        self, sfreq: float, size: int, *, offset: int = 0, stride: int = 1, dim: str = "time"
    ):
        super().__init__([dim], {dim: int(size)}, dtype=np.dtype("float64"))
        self.sfreq = float(sfreq)
        self.offset = int(offset)
        self.stride = int(stride)

    def forward(self, dim_positions: dict[str, Any]) -> dict[Hashable, Any]:
        positions = np.asarray(dim_positions[self.dims[0]])
        return {self.coord_names[0]: (self.offset + positions * self.stride) / self.sfreq}

    def reverse(self, coord_labels: dict[Hashable, Any]) -> dict[str, Any]:
        labels = np.asarray(coord_labels[self.coord_names[0]], dtype=float)
        return {self.dims[0]: (labels * self.sfreq - self.offset) / self.stride}

    def equals(self, other: CoordinateTransform, **kwargs: Any) -> bool:
        return isinstance(other, _SampleTransform) and self._key() == other._key()

    def _key(self) -> tuple:
        return (self.sfreq, self.offset, self.stride, self.dim_size[self.dims[0]], self.dims)

    def sliced(self, key: slice) -> _SampleTransform:
        picked = range(self.dim_size[self.dims[0]])[key]
        return _SampleTransform(
            self.sfreq,
            len(picked),
            offset=self.offset + picked.start * self.stride,
            stride=self.stride * picked.step,
            dim=self.dims[0],
        )


class SampleIndex(CoordinateTransformIndex):
    """Index of sample times ``(offset + i * stride) / sfreq`` seconds (see the module doc)."""

    transform: _SampleTransform

    @classmethod
    def from_sfreq(cls, size: int, sfreq: float, *, dim: str = "time") -> SampleIndex:
        """The index of ``size`` samples at ``sfreq`` Hz from 0 s."""
        return cls(_SampleTransform(sfreq, size, dim=dim))

    @classmethod
    def from_variables(cls, variables: Mapping[Any, xr.Variable], *, options: Any) -> SampleIndex:
        raise NotImplementedError(
            "a SampleIndex is built from a sampling rate: use neurodata._timeindex.time_coords"
        )

    @property
    def dim(self) -> str:
        return self.transform.dims[0]

    @property
    def size(self) -> int:
        return self.transform.dim_size[self.dim]

    @property
    def sfreq(self) -> float:
        return self.transform.sfreq

    def _values(self) -> np.ndarray:
        return self.transform.generate_coords()[self.dim]

    def to_pandas_index(self) -> pd.Index:
        return pd.Index(self._values(), name=self.dim)

    # ------------------------------------------------------------------ positional
    def isel(self, indexers: Mapping[Any, Any]) -> Index | None:
        key = indexers[self.dim]
        if isinstance(key, slice):
            return type(self)(self.transform.sliced(key))
        if isinstance(key, xr.Variable):
            if key.dims != (self.dim,):
                return None
            key = key.data
        positions = np.asarray(key)
        if positions.ndim == 0:
            return None
        if positions.dtype.kind == "b":
            positions = np.flatnonzero(positions)
        values = self.transform.forward({self.dim: positions})[self.dim]
        return PandasIndex(pd.Index(values, name=self.dim), self.dim, coord_dtype=values.dtype)

    # ------------------------------------------------------------------ by label
    def sel(self, labels: dict[Any, Any], method: Any = None, tolerance: Any = None):
        label = labels[self.dim]
        if isinstance(label, slice):
            if method is not None or tolerance is not None:
                raise NotImplementedError(
                    "cannot use ``method`` argument if any indexers are slice objects"
                )
            return IndexSelResult({self.dim: self._slice(label)})
        if method is not None:
            pick(_METHODS, method, "method")
        found = self._positions(label, method, tolerance)
        if isinstance(label, xr.DataArray):
            found = xr.DataArray(found, coords=label._coords, dims=label.dims)
        elif isinstance(label, xr.Variable):
            found = xr.Variable(label.dims, found)
        elif np.ndim(found) == 0:
            found = int(found)
        return IndexSelResult({self.dim: found})

    def _position(self, label: Any, where: str) -> float:
        if label is None:
            return math.nan
        try:
            return float(self.transform.reverse({self.dim: label})[self.dim])
        except (TypeError, ValueError):
            raise SelectionError(
                f"{where}: {self.dim} labels are seconds (numbers); got {label!r}"
            ) from None

    def _slice(self, label: slice) -> slice:
        """Positions of ``start <= t <= stop`` (both ends included, as pandas does)."""
        if label.step is not None and not isinstance(label.step, int | np.integer):
            raise SelectionError(
                f"sel({self.dim}=slice(...)): the step counts samples (an int); got {label.step!r}"
            )
        start = self._position(label.start, f"sel({self.dim}=slice(...))")
        stop = self._position(label.stop, f"sel({self.dim}=slice(...))")
        first = 0 if math.isnan(start) else min(max(math.ceil(start - EPS), 0), self.size)
        last = self.size if math.isnan(stop) else min(max(math.floor(stop + EPS) + 1, 0), self.size)
        return slice(first, max(first, last), label.step)

    def _positions(self, label: Any, method: str | None, tolerance: Any) -> np.ndarray:
        where = f"sel({self.dim}=...)"
        raw = label.values if isinstance(label, xr.DataArray | xr.Variable) else label
        array = np.asarray(raw)
        if array.dtype.kind == "b":
            if array.shape != (self.size,):
                raise SelectionError(
                    f"{where}: a boolean selection has {self.size} values (one per sample); "
                    f"got shape {array.shape}"
                )
            return np.flatnonzero(array)
        if array.dtype.kind not in "iuf":
            raise SelectionError(f"{where}: {self.dim} labels are seconds (numbers); got {raw!r}")
        position = np.asarray(self.transform.reverse({self.dim: array})[self.dim])
        with np.errstate(invalid="ignore"):
            if method is None:
                found = np.rint(position)
                ok = np.abs(position - found) <= EPS
            elif method == "nearest":
                found = np.clip(np.floor(position + 0.5), 0, self.size - 1)
                ok = np.isfinite(position)
            elif method in ("pad", "ffill"):
                found = np.minimum(np.floor(position + EPS), self.size - 1)
                ok = found >= 0
            else:
                found = np.maximum(np.ceil(position - EPS), 0)
                ok = found < self.size
            ok &= (found >= 0) & (found < self.size)
            if tolerance is not None and self.size:
                times = self.transform.forward({self.dim: np.where(ok, found, 0).astype(np.int64)})
                ok &= np.abs(times[self.dim] - array) <= float(tolerance)
        if not ok.all():
            raise SelectionError(self._missing_message(array[~ok], method, tolerance))
        return found.astype(np.int64)

    def _missing_message(self, missing: np.ndarray, method: str | None, tolerance: Any) -> str:
        shown = ", ".join(f"{v:g}" for v in missing[:3]) + (" ..." if missing.size > 3 else "")
        span = f"{self.size} samples at {self.sfreq:g} Hz"
        if self.size:
            ends = self.transform.forward({self.dim: np.array([0, self.size - 1])})[self.dim]
            span += f", {ends[0]:g} to {ends[1]:g} s"
        if method is None:
            hint = "pass method='nearest' (or 'pad'/'backfill'), or select slice(a, b) in seconds"
        else:
            hint = f"method={method!r}" + (f" with tolerance={tolerance!r} s" if tolerance else "")
            hint = f"none found with {hint}"
        return f"sel({self.dim}=[{shown}]): not sample times of this recording ({span}); {hint}"

    # ------------------------------------------------------------------ alignment
    def equals(self, other: Index, *, exclude: frozenset[Hashable] | None = None, **kw: Any):
        return isinstance(other, SampleIndex) and self.transform.equals(other.transform)

    def _grid(self) -> tuple[float, int, int]:
        """(sfreq, stride, offset mod stride): indexes on one grid join arithmetically."""
        stride = self.transform.stride
        return (self.sfreq, stride, self.transform.offset % stride if stride > 0 else None)

    def join(self, other: Index, how: str = "inner") -> Index:
        if isinstance(self, SampleIndex) and isinstance(other, SampleIndex):
            if (
                self._grid() == other._grid()
                and self.transform.stride > 0
                and self.dim == other.dim
            ):
                return _joined(self, other, how)
        return _as_pandas(self).join(_as_pandas(other), how=how)

    def reindex_like(self, other: Index, method: Any = None, tolerance: Any = None):
        if method is None and tolerance is None and isinstance(other, SampleIndex):
            if self._grid() == other._grid() and self.transform.stride > 0:
                first = (other.transform.offset - self.transform.offset) // self.transform.stride
                positions = np.arange(other.size) * (
                    other.transform.stride // self.transform.stride
                )
                positions = positions + first
                positions[(positions < 0) | (positions >= self.size)] = -1
                return {self.dim: positions}
        return _as_pandas(self).reindex_like(_as_pandas(other), method, tolerance)

    @classmethod
    def concat(
        cls,
        indexes: Sequence[Index],
        dim: Hashable,
        positions: Iterable[Iterable[int]] | None = None,
    ) -> Index:
        samples = [i for i in indexes if isinstance(i, SampleIndex)]
        if positions is None and samples and len(samples) == len(indexes):
            first = samples[0].transform
            expected, contiguous = first.offset, True
            for index in samples:
                t = index.transform
                same_grid = (t.sfreq, t.stride) == (first.sfreq, first.stride)
                contiguous &= same_grid and t.offset == expected and t.dims == (dim,)
                expected = t.offset + index.size * t.stride
            if contiguous:
                total = sum(index.size for index in samples)
                return cls(
                    _SampleTransform(
                        first.sfreq, total, offset=first.offset, stride=first.stride, dim=str(dim)
                    )
                )
        return PandasIndex.concat([_as_pandas(i) for i in indexes], dim, positions)

    # ------------------------------------------------------------------ display
    def _repr_inline_(self, max_width: int) -> str:
        t = self.transform
        return f"SampleIndex (sfreq={t.sfreq:g} Hz, first={t.offset}, step={t.stride} samples)"

    def __repr__(self) -> str:
        return f"{self._repr_inline_(80)[:-1]}, size={self.size}, dim={self.dim!r})"


def _as_pandas(index: Index) -> PandasIndex:
    if isinstance(index, PandasIndex):
        return index
    if isinstance(index, SampleIndex):
        values = index._values()
        return PandasIndex(pd.Index(values, name=index.dim), index.dim, coord_dtype=values.dtype)
    raise TypeError(f"cannot align a SampleIndex with a {type(index).__name__}")


def _joined(a: SampleIndex, b: SampleIndex, how: str) -> Index:
    """Union (``how="outer"``) or intersection of two indexes on one grid."""
    stride = a.transform.stride
    starts = (a.transform.offset, b.transform.offset)
    stops = (starts[0] + a.size * stride, starts[1] + b.size * stride)
    if how == "outer":
        if max(starts) > min(stops):  # a gap between them: pandas' union has no labels there
            return _as_pandas(a).join(_as_pandas(b), how="outer")
        first, stop = min(starts), max(stops)
    else:
        first, stop = max(starts), min(stops)
    size = max(0, (stop - first) // stride)
    return SampleIndex(_SampleTransform(a.sfreq, size, offset=first, stride=stride, dim=a.dim))


def time_coords(size: int, sfreq: float, *, dim: str = "time") -> xr.Coordinates:
    """A virtual ``time`` coordinate (seconds, ``attrs["units"] = "s"``) and its index."""
    index = SampleIndex.from_sfreq(size, sfreq, dim=dim)
    variables = index.create_variables()
    variables[dim].attrs["units"] = "s"
    return xr.Coordinates(variables, indexes={dim: index})
