"""Representational similarity analysis: RDMs, their comparison, inference, tRSA, CKA.

- RDMs: [`rdm`][] (``RDM_METHODS``: euclidean, correlation, mahalanobis, crossnobis, ...),
  [`as_patterns`][], [`as_rdms`][], [`noise_precision`][].
- Comparing RDMs: [`compare`][] (``COMPARE_METHODS``: Spearman, Kendall's tau-a, cosine,
  whitened variants, ...), [`compare_vectors`][], [`rank`][].
- Inference: [`noise_ceiling`][], [`loso`][], [`bootstrap`][], [`permutation_test`][].
- Topological RSA (Lin & Kriegeskorte 2024): [`geotopological`][], [`geodesic`][],
  [`family`][], [`lu_grid`][], [`model_selection`][].
- Representational similarity without RDMs: [`linear_cka`][], [`procrustes`][].
"""

from ._compare_methods import COMPARE_METHODS, compare_vectors, rank
from ._comparison import compare
from ._inference import bootstrap, loso, noise_ceiling, permutation_test, pool
from ._rdm import RDM_METHODS, as_patterns, as_rdms, noise_precision, rdm, to_vectors
from ._similarity import PROCRUSTES_METRICS, linear_cka, procrustes
from ._trsa import (
    FAMILIES,
    TRANSFORMS,
    family,
    geodesic,
    geotopological,
    lu_grid,
    model_selection,
    nearest_centroid_accuracy,
)

__all__ = [
    "COMPARE_METHODS",
    "FAMILIES",
    "PROCRUSTES_METRICS",
    "RDM_METHODS",
    "TRANSFORMS",
    "as_patterns",
    "as_rdms",
    "bootstrap",
    "compare",
    "compare_vectors",
    "family",
    "geodesic",
    "geotopological",
    "linear_cka",
    "loso",
    "lu_grid",
    "model_selection",
    "nearest_centroid_accuracy",
    "noise_ceiling",
    "noise_precision",
    "permutation_test",
    "pool",
    "procrustes",
    "rank",
    "rdm",
    "to_vectors",
]
