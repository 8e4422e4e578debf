"""Dynamic functional connectomes: affinities between neuron traces -> NTF -> communities.

- [`affinity`][]: pairwise affinities in sliding windows (``AFFINITIES``), NaN-masked per worm.
- [`ntf`][]: memory-bounded non-negative tensor factorization (``NTF_METHODS``: HALS, MU).
- [`detect_communities`][], [`compare_structure`][]: communities of the factor graph and
  their overlap with the anatomical connectome against a degree-preserving null.
- [`dynamic_connectome`][]: the whole pipeline.
"""

from ._affinity import AFFINITIES
from ._communities import compare_structure, detect_communities
from ._ntf import NTF_METHODS
from ._pipeline import affinity, dynamic_connectome, ntf

__all__ = [
    "AFFINITIES",
    "NTF_METHODS",
    "affinity",
    "compare_structure",
    "detect_communities",
    "dynamic_connectome",
    "ntf",
]
