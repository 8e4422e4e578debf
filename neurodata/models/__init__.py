"""Stimuli and artificial-network activations in neurodata's data model.

- :func:`extract_activations`: hidden states or MLP neurons of every layer of a
  HuggingFace language model for a word stream (each word in its left context)
  or a stimulus set (each stimulus alone, pooled), offline-first.
- :func:`pool_words`: token -> word pooling.
- :func:`align`, :func:`nuisance_features`: word times -> the brain's sampling
  times (Lanczos, binning, FIR delays), and word-rate-style regressors.
- :func:`as_words`: the coercion gate for word streams.

Importing this package does not import torch or transformers.
"""

from .activations import DEFAULT_MODEL, extract_activations, pool_words
from .align import align, nuisance_features, sample_times
from .stimuli import as_words

__all__ = [
    "DEFAULT_MODEL",
    "align",
    "as_words",
    "extract_activations",
    "nuisance_features",
    "pool_words",
    "sample_times",
]
