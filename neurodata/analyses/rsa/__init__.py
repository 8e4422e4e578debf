"""Representational similarity analysis: RDMs, their comparison, inference, tRSA, CKA.

- RDMs: [`rdm`][] (``RDM_METHODS``: euclidean, correlation, mahalanobis, crossnobis, ...),
  [`as_patterns`][], [`as_rdms`][], [`noise_precision`][].
- Comparing RDMs: [`compare`][] (``COMPARE_METHODS``: Spearman, Kendall's tau-a, cosine,
  whitened variants, ...), [`compare_vectors`][], [`rank`][].
- Inference: [`noise_ceiling`][], [`loso`][], [`bootstrap`][], [`permutation_test`][].
- Topological RSA (Lin & Kriegeskorte 2024): [`geotopological`][], [`geodesic`][],
  [`family`][], [`lu_grid`][], [`model_selection`][].
- Representational similarity without RDMs: [`linear_cka`][], [`procrustes`][].
- Robustness and identifiability of brain-model comparisons: [`subsampling_curve`][]
  (units or stimuli subsampled, Shi et al.), [`kernel_analysis`][] (the Neural
  Representation Benchmark's loss vs kernel PCs), [`model_recovery`][] (does a metric
  find the layer that generated a simulated brain? Han et al. 2023).
"""

from ._compare_methods import COMPARE_METHODS, compare_vectors, rank
from ._comparison import compare
from ._inference import bootstrap, loso, noise_ceiling, permutation_test, pool
from ._kernel_analysis import KA_KERNELS, kernel_analysis
from ._rdm import RDM_METHODS, as_patterns, as_rdms, noise_precision, rdm, to_vectors
from ._recovery import RECOVERY_METRICS, model_recovery
from ._similarity import PROCRUSTES_METRICS, linear_cka, procrustes
from ._subsampling import SUBSAMPLE_OVER, subsampling_curve
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
    "KA_KERNELS",
    "PROCRUSTES_METRICS",
    "RDM_METHODS",
    "RECOVERY_METRICS",
    "SUBSAMPLE_OVER",
    "TRANSFORMS",
    "as_patterns",
    "as_rdms",
    "bootstrap",
    "compare",
    "compare_vectors",
    "family",
    "geodesic",
    "geotopological",
    "kernel_analysis",
    "linear_cka",
    "loso",
    "lu_grid",
    "model_recovery",
    "model_selection",
    "nearest_centroid_accuracy",
    "noise_ceiling",
    "noise_precision",
    "permutation_test",
    "pool",
    "procrustes",
    "rank",
    "rdm",
    "subsampling_curve",
    "to_vectors",
]
