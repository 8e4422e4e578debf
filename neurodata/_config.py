"""How-to-compute settings: one context manager instead of knobs threaded through every layer.

Settings here change *how* a result is computed (where tasks run, how many threads, progress
bars, the torch device), never *what* is computed: anything that changes a number (alphas,
folds, seeds, dtypes) stays an explicit parameter of the function that uses it.

>>> import neurodata as nd
>>> with nd.config(progress=False, n_jobs=2):
...     nd.get_config()["n_jobs"]
2

The values live in a [`contextvars.ContextVar`][], so a ``with`` block affects only the
code it encloses (threads and asyncio tasks started inside inherit a copy), and nothing is
left changed after the block, even when it raises.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import SchemaError

__all__ = ["config", "get_config", "resolve", "resolve_n_jobs"]

#: The settings and their defaults. ``None`` means "decide per call" (see each entry).
DEFAULTS: Mapping[str, Any] = {
    # progress bars on stderr for anything that takes more than a few seconds
    "progress": True,
    # where independent tasks run: None (in this process), a dask scheduler name
    # ("threads", "processes", "synchronous"), a distributed Client or its address
    "scheduler": None,
    # worker threads/processes inside one call (None: the function's own choice, usually 1)
    "n_jobs": None,
    # BLAS/LAPACK threads for the linear algebra of one call (None: leave the library's)
    "blas_threads": None,
    # torch device for models and torch backends ("cpu", "cuda", "cuda:1", ...)
    "device": "cpu",
    # how many bytes a file may declare (arrays, chunks, inflated members) per byte it
    # stores, above 64 MiB (neurodata._bounds; docs/guarantees.md); math.inf: no bound
    "max_expansion": 100.0,
}

_STATE: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "neurodata_config", default=DEFAULTS
)


def _check(name: str, value: Any) -> None:
    if name not in DEFAULTS:
        raise SchemaError(f"`config` setting must be one of {sorted(DEFAULTS)}; got {name!r}")
    if name == "progress" and not isinstance(value, bool):
        raise SchemaError(f"`progress` must be True or False; got {value!r}")
    if name == "max_expansion" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1
    ):
        raise SchemaError(
            f"`max_expansion` must be a number >= 1 (math.inf: no bound); got {value!r}"
        )
    if name in ("n_jobs", "blas_threads") and value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
            raise SchemaError(
                f"`{name}` must be a positive integer, -1 (all cores) or None; got {value!r}"
            )


@contextlib.contextmanager
def config(**settings: Any) -> Iterator[Mapping[str, Any]]:
    """Set how-to-compute options for the code inside a ``with`` block.

    Parameters
    ----------
    progress : bool
        Progress bars on stderr (default True).
    scheduler : None, str or distributed.Client
        Where independent tasks run: None (this process), a dask scheduler name, a
        ``distributed.Client`` or a scheduler address (default None).
    n_jobs : int or None
        Worker threads inside one call; -1 for all cores (default None: each function's own).
    blas_threads : int or None
        BLAS/LAPACK threads for the linear algebra of one call (default None: unchanged).
    device : str
        torch device for models and torch backends (default "cpu").
    max_expansion : float
        Bytes a file may declare (arrays, chunks, inflated archive members) per byte it
        stores, beyond 64 MiB (default 100; ``math.inf`` removes the bound). Raise it to
        read a trusted file that compresses extremely well (see ``docs/guarantees.md``).

    Yields
    ------
    Mapping
        The settings in force inside the block.

    Raises
    ------
    SchemaError
        For an unknown setting or a value of the wrong kind.
    """
    for name, value in settings.items():
        _check(name, value)
    merged = {**_STATE.get(), **settings}
    token = _STATE.set(merged)
    try:
        yield merged
    finally:
        _STATE.reset(token)


def get_config() -> dict[str, Any]:
    """The settings in force here (a copy)."""
    return dict(_STATE.get())


def resolve(name: str, value: Any = None) -> Any:
    """``value`` when a caller passed one, else the setting in force.

    Functions take ``name=None`` and call ``resolve(name, value)``, so an explicit argument
    always wins over [`config`][].
    """
    if name not in DEFAULTS:
        raise SchemaError(f"`config` setting must be one of {sorted(DEFAULTS)}; got {name!r}")
    if value is not None:
        _check(name, value)
        return value
    return _STATE.get()[name]


def resolve_n_jobs(n_jobs: int | None = None, default: int = 1) -> int:
    """Worker count for one call: ``n_jobs``, else the setting in force, else ``default``.

    -1 means all cores. The result is always a positive int.

    Raises
    ------
    SchemaError
        For a value that is not a positive integer, -1 or None.
    """
    value = resolve("n_jobs", n_jobs)
    if value is None:
        return default
    if value == -1:
        import os

        return os.cpu_count() or 1
    return int(value)
