"""Progress bars (tqdm) for loops and for dask computations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["dask_progress", "progress"]


def progress(
    iterable: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    enabled: bool = True,
    unit: str = "it",
) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar (on stderr) unless ``enabled`` is False."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    # shown only after 2 s: quick calls stay silent, long ones get a bar
    return tqdm(
        iterable, desc=desc, total=total, unit=unit, leave=False, dynamic_ncols=True, delay=2.0
    )


@contextlib.contextmanager
def dask_progress(enabled: bool, desc: str) -> Iterator[None]:
    """A tqdm bar over the tasks of any (local-scheduler) dask computation run inside."""
    if not enabled:
        yield
        return
    from dask.callbacks import Callback
    from tqdm.auto import tqdm

    class _Bar(Callback):
        def _start_state(self, dsk: Any, state: dict) -> None:
            total = sum(len(state[k]) for k in ("ready", "waiting", "running"))
            self._bar = tqdm(total=total, desc=desc, unit="task", leave=False, delay=2.0)

        def _posttask(self, key: Any, result: Any, dsk: Any, state: dict, worker_id: Any) -> None:
            self._bar.update(1)

        def _finish(self, dsk: Any, state: dict, errored: bool) -> None:
            self._bar.close()

    with _Bar():
        yield
