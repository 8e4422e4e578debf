"""Frequency tagging: spectra, neighbour-bin SNR, ITPC and permutation tests.

One API for brain recordings (``(channel, time)``, epochs ``(trial, channel, time)``) and
network activations laid out in time (``(layer, unit, time)``, e.g. the hierarchical
frequency-tagging probe, HFTP). Every function takes a ``(..., time)`` DataArray with any
extra dims and returns results labelled along ``frequency`` (coordinate in Hz).

- Spectra: [`spectrum`][], [`snr`][], [`zscore`][] (neighbour bins exactly as MNE's
  SSVEP tutorial), [`itpc`][].
- Statistics: [`tag_test`][] (per unit/channel SNR and permutation p-values, FDR or
  max-statistic across units), [`contrast`][] (structured vs control).
- Trials: [`segment`][], [`classify`][] (SSVEP decoding).

HFTP's brain-model comparison on spectra is RSA: ``rsa.rdm(spectra.stack(feature=("unit",
"frequency")), "condition", "correlation")`` and ``rsa.compare(model_rdms, brain_rdms)``.
"""

from ._spectra import AVERAGES, KINDS, SHUFFLES, itpc, snr, spectrum, zscore
from ._statistics import tag_test
from ._trials import classify, contrast, segment

__all__ = [
    "AVERAGES",
    "KINDS",
    "SHUFFLES",
    "classify",
    "contrast",
    "itpc",
    "segment",
    "snr",
    "spectrum",
    "tag_test",
    "zscore",
]
