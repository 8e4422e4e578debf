"""Frequency tagging beyond one test: contrasts, decoding, segmentation, RDMs.

Public through [`neurodata.analyses.frequency_tagging`][].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._registry import check_int, check_level, pick
from ..._registry import rng as _rng
from ...errors import SchemaError
from ...schema import as_timeseries
from . import _permutation as _perm

__all__ = [
    "classify",
    "contrast",
    "segment",
]


def segment(
    data: Any,
    duration: float,
    *,
    onsets: Sequence[float] | None = None,
    labels: Sequence[Any] | None = None,
    dim: str = "time",
    trial_dim: str = "trial",
) -> xr.DataArray:
    """Cut ``(..., time)`` data into trials ``(..., trial, time)``.

    Parameters
    ----------
    data : xarray.DataArray
        Regularly sampled series with dims (..., ``time``).
    duration : float
        Trial length in seconds (rounded to whole samples).
    onsets : sequence of float, numpy.ndarray or xarray.DataArray, optional
        Trial starts in seconds on the data's clock (e.g. event onsets). Default:
        consecutive non-overlapping blocks from the start (a remainder is dropped).
    labels : sequence, numpy.ndarray or xarray.DataArray, optional
        One label per trial (a 1-D DataArray's values are used), stored as coordinate
        ``label`` along ``trial_dim``.

    Returns
    -------
    xarray.DataArray
        Dims (..., ``trial_dim``, ``time``); ``time`` restarts at 0 s in each trial.
    """
    da = as_timeseries(data, name="data")
    from ._spectra import _series

    da, sfreq = _series(da, dim, None)
    n = round(duration * sfreq)
    if n < 2:
        raise SchemaError(f"`duration` must span >= 2 samples at {sfreq:g} Hz; got {duration!r} s")
    t0 = float(da[dim].values[0])
    if onsets is None:
        starts = np.arange(da.sizes[dim] // n) * n
    else:
        onsets = np.asarray(getattr(onsets, "values", onsets), dtype=float).ravel()
        starts = np.round((onsets - t0) * sfreq).astype(int)
    bad = (starts < 0) | (starts + n > da.sizes[dim])
    if starts.size == 0 or bad.any():
        what = (
            "no whole trial fits"
            if starts.size == 0
            else f"trials {np.flatnonzero(bad)[:5].tolist()} run outside it"
        )
        raise SchemaError(
            f"data: {da.sizes[dim] / sfreq:g} s long; {what} (duration {duration:g} s)"
        )
    if labels is not None:
        labels = np.asarray(getattr(labels, "values", labels))
        if labels.ndim != 1 or labels.size != starts.size:
            raise SchemaError(
                f"`labels` must hold one label per trial ({starts.size}); got shape {labels.shape}"
            )
    # One vectorised take of a (trial, time) index instead of a concat of slices.
    index = xr.DataArray(starts[:, None] + np.arange(n), dims=(trial_dim, dim))
    out = da.drop_vars([c for c in da.coords if dim in da[c].dims]).isel({dim: index})
    out = out.assign_coords({dim: xr.Variable(dim, np.arange(n) / sfreq, {"units": "s"})})
    out = out.assign_coords(onset=xr.Variable(trial_dim, t0 + starts / sfreq, {"units": "s"}))
    if labels is not None:
        out = out.assign_coords(label=(trial_dim, labels))
    out.attrs = dict(da.attrs)
    return out.transpose(..., trial_dim, dim)


def classify(
    data: Any,
    frequencies: Sequence[float],
    *,
    dim: str = "time",
    reduce: Sequence[str] = ("channel",),
    kind: str = "power",
    window: str = "boxcar",
    n_neighbors: int = 3,
    n_skip: int = 1,
    sfreq: float | None = None,
) -> xr.DataArray:
    """The tagged frequency with the highest SNR (e.g. SSVEP decoding per trial).

    The neighbour-bin SNR ([`snr`][neurodata.analyses.frequency_tagging.snr] with
    ``n_neighbors`` and ``n_skip``) of the spectrum (``kind``, ``window``) is read at the
    bin nearest each candidate, averaged over the ``reduce`` dims, and the candidate of
    largest SNR is predicted. This decides without testing: whether a tag is present at
    all is [`tag_test`][neurodata.analyses.frequency_tagging.tag_test]'s question.

    Parameters
    ----------
    data : xarray.DataArray
        Dims (..., ``dim``), e.g. epochs ``(trial, channel, time)``.
    frequencies : sequence of float
        Candidate frequencies (Hz).
    reduce : sequence of str
        Dims over which the SNR is averaged before choosing (those present).

    Returns
    -------
    xarray.DataArray
        The chosen frequency (Hz) along the remaining dims (e.g. ``trial``);
        coordinate ``snr`` holds the averaged SNR at every candidate.
    """
    from ._spectra import snr, spectrum

    spec = spectrum(data, dim, kind=kind, window=window, frequencies=frequencies, sfreq=sfreq)
    values = snr(spec, n_neighbors, n_skip).sel(frequency=list(frequencies), method="nearest")
    values = values.assign_coords(frequency=np.asarray(frequencies, dtype=float))
    values = values.mean([d for d in reduce if d in values.dims])
    best = values.fillna(-np.inf).argmax("frequency")
    out = values["frequency"][best].drop_vars("frequency", errors="ignore")
    out.attrs = {"units": "Hz", "long_name": "tagged frequency with the highest SNR"}
    out.name = "predicted_frequency"
    return out


def contrast(
    a: Any,
    b: Any,
    frequencies: Sequence[float] | Mapping[str, float],
    *,
    dim: str = "time",
    trial_dim: str = "trial",
    average: str = "frequency",
    kind: str = "power",
    window: str = "boxcar",
    n_neighbors: int = 3,
    n_skip: int = 1,
    tail: str = "greater",
    n_permutations: int = 1000,
    correction: str = "fdr",
    level: float = 0.05,
    seed: int | np.random.Generator = 0,
) -> xr.Dataset:
    """Structured-vs-control contrast: is the tagged SNR larger in ``a`` than in ``b``?

    Both inputs hold trials (cut a long series into blocks with [`segment`][])
    and the same other dims. The null shuffles the trials' condition labels
    (keeping the counts); the statistic is SNR(a) - SNR(b) at each tagged bin.

    Parameters
    ----------
    a, b : xarray.DataArray
        Dims (..., ``trial_dim``, ``dim``), e.g. ``(layer, unit, trial, time)``.
    tail : {"greater", "less", "two-sided"}
        Alternative hypothesis for the difference a - b.
    level : float
        Significance level of the ``significant`` flags.
    seed : int or numpy.random.Generator
        Seed of the label shuffles (default 0: reproducible).

    Returns
    -------
    xarray.Dataset
        Along (units..., ``frequency``): ``snr_a``, ``snr_b``, ``difference``,
        ``p``, ``p_corrected`` (over all tests), ``significant``.
    """
    from ._statistics import _Prepared

    pick(("greater", "less", "two-sided"), tail, "tail")
    pick(("frequency", "evoked"), average, "average")
    pick(_perm.CORRECTIONS, correction, "correction")
    check_int(n_permutations, "n_permutations", minimum=1)
    check_level(level)
    rng = _rng(seed)
    opts = dict(dim=dim, trial_dim=trial_dim, sfreq=None, window=window, n_fft=None, kind=kind,
                n_neighbors=n_neighbors, n_skip=n_skip)  # fmt: skip
    pa, pb = _Prepared(a, frequencies, **opts), _Prepared(b, frequencies, **opts)
    if not (pa.has_trials and pb.has_trials):
        raise SchemaError(
            f"contrast: both conditions need a {trial_dim!r} dim (cut long series into blocks "
            "with segment())"
        )
    if pa.unit_shape != pb.unit_shape or pa.x.shape[-1] != pb.x.shape[-1] or pa.sfreq != pb.sfreq:
        raise SchemaError(
            f"contrast: conditions differ in shape or rate: a has {dict(pa.da.sizes)} at "
            f"{pa.sfreq:g} Hz, b has {dict(pb.da.sizes)} at {pb.sfreq:g} Hz"
        )
    design = pa.design
    pooled = np.concatenate([pa.coef, pb.coef], axis=1)  # (U, Ra + Rb, K)
    na = pa.n_trials

    def stat(coef_a: np.ndarray, coef_b: np.ndarray) -> tuple[np.ndarray, ...]:
        sa = _perm.snr_at_targets(_perm.values(coef_a, design, average), design)
        sb = _perm.snr_at_targets(_perm.values(coef_b, design, average), design)
        return sa, sb, sa - sb

    snr_a, snr_b, observed = stat(pa.coef, pb.coef)
    acc = _perm.NullAccumulator(observed, np.zeros(observed.shape, dtype=int), tail=tail)
    for _ in range(int(n_permutations)):
        order = rng.permutation(pooled.shape[1])
        acc.add(stat(pooled[:, order[:na]], pooled[:, order[na:]])[2][None])
    out = xr.Dataset(
        {
            "snr_a": pa.wrap(snr_a, long_name="SNR in condition a"),
            "snr_b": pa.wrap(snr_b, long_name="SNR in condition b"),
            "difference": pa.wrap(observed, long_name="SNR(a) - SNR(b)"),
            "p": pa.wrap(acc.p_values(), long_name="permutation p-value (uncorrected)"),
            "p_corrected": pa.wrap(acc.corrected(correction), long_name=f"p ({correction})"),
        }
    )
    out["significant"] = (out["p_corrected"] < level) & out["p_corrected"].notnull()
    out.attrs = {"analysis": "frequency tagging contrast", "tail": tail, "average": average,
                 "kind": kind, "n_permutations": int(n_permutations), "correction": correction,
                 "level": level, "n_trials_a": pa.n_trials, "n_trials_b": pb.n_trials}  # fmt: skip
    return out
