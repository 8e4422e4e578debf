"""Compute a dask write so that no task outlives the call.

dask's threaded scheduler re-raises the first task error while sibling tasks are
still running on its shared thread pool, and a distributed client keeps running
tasks that were already executing when their result was abandoned. For a write
into a temporary store, such a straggler recreates chunks after the caller has
removed the store. [`compute_settled`][] waits for every task to stop before it
returns or raises:

- dask's default threaded scheduler: the graph runs on a private thread pool that
  is shut down with ``wait=True`` (queued tasks are cancelled, running ones finish);
- a ``distributed.Client``: on failure the future is cancelled and the workers are
  polled until none of the graph's tasks is still occupying a thread;
- the synchronous and multiprocessing schedulers already stop everything before
  raising (the latter shuts its process pool down), as does a user's executor.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["compute_settled"]

#: How long to wait for a distributed worker to finish abandoned tasks.
_DRAIN_SECONDS = 600.0


def _running_keys(dask_worker: Any) -> list[Any]:
    return [ts.key for ts in dask_worker.state.all_running_tasks]


def _drain(client: Any, keys: set[Any]) -> None:
    """Wait until no worker runs a task of ``keys``; raise if it takes too long."""
    deadline = time.monotonic() + _DRAIN_SECONDS
    while True:
        running = {k for ks in client.run(_running_keys).values() for k in ks if k in keys}
        if not running:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{len(running)} abandoned write task(s) still running on the cluster after "
                f"{_DRAIN_SECONDS:.0f} s, e.g. {sorted(map(str, running))[:3]}"
            )
        time.sleep(0.05)


def _client_of(get: Any) -> Any:
    distributed = sys.modules.get("distributed")
    owner = getattr(get, "__self__", None)
    if distributed is not None and isinstance(owner, distributed.Client):
        return owner
    return None


def compute_settled(obj: Any) -> Any:
    """``obj.compute()``, but when this returns or raises, none of its tasks still runs.

    Parameters
    ----------
    obj : dask collection
        E.g. the delayed write returned by ``to_zarr(..., compute=False)``.

    Returns
    -------
    Any
        The computed value.
    """
    import dask
    import dask.threaded
    from dask.base import get_scheduler
    from dask.system import CPU_COUNT

    get = get_scheduler(collections=[obj])
    if get is dask.threaded.get:
        pool = ThreadPoolExecutor(dask.config.get("num_workers", None) or CPU_COUNT)
        try:
            return dask.compute(obj, scheduler=pool)[0]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    client = _client_of(get)
    if client is None:
        return dask.compute(obj, scheduler=get)[0]
    (obj,) = dask.optimize(obj)  # the keys the workers will run
    keys = set(obj.__dask_graph__().keys())
    future = client.compute(obj, optimize_graph=False)
    try:
        return future.result()
    except BaseException:
        client.cancel([future], force=True)
        _drain(client, keys)
        raise
