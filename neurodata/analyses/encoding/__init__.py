"""Encoding models: ridge regression from features to brain responses.

Layered as scikit-learn is: numerical kernels (``_ridge``, ``_banded``, ``_ridge_torch``) ->
public functions on labelled data -> the estimator `RidgeEncoder`, which only wraps
[`ridge_cv`][].

- [`RidgeSettings`][]: the ridge/CV settings (alphas, folds, scoring, intercept, dtype,
  batch size, backend) as one validated object, passed whole from ``compare`` to the kernels;
  every function also takes its fields as keywords.
- [`ridge_cv`][]: one ridge model per target (voxel, parcel, channel) with its own alpha
  chosen by time-respecting cross-validation, refitted on all samples.
- [`cross_validated_scores`][]: held-out Pearson r and R^2 with nested CV.
- [`encode`][], [`layer_scores`][]: every layer of a network (and every subject);
  [`brain_score`][]: which layer predicts each target best.
- Banded ridge: [`banded_ridge_cv`][], [`banded_scores`][], [`variance_partition`][].
- Statistics and preprocessing: [`noise_ceiling`][], [`block_permutation_test`][],
  [`remove_drift`][], [`drift_basis`][], [`fir_delays`][].
- Splitters: [`ContiguousKFold`][], [`LeaveGroupOut`][], [`check_splits`][].
"""

from typing import Any

from ._banded_scores import banded_ridge_cv, banded_scores, variance_partition
from ._encode import brain_score, encode, layer_scores
from ._fit import cross_validated_scores, ridge_cv
from ._ridge import SCORES
from ._settings import DEFAULT_ALPHAS, RidgeSettings, as_ridge_settings
from ._splitters import ContiguousKFold, LeaveGroupOut, check_splits
from ._statistics import (
    NOISE_CEILINGS,
    block_permutation_test,
    drift_basis,
    fir_delays,
    noise_ceiling,
    remove_drift,
)

__all__ = [
    "DEFAULT_ALPHAS",
    "NOISE_CEILINGS",
    "SCORES",
    "ContiguousKFold",
    "LeaveGroupOut",
    "RidgeEncoder",
    "RidgeSettings",
    "as_ridge_settings",
    "banded_ridge_cv",
    "banded_scores",
    "block_permutation_test",
    "brain_score",
    "check_splits",
    "cross_validated_scores",
    "drift_basis",
    "encode",
    "fir_delays",
    "layer_scores",
    "noise_ceiling",
    "remove_drift",
    "ridge_cv",
    "variance_partition",
]


def __getattr__(name: str) -> Any:
    # the estimator imports scikit-learn: load it only when asked for
    if name == "RidgeEncoder":
        from ._estimator import RidgeEncoder

        return RidgeEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
