"""Stimuli and artificial-network activations in neurodata's data model.

- [`extract_activations`][]: hidden states or MLP neurons of every layer of a
  HuggingFace language model for a word stream (each word in its left context)
  or a stimulus set (each stimulus alone, pooled), offline-first.
- [`pool_words`][]: token -> word pooling.
- [`extract_image_activations`][]: every block of an image network
  (packaged ``efficientnet-lite0``, a torch module, a HuggingFace vision model)
  for an image set; [`as_images`][] is its coercion gate.
- [`align`][], [`nuisance_features`][]: word times -> the brain's sampling
  times (Lanczos, binning, FIR delays), and word-rate-style regressors.
- [`as_words`][]: the coercion gate for word streams.
- [`intervene`][]: a context manager editing masked units (zero, mean, clamp,
  scale, patch) on every forward pass; [`random_like`][]: the same architecture
  with random weights; [`load_model`][]: a loaded model that remembers its tokenizer.
- [`lesion_effect`][]: a measure of the model intact, lesioned and under random
  lesions of the same size (the null); [`lm_loss`][] is one such measure;
  [`pool_lesion_effects`][] pools the nulls of batches run with other seeds.

Importing this package does not import torch or transformers.
"""

from ._images import Preprocess, as_images
from .activations import DEFAULT_MODEL, extract_activations, pool_words
from .align import align, nuisance_features, sample_times
from .interventions import intervene, load_model, random_like
from .lesion import lesion_effect, lm_loss, pool_lesion_effects, random_masks
from .stimuli import as_words
from .vision import DEFAULT_VISION_MODEL, extract_image_activations

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_VISION_MODEL",
    "Preprocess",
    "align",
    "as_images",
    "as_words",
    "extract_activations",
    "extract_image_activations",
    "intervene",
    "lesion_effect",
    "lm_loss",
    "load_model",
    "nuisance_features",
    "pool_lesion_effects",
    "pool_words",
    "random_like",
    "random_masks",
    "sample_times",
]
