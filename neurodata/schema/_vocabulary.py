"""The vocabulary (dims, unit-like dims) of `neurodata.schema` (private; the package re-exports the public names)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

#: The vocabulary of dimension names and what each one means.
DIMS: Mapping[str, str] = {
    # time and frequency
    "time": "samples of a time series (coordinate: float seconds, units 's')",
    "frequency": "spectral bins (coordinate: Hz)",
    "delay": "FIR delays of features (coordinate: seconds or samples)",
    "lag": "lags of a cross-correlation (coordinate: seconds)",
    "window": "sliding time windows (coordinates: window start/stop in seconds)",
    # space / sensors
    "channel": "electrodes or sensors (coordinate: names; ch_type, x, y, z, bad)",
    "voxel": "fMRI voxels (coordinates i, j, k; affine in attrs)",
    "parcel": "atlas regions (coordinates: label value and name)",
    "neuron": "identified neurons or sorted units (coordinate: names)",
    "roi": "unidentified imaging regions of interest (coordinate: index)",
    "pair": "pairs of channels/neurons (coordinates: <dim>_i, <dim>_j)",
    "pre": "presynaptic neuron of a connectome",
    "post": "postsynaptic neuron of a connectome",
    "synapse_type": "kind of connection (chemical, electrical)",
    # recordings, experiment structure
    "subject": "subjects stacked for group analyses",
    "worm": "C. elegans animals stacked for group analyses",
    "session": "recording sessions",
    "run": "runs (fMRI runs, blocks)",
    "trial": "epochs / trials",
    "sweep": "intracellular (patch-clamp) sweeps (coordinates: series names, sweep_start in s)",
    "event": "annotations (variables onset, duration, label)",
    "stimulus": "items of an experiment (sentences, images, words)",
    "condition": "experimental conditions (RSA)",
    "fold": "cross-validation folds / independent measurement partitions",
    "sample": "observations without an inherent time (e.g. rows of a design matrix)",
    "spike": "spike events of a ragged spike train table",
    # models
    "layer": "ANN layers (coordinate: layer names)",
    "unit": "units / neurons of an ANN layer (coordinate: index)",
    "token": "token positions of a text stream",
    "word": "word positions of a text stream (coordinates: text, onset, offset)",
    "feature": "generic features (columns of a pattern matrix)",
    "model": "candidate models compared against data",
    "y": "image / feature-map rows (pixels, top to bottom)",
    "x": "image / feature-map columns (pixels, left to right)",
    "color": "colour channels of an image (R, G, B; one for grey-scale)",
    "rdm": "RDMs stacked (coordinate: their names, e.g. of an RSA-toolbox file)",
    "brain": "brain measurements compared with models (e.g. monkey IT, human IT)",
    # analysis outputs
    "target": "targets of a regression (voxels, parcels, channels, ... stacked)",
    "alpha": "regularisation strengths",
    "component": "factors/components of a decomposition",
    "community": "detected communities of a graph",
    "bootstrap": "bootstrap resamples",
    "permutation": "permutation resamples",
    "lower": "lower threshold of tRSA's geo-topological transform",
    "upper": "upper threshold of tRSA's geo-topological transform",
    "band": "frequency bands",
    "region": "brain regions of interest (anatomical, not atlas parcels)",
}

#: Dims whose index coordinate holds labels that must be unique strings.
LABEL_DIMS: frozenset[str] = frozenset(
    {"channel", "neuron", "layer", "pre", "post", "synapse_type"}
)

#: Unit-like dims: the parallel measurements of one recording or network (RSA's pattern
#: features, encoding targets, the units of a tagging test), in order of preference.
#: ``region`` counts only where no finer unit dim is present (else it groups units).
UNIT_DIMS: tuple[str, ...] = (
    "feature", "unit", "channel", "neuron", "voxel", "parcel", "roi", "region",
)  # fmt: skip


def unit_dims(dims: Iterable[Hashable]) -> tuple[str, ...]:
    """The unit-like dims among ``dims`` (see [`UNIT_DIMS`][]), in that order."""
    dims = set(dims)
    found = tuple(d for d in UNIT_DIMS if d in dims)
    return found if found == ("region",) else tuple(d for d in found if d != "region")


#: Placeholder strings that are not units (use ``long_name`` instead).
_NOT_UNITS = frozenset({"a.u.", "au", "a.u", "arb", "arbitrary", "arbitrary units", "df/f", "dff"})

_POSITION_COORDS = ("x", "y", "z")
