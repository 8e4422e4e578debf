"""BLAS/LAPACK threads: one policy for the package.

The policy, documented in ``docs/conventions.md``:

- **Thin or memory-bound linear algebra runs on one BLAS thread**: symmetric
  eigen-decompositions up to 2048 x 2048 (LAPACK's tridiagonal reduction is
  memory-bound: 6.6 s with two threads against 0.34 s with one on a busy machine for
  768 x 768), the products of RDM vectors (tiny output, long inner dimension) and the
  NTF updates (``rank`` columns). On an idle machine the second thread gains little there.
- **Everything else uses** ``nd.config(blas_threads=...)`` when it is set, and the
  library's own default (usually all cores) when it is not.
- A limit is taken **once per call** of a public function, not per kernel call: building
  a limiter inspects the loaded libraries (about 3 ms), so per-``eigh`` limiters cost
  seconds over a ``compare`` run.

[`blas_threads`][] is the one way to set a limit; the controller that applies it is
built once per process (it only describes the BLAS libraries numpy and scipy loaded).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from ._config import resolve

__all__ = ["blas_threads"]


@functools.cache
def _controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController  # a dependency of scikit-learn
    except ImportError:  # pragma: no cover
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def blas_threads(limit: int | None = None) -> Iterator[None]:
    """Limit BLAS threads inside the block.

    Parameters
    ----------
    limit : int, optional
        Threads to allow. None: ``nd.config(blas_threads=...)`` when it is set,
        else no limit (the library's default).
    """
    limit = resolve("blas_threads", limit)
    ctl = _controller() if limit is not None else None
    if ctl is None:
        yield
        return
    with ctl.limit(limits=int(limit), user_api="blas"):
        yield
