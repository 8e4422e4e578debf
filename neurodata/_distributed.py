"""Independent tasks run in this process or on a dask cluster, with bounded memory.

The heavy analyses split their work into independent tasks (batches of encoding
targets, worms) and hand them to [`run_tasks`][]; dask collections (RDMs over
layers, time points, subjects) are computed through [`compute`][]. Both take
one ``scheduler`` argument:

- ``None`` (default): in this process, one task after another; dask collections
  use dask's default (or a `distributed.Client` the user made the default);
- ``"synchronous"``, ``"threads"``, ``"processes"``: dask's local schedulers;
- a `distributed.Client`, a cluster object (``LocalCluster``,
  ``SLURMCluster`` ...: anything with a ``scheduler_address``) or the address of
  a running scheduler (``"tcp://host:8786"``): the tasks run on its workers.

Nothing global is changed: no ``dask.config.set``, and clients made here from an
address are never set as the default client and are closed on exit.

Memory: inputs shared by every task (the training features of a ridge model) are
scattered to every worker once (``broadcast=True``), never shipped per task;
tasks are created lazily and at most ``max_in_flight`` of them are submitted at a
time, so the caller holds its preallocated output plus a window of results.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._compat import require
from ._progress import progress as _progress
from .errors import NotFoundError, SchemaError

__all__ = [
    "LOCAL_SCHEDULERS",
    "check_scheduler",
    "chunk_extra_dims",
    "compute",
    "connect",
    "run_tasks",
]

#: dask's single-machine schedulers, accepted by name.
LOCAL_SCHEDULERS: tuple[str, ...] = ("processes", "synchronous", "threads")

#: Arrays (per-task arguments) at least this large are sent straight to a worker
#: (``scatter(direct=True)``) rather than embedded in the task message: messages
#: through the scheduler under 1 MB are kept in distributed's log of the last
#: 1000 messages, which would hold on to up to 1000 batches of data.
_SCATTER_BYTES = 4096


def _is_client(obj: Any) -> bool:
    # a client exists only if distributed was imported: never import it to check
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(obj, distributed.Client)


def _is_address(text: str) -> bool:
    return "://" in text or text.rpartition(":")[2].isdigit()


def check_scheduler(scheduler: Any) -> Any:
    """Validate the form of ``scheduler`` (no connection is made); return it.

    Raises
    ------
    ValueError
        For a string that is neither a local scheduler name nor an address, or an
        object that is neither a client nor a cluster.
    """
    if scheduler is None or _is_client(scheduler) or hasattr(scheduler, "scheduler_address"):
        return scheduler
    if isinstance(scheduler, str):
        if scheduler in LOCAL_SCHEDULERS or _is_address(scheduler):
            return scheduler
    raise SchemaError(
        f"`scheduler` must be None, one of {list(LOCAL_SCHEDULERS)}, a distributed.Client, "
        f"a cluster or a scheduler address such as 'tcp://127.0.0.1:8786'; got {scheduler!r}"
    )


@contextlib.contextmanager
def connect(scheduler: Any, *, timeout: float = 10.0) -> Iterator[Any]:
    """Resolve ``scheduler`` to what the analyses run on, for the ``with`` block.

    Parameters
    ----------
    scheduler : None, str, distributed.Client or cluster
        See the module docstring.
    timeout : float
        Seconds to wait for a scheduler given by address.

    Yields
    ------
    None, str or distributed.Client
        ``None`` and local scheduler names as given; a client as given; for an
        address or a cluster, a new client (not the default one), closed on exit.
        Connecting once here and passing the client on avoids one connection per
        analysis call.

    Raises
    ------
    NotFoundError
        When no scheduler answers at the address within ``timeout``.
    """
    scheduler = check_scheduler(scheduler)
    if scheduler is None or (isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS):
        yield scheduler
        return
    if _is_client(scheduler):
        yield scheduler
        return
    distributed = require("distributed", "distributed", purpose="running on a dask cluster")
    address = scheduler if isinstance(scheduler, str) else scheduler.scheduler_address
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise NotFoundError(
            f"scheduler {address!r}: no dask scheduler answered within {timeout:g} s; "
            f"expected the address of a running dask.distributed scheduler ({exc})"
        ) from None
    try:
        yield client
    finally:
        client.close()


def compute(obj: Any, scheduler: Any = None) -> Any:
    """``obj.compute()`` (an xarray or dask object) on ``scheduler``."""
    if scheduler is None:
        return obj.compute()
    with connect(scheduler) as resolved:
        return obj.compute(scheduler=resolved)


def chunk_extra_dims(obj: Any, core_dims: Iterable[Any], *, max_bytes: int = 16 << 20) -> Any:
    """Dask-chunk an xarray object along its non-core dims, whole along ``core_dims``.

    Chunks hold at most about ``max_bytes`` (at least one core block): the
    innermost extra dims are taken whole while they fit, the outer ones split.
    An object already backed by dask is returned as it is (its chunks are the
    user's choice).
    """
    if obj.chunks is not None:
        return obj
    core = set(core_dims)
    extra = [d for d in obj.dims if d not in core]
    block = obj.dtype.itemsize
    for d in core:
        block *= obj.sizes[d]
    budget = max(1, int(max_bytes) // max(1, block))
    chunks: dict[Any, int] = {d: -1 for d in core}
    for d in reversed(extra):
        take = max(1, min(obj.sizes[d], budget))
        chunks[d] = take
        budget = budget // take if take == obj.sizes[d] else 1
    return obj.chunk(chunks)


def run_tasks(
    func: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    *,
    shared: Mapping[str, Any] | None = None,
    scheduler: Any = None,
    max_in_flight: int | None = None,
    total: int | None = None,
    progress: bool = False,
    desc: str = "tasks",
) -> Iterator[tuple[int, Any]]:
    """Run ``func(*task, **shared)`` for every task; yield ``(index, result)`` as they finish.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled for processes and clusters).
    tasks : iterable of tuple
        Positional arguments of each call, consumed lazily (a generator keeps
        only the tasks in flight in memory).
    shared : mapping, optional
        Keyword arguments common to every call (large inputs such as training
        features): on a cluster they are scattered once to every worker.
    scheduler : None, str, distributed.Client or cluster
        Where to run (see the module docstring).
    max_in_flight : int, optional
        Tasks submitted but not yet collected (default: twice the workers'
        threads; 1 in this process). Bounds memory with the task size.
    total : int, optional
        Number of tasks, for the progress bar (default ``len(tasks)`` when defined).
    progress : bool
        Show a progress bar over tasks.
    desc : str
        Label of the progress bar and of the tasks on the dashboard.

    Yields
    ------
    (int, object)
        The index of the task in ``tasks`` and ``func``'s result; in order in
        this process, in order of completion elsewhere (write results by index).
    """
    if max_in_flight is not None and not (isinstance(max_in_flight, int) and max_in_flight >= 1):
        raise SchemaError(f"`max_in_flight` must be a positive int or None; got {max_in_flight!r}")
    shared = dict(shared or {})
    if total is None and hasattr(tasks, "__len__"):
        total = len(tasks)  # type: ignore[arg-type]
    with connect(scheduler) as resolved:
        if resolved is None:
            results = ((i, func(*task, **shared)) for i, task in enumerate(tasks))
        elif isinstance(resolved, str):
            results = _run_local(func, tasks, shared, resolved, max_in_flight)
        else:
            results = _run_client(func, tasks, shared, resolved, max_in_flight, desc)
        yield from _progress(results, desc=desc, total=total, enabled=progress, unit="task")


def _run_local(
    func: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    shared: dict[str, Any],
    name: str,
    window: int | None,
) -> Iterator[tuple[int, Any]]:
    import os

    import dask

    window = window or 2 * (os.cpu_count() or 1)
    numbered = enumerate(tasks)
    while chunk := list(itertools.islice(numbered, window)):
        calls = [dask.delayed(func, pure=False)(*task, **shared) for _, task in chunk]
        yield from zip((i for i, _ in chunk), dask.compute(*calls, scheduler=name))


def _run_client(
    func: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    shared: dict[str, Any],
    client: Any,
    window: int | None,
    desc: str,
) -> Iterator[tuple[int, Any]]:
    import numpy as np
    from distributed import as_completed

    if window is None:
        window = 2 * max(1, sum(client.nthreads().values()))
    run = f"{desc}-{uuid.uuid4().hex[:8]}"
    # one copy of every shared input on every worker, shipped once
    # (a dict is scattered value by value, under its keys: lists are not split)
    futures = (
        client.scatter({f"{run}-{k}": v for k, v in shared.items()}, broadcast=True)
        if shared
        else {}
    )
    scattered = {k: futures[f"{run}-{k}"] for k in shared}
    in_flight: dict[str, tuple[int, Any]] = {}
    numbered = enumerate(tasks)
    queue = as_completed(loop=client.loop)

    def submit_next() -> bool:
        item = next(numbered, None)
        if item is None:
            return False
        i, task = item
        args = [
            client.scatter(a, hash=False, direct=True)
            if isinstance(a, np.ndarray) and a.nbytes >= _SCATTER_BYTES
            else a
            for a in task
        ]
        future = client.submit(func, *args, **scattered, key=f"{run}-{i}", pure=False)
        in_flight[future.key] = (i, future)
        queue.add(future)
        return True

    try:
        for _ in range(window):
            if not submit_next():
                break
        for future in queue:
            i, _ = in_flight.pop(future.key)
            result = future.result()  # re-raises the task's exception here
            future.release()
            submit_next()
            yield i, result
    finally:
        for _, future in in_flight.values():
            future.cancel()
        for future in scattered.values():
            future.release()
