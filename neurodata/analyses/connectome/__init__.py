"""Dynamic functional connectomes: affinities between neuron traces -> NTF -> communities.

- [`affinity`][]: pairwise affinities in sliding windows (``AFFINITIES``), NaN-masked per worm;
  the window set from the data's [`time_scale`][] by default.
- [`ntf`][]: memory-bounded non-negative tensor factorization (``NTF_METHODS``: HALS, MU).
- [`detect_communities`][], [`compare_structure`][]: communities of the factor graph and
  their overlap with the anatomical connectome against a degree-preserving null.
- [`dynamic_connectome`][]: the whole pipeline.
"""

from ._affinity import AFFINITIES
from ._communities import DEFAULT_RESOLUTIONS, compare_structure, detect_communities
from ._ntf import NTF_METHODS
from ._pipeline import dynamic_connectome, ntf
from ._windows import AUTO_SAMPLES, affinity, time_scale

__all__ = [
    "AFFINITIES",
    "AUTO_SAMPLES",
    "DEFAULT_RESOLUTIONS",
    "NTF_METHODS",
    "affinity",
    "compare_structure",
    "detect_communities",
    "dynamic_connectome",
    "ntf",
    "time_scale",
]
