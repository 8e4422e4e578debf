"""Preprocessing estimated inside cross-validation folds: drift, nuisance regressors, z-scores.

No statistic of the training samples is estimated with test samples, and no
test sample reaches the model. In order, for every array (responses and each
feature matrix), per outer fold:

1. Drift: per run, a constant and the discrete cosine basis of the whole run
   ([`drift_basis`][neurodata.analyses.encoding.drift_basis]; the basis depends
   only on the run's length and TR) are fitted by least squares on the run's
   training samples and subtracted from them. Every contiguous stretch of test
   samples is high-passed on its own (a constant and the cosine basis of the
   stretch, fitted on the stretch), exactly as a held-out run would be:
   extrapolating the training fit into a held-out block is unstable (on the
   Alice data it turns held-out correlations strongly negative), and the
   stretch's own fit uses no training sample.
2. Nuisance regressors (motion, word rate, sound power, ...), detrended the
   same way, are fitted on the training samples and their fit is subtracted
   from training and test samples (from features too: by Frisch-Waugh-Lovell
   the model's score is then net of them).
3. z-scores: the training samples' mean and standard deviation of each run
   are applied to its training and test samples (after drift removal the test
   stretch's own mean is already zero); a run with no training sample uses
   its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import SchemaError
from ._statistics import _group_slices, drift_basis

__all__ = ["FoldPreprocessor"]


class FoldPreprocessor:
    """Fit preprocessing on training samples and apply it to training and test samples.

    Parameters
    ----------
    n_samples : int
        Samples of the whole series.
    runs : array_like, optional
        One run label per sample (drift and z-scores are per run).
    tr : float, optional
        Sampling period (s); needed with ``drift_cutoff``.
    drift_cutoff : float, optional
        High-pass period (s) of the cosine drift basis; None: no drift removal.
    confounds : ndarray (n_samples, n_confounds), optional
        Nuisance regressors to regress out.
    zscore : bool
        Scale every run of every column to zero mean and unit variance.
    """

    def __init__(
        self,
        n_samples: int,
        *,
        runs: Any = None,
        tr: float | None = None,
        drift_cutoff: float | None = None,
        confounds: np.ndarray | None = None,
        zscore: bool = False,
    ) -> None:
        self.n_samples = int(n_samples)
        self.runs = _group_slices(runs, self.n_samples)
        if drift_cutoff is not None and (tr is None or tr <= 0):
            raise SchemaError(
                "`drift_cutoff` needs the sampling period: give labelled data with "
                f"attrs['sfreq'] or a regular 'time' coordinate, or `tr`; got tr={tr!r}"
            )
        self.bases = [
            np.column_stack(
                [np.ones(len(idx))]
                + ([drift_basis(len(idx), float(tr), drift_cutoff)] if drift_cutoff else [])
            )
            for idx in self.runs
        ]
        self.detrend = drift_cutoff is not None
        self.tr, self.drift_cutoff = tr, drift_cutoff
        if confounds is not None:
            confounds = np.asarray(confounds, dtype=np.float64)
            if confounds.ndim == 1:
                confounds = confounds[:, None]
            if confounds.shape[0] != self.n_samples or not np.all(np.isfinite(confounds)):
                raise SchemaError(
                    f"confounds: expected finite values of shape ({self.n_samples}, "
                    f"n_confounds); got shape {confounds.shape}"
                )
        self.confounds = confounds
        self.zscore = bool(zscore)

    @property
    def active(self) -> bool:
        return self.detrend or self.zscore or self.confounds is not None

    def _fit_rows(self, idx: np.ndarray, in_train: np.ndarray) -> np.ndarray:
        """Positions (within the run) whose statistics are used: training ones, else all."""
        local = np.flatnonzero(in_train[idx])
        return local if local.size else np.arange(len(idx))

    def _detrend(self, A: np.ndarray, in_train: np.ndarray, in_test: np.ndarray) -> np.ndarray:
        A = A.copy()
        for idx, basis in zip(self.runs, self.bases):
            rows = np.flatnonzero(in_train[idx])
            if rows.size:
                coef, *_ = np.linalg.lstsq(basis[rows], A[idx[rows]], rcond=None)
                A[idx[rows]] -= basis[rows] @ coef
            for seg in _stretches(np.flatnonzero(in_test[idx])):
                own = self._segment_basis(len(seg))
                coef, *_ = np.linalg.lstsq(own, A[idx[seg]], rcond=None)
                A[idx[seg]] -= own @ coef
        return A

    def _segment_basis(self, n: int) -> np.ndarray:
        cols = [np.ones(n)]
        if self.detrend and n > 1:
            cols.append(drift_basis(n, self.tr, self.drift_cutoff))
        return np.column_stack(cols)

    def _scale(self, A: np.ndarray, in_train: np.ndarray) -> np.ndarray:
        for idx in self.runs:
            part = A[idx[self._fit_rows(idx, in_train)]]
            std = part.std(0)
            mean = 0.0 if self.detrend else part.mean(0)
            A[idx] = (A[idx] - mean) / np.where(std > 0, std, 1.0)
        return A

    def __call__(
        self, train: np.ndarray, test: np.ndarray, *arrays: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(train rows, test rows)`` of every array after fold-wise preprocessing."""
        if not self.active:
            return [(A[train], A[test]) for A in arrays]
        in_train = np.zeros(self.n_samples, dtype=bool)
        in_train[train] = True
        in_test = np.zeros(self.n_samples, dtype=bool)
        in_test[test] = True
        C = None
        if self.confounds is not None:
            if self.detrend:
                C = self._detrend(self.confounds, in_train, in_test)
            else:  # an intercept with the confounds
                C = np.column_stack([np.ones(self.n_samples), self.confounds])
        out = []
        for A in arrays:
            dtype = A.dtype if np.issubdtype(A.dtype, np.floating) else np.float64
            B = np.asarray(A, dtype=np.float64)
            if self.detrend:
                B = self._detrend(B, in_train, in_test)
            if C is not None:
                beta, *_ = np.linalg.lstsq(C[train], B[train], rcond=None)
                B = B - C @ beta
            if self.zscore:
                B = self._scale(B, in_train)
            out.append((B[train].astype(dtype), B[test].astype(dtype)))
        return out


def _stretches(positions: np.ndarray) -> list[np.ndarray]:
    """Split sorted positions into runs of consecutive values."""
    if positions.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) > 1) + 1
    return np.split(positions, breaks)
