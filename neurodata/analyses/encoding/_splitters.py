"""Cross-validation splitters that respect time.

fMRI, MEG and iEEG samples are autocorrelated: a random K-fold split puts
neighbouring samples on both sides of a fold and inflates held-out scores.
The splitters here keep test sets contiguous (or whole runs/stories), and can
leave a ``gap`` of samples out of the training set on each side of a test block.

They follow scikit-learn's splitter protocol (``split(X, y=None, groups=None)``
and ``get_n_splits()``) without importing scikit-learn, so they can be passed
to scikit-learn and himalaya as ``cv`` and vice versa.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ...errors import SchemaError

__all__ = ["ContiguousKFold", "LeaveGroupOut", "check_splits"]

Split = tuple[np.ndarray, np.ndarray]


def _check_gap(gap: int) -> int:
    if not (isinstance(gap, int | np.integer) and gap >= 0):
        raise SchemaError(f"`gap` must be a non-negative int (samples); got {gap!r}")
    return int(gap)


def _train_without_gap(
    n_samples: int, test: np.ndarray, gap: int, groups: Any = None
) -> np.ndarray:
    """All samples not in ``test`` and farther than ``gap`` samples from it (within a group)."""
    mask = np.ones(n_samples, dtype=bool)
    mask[test] = False
    if gap:
        near = np.zeros(n_samples, dtype=bool)
        for shift in range(1, gap + 1):
            for sign in (-1, 1):
                idx = test + sign * shift
                idx = idx[(idx >= 0) & (idx < n_samples)]
                if groups is not None:  # a gap never crosses into another run
                    idx = idx[groups[idx] == groups[idx - sign * shift]]
                near[idx] = True
        mask &= ~near
    return np.flatnonzero(mask)


class ContiguousKFold:
    """K folds of consecutive samples, optionally with a gap around each test block.

    With ``gap=0`` the folds are those of `sklearn.model_selection.KFold`
    without shuffling (the first ``n_samples % n_splits`` folds hold one more
    sample).

    Parameters
    ----------
    n_splits : int
        Number of folds (>= 2).
    gap : int
        Samples removed from the training set on each side of the test block,
        so that autocorrelation (e.g. the haemodynamic response, ~6 TRs) does not
        leak across the boundary.
    """

    def __init__(self, n_splits: int = 5, *, gap: int = 0) -> None:
        if not (isinstance(n_splits, int | np.integer) and n_splits >= 2):
            raise SchemaError(f"`n_splits` must be an int >= 2; got {n_splits!r}")
        self.n_splits = int(n_splits)
        self.gap = _check_gap(gap)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        n_samples = len(X) if not np.isscalar(X) else int(X)
        if n_samples < self.n_splits:
            raise SchemaError(
                f"ContiguousKFold: {self.n_splits} folds need at least {self.n_splits} "
                f"samples; got {n_samples}"
            )
        sizes = np.full(self.n_splits, n_samples // self.n_splits)
        sizes[: n_samples % self.n_splits] += 1
        stops = np.cumsum(sizes)
        for start, stop in zip(stops - sizes, stops):
            test = np.arange(start, stop)
            yield _train_without_gap(n_samples, test, self.gap), test

    def __repr__(self) -> str:
        return f"ContiguousKFold(n_splits={self.n_splits}, gap={self.gap})"


class LeaveGroupOut:
    """Leave one group (run, story, session, block) out at a time.

    Parameters
    ----------
    gap : int
        Samples of the *same* group adjacent to the test block that are removed
        from training (only matters when a group is split into several blocks).

    Notes
    -----
    ``groups`` (one label per sample) is given to `split`, as in
    scikit-learn's ``LeaveOneGroupOut``; groups are visited in order of first
    appearance.
    """

    def __init__(self, *, gap: int = 0) -> None:
        self.gap = _check_gap(gap)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if groups is None:
            raise SchemaError("LeaveGroupOut: `groups` (one label per sample) is required")
        return len(_unique_in_order(np.asarray(groups)))

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        if groups is None:
            raise SchemaError("LeaveGroupOut: `groups` (one label per sample) is required")
        groups = np.asarray(groups)
        n_samples = len(X) if not np.isscalar(X) else int(X)
        if len(groups) != n_samples:
            raise SchemaError(
                f"LeaveGroupOut: `groups` has {len(groups)} labels; expected one per sample "
                f"({n_samples})"
            )
        labels = _unique_in_order(groups)
        if len(labels) < 2:
            raise SchemaError(f"LeaveGroupOut: needs at least 2 groups; got {list(labels)}")
        for label in labels:
            test = np.flatnonzero(groups == label)
            yield _train_without_gap(n_samples, test, self.gap, groups), test

    def __repr__(self) -> str:
        return f"LeaveGroupOut(gap={self.gap})"


def _unique_in_order(values: np.ndarray) -> np.ndarray:
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def check_splits(cv: Any, n_samples: int, groups: Any = None) -> list[Split]:
    """Materialise ``cv`` into a list of (train, test) index arrays and check them.

    Parameters
    ----------
    cv : int, splitter or iterable of (train, test)
        An int means [`ContiguousKFold`][] with that many folds (never a
        shuffled split); any object with a ``split`` method (neurodata's or
        scikit-learn's) is called with ``groups``; an iterable of index pairs is
        used as is.
    n_samples : int
        Number of samples.
    groups : array_like, optional
        One label per sample, for group splitters.

    Returns
    -------
    list of (ndarray, ndarray)
        Integer train and test indices of every fold.
    """
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        cv = ContiguousKFold(int(cv))
    if isinstance(cv, str | bytes):
        splits = None
    elif hasattr(cv, "split"):
        splits: Iterable = cv.split(np.empty((n_samples, 0)), None, groups)
    elif isinstance(cv, Iterable):
        splits = cv
    else:
        splits = None
    if splits is None:
        raise SchemaError(
            "`cv` must be an int (contiguous folds), a splitter with a `split` method or an "
            f"iterable of (train, test) index arrays; got {cv!r}"
        )
    out = []
    for i, pair in enumerate(splits):
        try:
            train, test = pair
        except (TypeError, ValueError):
            raise SchemaError(f"`cv`: fold {i} is not a (train, test) pair; got {pair!r}") from None
        train, test = _as_index(train, n_samples, i, "train"), _as_index(test, n_samples, i, "test")
        if len(train) == 0 or len(test) == 0:
            raise SchemaError(f"`cv`: fold {i} has an empty train or test set")
        if np.intersect1d(train, test).size:
            raise SchemaError(f"`cv`: fold {i} has samples in both its train and test sets")
        out.append((train, test))
    if not out:
        raise SchemaError("`cv` yielded no folds")
    return out


def _as_index(idx: Any, n_samples: int, fold: int, which: str) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.dtype == bool:
        if idx.shape != (n_samples,):
            raise SchemaError(
                f"`cv`: fold {fold} {which} mask has shape {idx.shape}; expected ({n_samples},)"
            )
        return np.flatnonzero(idx)
    if idx.dtype.kind not in "iu":
        raise SchemaError(f"`cv`: fold {fold} {which} indices must be integers; got {idx.dtype}")
    idx = idx.astype(np.intp).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n_samples):
        raise SchemaError(
            f"`cv`: fold {fold} {which} indices must lie in [0, {n_samples}); "
            f"got [{idx.min()}, {idx.max()}]"
        )
    return idx
