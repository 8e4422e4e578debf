"""C. elegans: the canonical neuron axis, connectomes, and stacking worms."""
