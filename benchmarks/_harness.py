"""Timing and peak-memory helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(func: Callable[[], Any], *, repeat: int = 3, memory: bool = False) -> dict[str, float]:
    """Best wall time over ``repeat`` runs (seconds) and, optionally, peak traced memory (MiB).

    Peak memory is measured in a separate run under :mod:`tracemalloc` (numpy
    allocations are traced), so that tracing does not distort the timings.
    """
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    out = {"seconds": min(times)}
    if memory:
        out["peak_mib"] = peak_mib(func)
    return out


def peak_mib(func: Callable[[], Any]) -> float:
    """Peak memory (MiB) traced by :mod:`tracemalloc` during one run of ``func``."""
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def row(
    task: str, ours: dict[str, float], peer: dict[str, float], peer_name: str, **extra: Any
) -> dict[str, Any]:
    """One result row with time (and memory) ratios neurodata / peer."""
    out: dict[str, Any] = {
        "task": task,
        "peer": peer_name,
        "neurodata_s": round(ours["seconds"], 4),
        "peer_s": round(peer["seconds"], 4),
        "time_ratio": round(ours["seconds"] / peer["seconds"], 3),
    }
    if "peak_mib" in ours and "peak_mib" in peer:
        out["neurodata_mib"] = round(ours["peak_mib"], 1)
        out["peer_mib"] = round(peer["peak_mib"], 1)
        out["memory_ratio"] = round(ours["peak_mib"] / max(peer["peak_mib"], 1e-9), 3)
    out.update(extra)
    return out
