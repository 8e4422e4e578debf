"""Sorting RDM vectors fast: an argsort through numpy's vectorised value sort."""

from __future__ import annotations

import numpy as np

__all__ = ["argsort"]


def argsort(row: np.ndarray) -> tuple[np.ndarray, bool]:
    """An order that sorts ``row`` (float64, no NaN), and whether ``row`` may have ties.

    One vectorised *value* sort of packed keys instead of an argsort (numpy's
    value sort is SIMD-accelerated, its argsort is not): the key of entry i is
    the order-preserving integer image of ``row[i]`` with its lowest bits
    replaced by i. Entries whose keys agree above those bits (exact ties, or
    values equal to ~8 significant digits) are then put in exact order; when
    there are many such entries (e.g. categorical RDMs), a plain argsort is used.
    """
    m = row.size
    bits = max(1, (m - 1).bit_length())
    if bits > 40:  # pragma: no cover - > 10^12 entries
        return np.argsort(row), True
    s = (row + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    key = s ^ ((s >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))  # signed order = float order
    low = np.int64((1 << bits) - 1)
    key &= ~low
    key |= np.arange(m, dtype=np.int64)
    key.sort()
    order = key & low
    near = np.flatnonzero((key[1:] ^ key[:-1]).view(np.uint64) <= np.uint64(low))
    if near.size == 0:
        return order, False
    if near.size > m // 16:
        return np.argsort(row), True
    pos = np.unique(np.concatenate([near, near + 1]))
    sub = order[pos]
    order[pos] = sub[np.lexsort((row[sub], key[pos] >> np.int64(bits)))]
    return order, True
