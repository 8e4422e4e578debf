"""The ridge/CV settings: one validated object passed whole from ``compare`` to the kernels."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...errors import SchemaError
from . import _ridge
from ._inputs import _dtype, _pick_backend, _pick_score

__all__ = ["DEFAULT_ALPHAS", "RidgeSettings", "as_ridge_settings"]

#: Default alpha grid: 10^-1 ... 10^7, 9 values (a wide grid for z-scored features).
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-1, 7, 9))


@dataclasses.dataclass(frozen=True)
class RidgeSettings:
    """What a cross-validated ridge fit computes: penalties, folds, scoring, precision.

    One object instead of the same parameters written out in every signature:
    [`ridge_cv`][], [`cross_validated_scores`][], [`encode`][],
    [`layer_scores`][], [`banded_ridge_cv`][], [`banded_scores`][],
    [`variance_partition`][] and ``neurodata compare`` take it whole (as
    ``settings``) and pass it on unchanged to the kernels. Every function also accepts
    the fields as keywords, which override the object's (``ridge_cv(X, Y, cv=10)``).
    How to compute (``scheduler``, ``device``, ``progress``) is not a setting: those
    are keywords of each function or come from `neurodata.config`.

    Parameters
    ----------
    alphas : sequence of float
        Positive, distinct ridge penalties (default `DEFAULT_ALPHAS`, 1e-1 ... 1e7).
    cv : int, splitter or iterable of (train, test)
        Folds: those that choose alphas in [`ridge_cv`][], the outer folds of the
        nested functions. An int is [`ContiguousKFold`][] (never shuffled).
    inner_cv : int or splitter
        Inner folds of the nested functions, applied to each outer training set.
    scoring : {"neg_mse", "r2", "r"}
        Per-fold score averaged over folds to choose alphas (``"neg_mse"``:
        himalaya's ``l2_neg_loss``).
    fit_intercept : bool
        Centre features and targets on their training means in every fold.
    dtype : {"float32", "float64"}
        Precision of the large products (decompositions are always float64).
    targets_batch : int or None
        Targets processed together; bounds memory (None: all at once).
    backend : {"numpy", "torch"}
        Where the cross-validation products run (``"torch"`` needs the ``models`` extra).

    Raises
    ------
    SchemaError
        For an invalid value, naming the field, what is expected and what was found.
    """

    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    cv: Any = 5
    inner_cv: Any = 5
    scoring: str = "neg_mse"
    fit_intercept: bool = True
    dtype: str = "float32"
    targets_batch: int | None = 2048
    backend: str = "numpy"

    def __post_init__(self) -> None:
        alphas = _ridge._check_alphas(self.alphas)
        object.__setattr__(self, "alphas", tuple(float(a) for a in alphas))
        _pick_score(self.scoring)
        object.__setattr__(self, "dtype", str(_dtype(self.dtype)))
        _pick_backend(self.backend)
        batch = self.targets_batch
        if batch is not None and (
            isinstance(batch, bool) or not isinstance(batch, int) or batch < 1
        ):
            raise SchemaError(f"`targets_batch` must be a positive integer or None; got {batch!r}")
        if not isinstance(self.fit_intercept, bool | np.bool_):
            raise SchemaError(f"`fit_intercept` must be True or False; got {self.fit_intercept!r}")

    # what the kernels need, derived once
    @property
    def alphas_array(self) -> np.ndarray:
        """The alphas as a float64 array (the order given)."""
        return np.asarray(self.alphas, dtype=np.float64)

    @property
    def score(self) -> str:
        """The kernels' name of ``scoring``."""
        return _pick_score(self.scoring)

    @property
    def np_dtype(self) -> np.dtype:
        """``dtype`` as a numpy dtype."""
        return np.dtype(self.dtype)

    def replace(self, **changes: Any) -> RidgeSettings:
        """A copy with some fields changed (validated)."""
        _check_fields(changes)
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """The settings as attrs (JSON-able: folds as their repr)."""
        return {
            "alphas": list(self.alphas),
            "cv": repr(self.cv),
            "inner_cv": repr(self.inner_cv),
            "scoring": self.scoring,
            "fit_intercept": int(self.fit_intercept),
            "dtype": self.dtype,
            "backend": self.backend,
        }


FIELDS = tuple(f.name for f in dataclasses.fields(RidgeSettings))


def _check_fields(changes: Mapping[str, Any]) -> None:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise SchemaError(
            f"unexpected keyword(s) {unknown}; ridge settings are {list(FIELDS)} "
            "(see RidgeSettings)"
        )


def as_ridge_settings(settings: Any = None, **changes: Any) -> RidgeSettings:
    """The one coercion gate for ridge settings.

    Parameters
    ----------
    settings : RidgeSettings, sequence of float or None
        Settings, or the alphas alone (``ridge_cv(X, Y, [1, 10, 100])``), or None
        for the defaults.
    **changes
        Fields that override those of ``settings``.

    Returns
    -------
    RidgeSettings
    """
    if settings is None:
        base = RidgeSettings() if not changes else None
    elif isinstance(settings, RidgeSettings):
        base = settings
    elif isinstance(settings, Sequence | np.ndarray) and not isinstance(settings, str):
        if "alphas" in changes:
            raise SchemaError("alphas given twice: as `settings` and as `alphas=`")
        changes = {**changes, "alphas": settings}
        base = None
    else:
        raise SchemaError(
            f"`settings` must be a RidgeSettings, a sequence of alphas or None; got "
            f"{type(settings).__name__}"
        )
    if base is None:
        _check_fields(changes)
        return RidgeSettings(**changes)
    return base.replace(**changes) if changes else base
