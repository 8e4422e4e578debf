"""Compiled (numba) pair counts for Kendall's tau: discordant pairs and joint ties.

Imported only when numba is installed (``pip install 'neurodata[rsa]'``); see
`neurodata.analyses._kendall` for the formula and the pure-scipy fallback.

For one RDM ``a`` (sorted once: ``order``, and ``ga``, its dense ranks in sorted
order) and one RDM ``b`` (dense 0-based ranks ``rb``), the discordant pairs are
the inversions of ``y = rb[order]``: pairs ``i < j`` with ``y[i] > y[j]``, not
counting pairs tied in ``a``. They are counted by a most-significant-digit-first
radix pass over ``y`` with digits of ``DIGIT_BITS`` bits:

- inside each bucket of equal higher digits, a table ``gt[d]`` holds how many
  earlier elements have a digit larger than ``d``: a query is one load, an
  insertion adds ``d < digit`` to the whole (small, vectorised) table. No
  branches depend on the data, unlike a Fenwick tree, whose loops of
  data-dependent length are mispredicted on every element;
- each bucket is then split stably by the digit (a counting sort, while the
  bucket is in cache) for the next digit.

Ties in ``a`` are handled as in scipy's ``_kendall_dis``: the elements of a run
of equal ``a`` enter the table only after the whole run has been queried, so
pairs tied in ``a`` are never counted (the run ids travel with the elements).
Pairs tied in ``b`` are never counted because only strictly larger digits are.
Pairs tied in both (``joint``) are counted in the last digit pass, inside the
``a`` runs of each bucket. Low-cardinality ``b`` (categorical models) take one
pass.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["DIGIT_BITS", "pair_counts_row"]

#: Bits per radix digit (a table of 2**DIGIT_BITS counts per bucket).
DIGIT_BITS = 5


@numba.njit(nogil=True, cache=True)
def _add(gt, width, digit):
    for d in range(1 << width):
        gt[d] += d < digit


@numba.njit(nogil=True, cache=True)
def _joint(y, start, stop, shift, mask, cnt):
    """Pairs with equal digit among y[start:stop] (one run of a, one bucket)."""
    out = np.int64(0)
    for t in range(start, stop):
        d = (y[t] >> shift) & mask
        out += cnt[d]
        cnt[d] += 1
    for t in range(start, stop):
        cnt[(y[t] >> shift) & mask] = 0
    return out


@numba.njit(nogil=True, cache=True)
def _scatter(y, g, begin, end, shift, mask, a_ties, y_out, g_out, hist):
    """Stable counting sort of y[begin:end] by its digit into y_out[begin:end]."""
    acc = begin
    for d in range(mask + 1):
        c = hist[d]
        hist[d] = acc
        acc += c
    for t in range(begin, end):
        d = (y[t] >> shift) & mask
        p = hist[d]
        y_out[p] = y[t]
        if a_ties:
            g_out[p] = g[t]
        hist[d] = p + 1


@numba.njit(nogil=True, cache=True)
def _digit_pass(y, g, shift, width, a_ties, joint_pass, split, y_out, g_out, gt, cnt, hist):
    """Inversions (and joint ties) of one digit inside its buckets of equal higher digits.

    With ``split``, every bucket is then sorted stably by the digit into ``y_out``
    (and ``g_out``), while it is still in cache.
    """
    n = y.shape[0]
    mask = (1 << width) - 1
    up = shift + width
    inv = np.int64(0)
    joint = np.int64(0)
    for d in range(mask + 1):
        gt[d] = 0
        hist[d] = 0
    start = 0  # first element of the pending run of equal a
    begin = 0  # first element of the bucket
    for k in range(n + 1):
        if k == n or (k > 0 and (y[k] >> up) != (y[k - 1] >> up)):  # the bucket ends
            if joint_pass:
                joint += _joint(y, start, k, shift, mask, cnt)
            if split:
                _scatter(y, g, begin, k, shift, mask, a_ties, y_out, g_out, hist)
            if k == n:
                break
            for d in range(mask + 1):
                gt[d] = 0
                hist[d] = 0
            start = k
            begin = k
        elif k > 0:
            if not a_ties:
                _add(gt, width, (y[k - 1] >> shift) & mask)
                start = k
            elif g[k] != g[k - 1]:  # the run of equal a ends: insert it
                if joint_pass:
                    joint += _joint(y, start, k, shift, mask, cnt)
                for t in range(start, k):
                    _add(gt, width, (y[t] >> shift) & mask)
                start = k
        h = (y[k] >> shift) & mask
        inv += gt[h]
        hist[h] += 1
    return inv, joint


@numba.njit(nogil=True, cache=True)
def pair_counts_row(order, ga, a_has_ties, ranks_b, n_distinct_b, b_has_ties):
    """Discordant pairs and joint ties of one sorted RDM ``a`` against every row of ``ranks_b``.

    Parameters
    ----------
    order : int64 (m,)
        Sort order of ``a``.
    ga : int32 (m,)
        Dense ranks of ``a`` in sorted order (non-decreasing).
    a_has_ties : bool
    ranks_b : int32 (n_b, m)
        Dense 0-based ranks of each RDM ``b``.
    n_distinct_b : int64 (n_b,)
        Number of distinct values of each ``b``.
    b_has_ties : bool (n_b,)

    Returns
    -------
    (int64 (n_b,), int64 (n_b,))
        Discordant pairs and pairs tied in both, for every ``b``.
    """
    n_b, m = ranks_b.shape
    dis = np.zeros(n_b, dtype=np.int64)
    joint = np.zeros(n_b, dtype=np.int64)
    width_max = DIGIT_BITS
    gt = np.zeros(1 << width_max, dtype=np.int32)
    cnt = np.zeros(1 << width_max, dtype=np.int64)  # all zero between uses
    count = np.empty(1 << width_max, dtype=np.int64)
    y = np.empty(m, dtype=np.int32)
    y2 = np.empty(m, dtype=np.int32)
    g = ga.copy()
    g2 = np.empty(m, dtype=np.int32)
    for j in range(n_b):
        bits = 1
        while (1 << bits) < n_distinct_b[j]:
            bits += 1
        rb = ranks_b[j]
        for t in range(m):
            y[t] = rb[order[t]]
        if a_has_ties:
            g[:] = ga
        need_joint = a_has_ties and b_has_ties[j]
        top = bits
        while top > 0:
            shift = max(top - DIGIT_BITS, 0)
            width = top - shift
            last = shift == 0
            d, jt = _digit_pass(
                y,
                g,
                shift,
                width,
                a_has_ties,
                need_joint and last,
                not last,
                y2,
                g2,
                gt,
                cnt,
                count,
            )
            dis[j] += d
            joint[j] += jt
            if not last:
                y, y2 = y2, y
                g, g2 = g2, g
            top = shift
    return dis, joint
