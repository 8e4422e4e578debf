"""Errors of lazy reads, raised where the data are computed, as errors naming the file.

A lazily loaded variable is a dask array whose graph holds the reader's array object
(an xarray backend array over a zarr/netCDF store, an MNE Raw, an HDF5 dataset): the
file is read only when a chunk is computed, long after [`neurodata.load`][] returned,
and a corrupt chunk or a truncated data file then raises whatever the reader raises
(``RuntimeError: Zstd decompression error``, ``RuntimeError: Incorrect number of
samples``). [`guard`][] replaces each such array object in the graph by a wrapper whose
reads re-raise any exception as a [`FormatError`][] naming the file, with the original
as its ``__cause__``. The wrapper also forces the read inside the guarded call (xarray's
adapters would otherwise defer it to a later ``np.asarray``).

``guard(..., check=...)`` also runs ``check()`` after every chunk read:
[`StoreIdentity`][] uses it to tell a reader that the store it opened was replaced
(``save(..., overwrite=True)`` from any process) instead of letting it mix old and new
chunks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError, NeurodataError

__all__ = ["StoreIdentity", "guard"]


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bytes, int, float, complex, bool, type(None), np.generic))


class _Guarded:
    """An array-like whose reads raise `FormatError` naming ``path`` (picklable)."""

    def __init__(self, array: Any, path: str, check: Callable[[], None] | None = None):
        self.array, self.path, self.check = array, path, check
        self.shape, self.dtype = tuple(array.shape), np.dtype(array.dtype)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 0

    def __getitem__(self, key: Any) -> np.ndarray:
        try:
            out = self.array[key]
            out = out.get_duck_array() if hasattr(out, "get_duck_array") else np.asarray(out)
        except NeurodataError:
            raise
        except Exception as exc:  # every reader raises its own kind on a broken file
            if self.check is not None:
                self.check()  # a store replaced mid-read: say so, not what the mix broke
            message = " ".join(str(exc).split()) or "no message"
            raise FormatError(
                f"{self.path}: could not read its data: {type(exc).__name__}: {message}"
            ) from exc
        if self.check is not None:
            self.check()  # after the read: the chunk came from the store that was opened
        return out


def _is_source(value: Any) -> bool:
    """A reader's array object held in a dask graph (not a task, not plain data)."""
    from dask._task_spec import GraphNode

    if isinstance(value, (GraphNode, np.ndarray, _Guarded, tuple, list, dict, set)):
        return False
    return not _scalar(value) and hasattr(value, "__getitem__") and hasattr(value, "shape")


def _guard_dask(array: Any, path: str, check: Callable[[], None] | None) -> Any:
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

    graph = array.__dask_graph__()
    if not isinstance(graph, HighLevelGraph):
        return array
    layers, changed = dict(graph.layers), False
    for name, layer in graph.layers.items():
        if not isinstance(layer, MaterializedLayer):
            continue  # blockwise layers hold tasks, never the reader's objects
        mapping = dict(layer)
        sources = [key for key, value in mapping.items() if _is_source(value)]
        if not sources:
            continue
        for key in sources:
            mapping[key] = _Guarded(mapping[key], path, check)
        layers[name] = MaterializedLayer(mapping, annotations=layer.annotations)
        changed = True
    if not changed:
        return array
    new = HighLevelGraph(layers, graph.dependencies)
    return da.Array(new, array.name, array.chunks, meta=array._meta)


def guard(obj: Any, path: str | os.PathLike, *, check: Callable[[], None] | None = None) -> Any:
    """``obj`` with the reads of its dask-backed variables guarded (see the module doc).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        What a reader returned (any dims); its dask-backed variables are rewired in place.
    path : str or os.PathLike
        The file named by the errors.
    check : callable, optional
        Called after every chunk read; raises to refuse the chunk.

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        ``obj``.
    """
    import xarray as xr

    if isinstance(obj, xr.DataArray):
        variables = [obj.variable, *obj.coords.variables.values()]
    elif isinstance(obj, xr.Dataset):
        variables = list(obj.variables.values())
    else:
        return obj
    for variable in variables:
        if variable.chunks is not None and not isinstance(variable, xr.IndexVariable):
            variable.data = _guard_dask(variable.data, str(path), check)
    return obj


class StoreIdentity:
    """The identity of a store on disk, checked after each chunk read.

    Replacing a store (``save(..., overwrite=True)``) renames a new directory or file
    onto the path, so the path's inode changes, and so does the inode and modification
    time of a zarr store's ``zarr.json``: a reader that opened the old store gets a
    [`FormatError`][] instead of a silent mix of old and new chunks (or fill values).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.stamp = self._stamp()

    def _stamp(self) -> tuple | None:
        try:
            top = os.stat(self.path)
            parts = [top.st_dev, top.st_ino]
            if self.path.is_dir():
                meta = os.stat(self.path / "zarr.json")
                parts += [meta.st_ino, meta.st_mtime_ns, meta.st_size]
            return tuple(parts)
        except OSError:
            return None

    def __call__(self) -> None:
        if self._stamp() != self.stamp:
            raise FormatError(
                f"{self.path}: the store was replaced (or removed) after it was opened, so its "
                "chunks would mix two versions; open it again to read what it holds now"
            )
