"""Stimuli and artificial-network activations in neurodata's data model."""
