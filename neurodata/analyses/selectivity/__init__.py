"""Selectivity of network units: localize, count and probe them (model neurophysiology).

- [`contrast`][]: per-unit Welch t, Cohen's d or AUC between conditions (e.g. the
  language localizer's sentences > non-word lists), with p-values; constant units flagged.
- [`permutation_test`][]: the same with a label-permutation null and FDR over units.
- [`top_units`][]: the boolean (``layer``, ``unit``) mask of the most selective units
  (top fraction over the whole network, as AlKhamissi et al. 2024), ready for
  [`neurodata.models.intervene`][].
- [`reliability`][]: correlation and Dice between two maps or masks.
- [`lape`][]: activation-probability entropy (Tang et al. 2024).
- [`census`][]: dead, always-active, token-specific and positional units (Voita et al. 2023).
- [`sparse_probe`][]: cross-validated k-sparse probes (Gurnee et al. 2023).

The control every claim needs, a network of the same architecture that learned nothing,
comes from [`neurodata.models.random_like`][].
"""

from ._contrast import CONTRASTS, contrast, permutation_test
from ._neurons import census, lape
from ._probe import PROBE_RANKINGS, sparse_probe
from ._units import reliability, top_units

__all__ = [
    "CONTRASTS",
    "PROBE_RANKINGS",
    "census",
    "contrast",
    "lape",
    "permutation_test",
    "reliability",
    "sparse_probe",
    "top_units",
]
