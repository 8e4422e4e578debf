"""Statistics shared by several analyses (multiple-comparison corrections)."""

from __future__ import annotations

import numpy as np
from scipy import stats as _stats

__all__ = ["fdr_bh"]


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values of an array (NaN entries are ignored and stay NaN).

    Parameters
    ----------
    p : ndarray
        p-values of any shape; the correction runs over all finite entries together.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape (``scipy.stats.false_discovery_control(method="bh")``).
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = _stats.false_discovery_control(p[ok], method="bh")
    return out
