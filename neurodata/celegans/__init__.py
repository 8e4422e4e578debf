"""C. elegans: the canonical neuron axis, connectomes, and stacking worms.

>>> from neurodata import celegans
>>> celegans.neurons()[:3]
('ADAL', 'ADAR', 'ADEL')
>>> w = celegans.load_connectome("cook2019")       # doctest: +SKIP
>>> worms = celegans.stack([nd.load(h5, labels=csv) for h5, csv in pairs])  # doctest: +SKIP
"""

from __future__ import annotations

from .connectome import (
    SOURCES,
    compare_connectomes,
    from_networkx,
    load_connectome,
    to_networkx,
)
from .neurons import (
    N_NEURONS,
    is_neuron,
    neuron_coords,
    neuron_table,
    neurons,
    normalize_name,
)
from .stack import identified_counts, resample, stack
from .worm import build_worm

__all__ = [
    "N_NEURONS",
    "SOURCES",
    "build_worm",
    "compare_connectomes",
    "from_networkx",
    "identified_counts",
    "is_neuron",
    "load_connectome",
    "neuron_coords",
    "neuron_table",
    "neurons",
    "normalize_name",
    "resample",
    "stack",
    "to_networkx",
]
