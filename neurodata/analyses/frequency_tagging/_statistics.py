"""Permutation tests of tagged responses: [`tag_test`][]."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._registry import check_int, check_level, pick
from ..._registry import rng as _rng
from ...errors import SchemaError
from ...schema import unit_dims
from . import _permutation as _perm
from . import _spectral as _sp
from ._spectra import SHUFFLES, _n_fft, _series, _value_units

__all__ = ["tag_test"]


def _targets(frequencies: Sequence[float] | Mapping[str, float]) -> tuple[np.ndarray, list | None]:
    if isinstance(frequencies, Mapping):
        names, values = list(map(str, frequencies)), list(frequencies.values())
    else:
        names, values = None, frequencies
    if isinstance(values, str) or np.ndim(values) > 1:
        raise SchemaError(
            f"`frequencies` must be a list of Hz (or name -> Hz); got {frequencies!r}"
        )
    targets = np.atleast_1d(np.asarray(values, dtype=float))
    if targets.size == 0:
        raise SchemaError("`frequencies` is empty; give the tagged frequencies in Hz")
    if np.unique(targets).size != targets.size:
        raise SchemaError(f"`frequencies` has duplicates: {targets.tolist()}")
    return targets, names


class _Prepared:
    """Data (U, R, T) as a float array, the design of the needed bins, and the labels."""

    def __init__(self, data, frequencies, *, dim, trial_dim, sfreq, window, n_fft, kind,
                 n_neighbors, n_skip):  # fmt: skip
        da, sfreq = _series(data, dim, sfreq)
        pick(("power", "amplitude"), kind, "kind")
        self.targets, self.names = _targets(frequencies)
        n = da.sizes[dim]
        n_fft = _n_fft(n_fft, n)
        tbins = _sp.exact_bins(self.targets, sfreq, n_fft)
        offsets = _sp.neighbour_offsets(n_neighbors, n_skip)
        need = tbins[:, None] + offsets[None, :]
        last = n_fft // 2
        bad = (need.min(axis=1) < 0) | (need.max(axis=1) > last)
        if bad.any():
            f = self.targets[bad][0]
            raise SchemaError(
                f"tagged frequency {f:g} Hz: its noise bins ({n_neighbors} each side after "
                f"skipping {n_skip}, resolution {sfreq / n_fft:g} Hz) run outside 0..{sfreq / 2:g}"
                " Hz; use longer series (finer bins) or fewer `n_neighbors`"
            )
        bins = np.unique(np.concatenate([tbins, need.ravel()]))
        w = _sp.window_values(window, n)
        scale = _sp.psd_scale(w, n_fft, sfreq) if kind == "power" else _sp.amplitude_scale(w, n_fft)
        self.design = _perm.TagDesign(
            bins=bins,
            target=np.searchsorted(bins, tbins),
            noise=np.searchsorted(bins, need),
            scale=scale[bins],
            power=kind == "power",
        )
        self.basis = _sp.dft_basis(bins, w, n_fft)
        self.has_trials = trial_dim in da.dims
        self.unit_dims = [d for d in da.dims if d not in (dim, trial_dim)]
        order = [*self.unit_dims, *([trial_dim] if self.has_trials else []), dim]
        x = np.asarray(da.transpose(*order).values, dtype=float)
        x = x - x.mean(axis=-1, keepdims=True)
        self.unit_shape = tuple(da.sizes[d] for d in self.unit_dims)
        n_trials = da.sizes[trial_dim] if self.has_trials else 1
        self.x = x.reshape(int(np.prod(self.unit_shape, dtype=int)), n_trials, n)
        self.coef = _perm.real_matmul(self.x, np.ascontiguousarray(self.basis.T))
        self.da, self.sfreq, self.n_fft, self.dim = da, sfreq, n_fft, dim
        self.n_trials = n_trials
        self.actual = tbins * sfreq / n_fft

    def coords(self) -> dict[Hashable, Any]:
        coords: dict[Hashable, Any] = {
            name: c for name, c in self.da.coords.items() if set(c.dims) <= set(self.unit_dims)
        }
        coords["frequency"] = xr.Variable("frequency", self.targets, attrs={"units": "Hz"})
        if self.names is not None:
            coords["tag"] = ("frequency", self.names)
        coords["bin_frequency"] = xr.Variable("frequency", self.actual, attrs={"units": "Hz"})
        return coords

    def wrap(self, a: np.ndarray, **attrs: Any) -> xr.DataArray:
        a = a.reshape(*self.unit_shape, self.targets.size)
        return xr.DataArray(
            a, dims=(*self.unit_dims, "frequency"), coords=self.coords(), attrs=attrs
        )


def _family_axes(prep: _Prepared, family: Sequence[str] | None) -> tuple[int, ...]:
    dims = [*prep.unit_dims, "frequency"]
    if family is None:
        return tuple(range(len(dims)))
    unknown = [d for d in family if d not in dims]
    if unknown:
        raise SchemaError(
            f"`family` names dims {unknown} that the result lacks; choose among {dims}"
        )
    return tuple(dims.index(d) for d in family)


def _unit_dim(prep: _Prepared, unit_dim: str | None) -> str | None:
    if unit_dim is not None:
        if unit_dim not in prep.unit_dims:
            raise SchemaError(f"`unit_dim` {unit_dim!r} is not a dim of the data {prep.unit_dims}")
        return unit_dim
    return next(iter(unit_dims(prep.unit_dims)), None)


#: dtypes of the permutation engine's products.
_DTYPES = {"float64": np.float64, "float32": np.float32}


def tag_test(
    data: Any,
    frequencies: Sequence[float] | Mapping[str, float],
    *,
    dim: str = "time",
    trial_dim: str = "trial",
    average: str = "frequency",
    kind: str = "power",
    window: str | tuple | np.ndarray = "boxcar",
    n_fft: int | None = None,
    n_neighbors: int = 3,
    n_skip: int = 1,
    shuffle: str = "samples",
    shuffle_block: int = 1,
    n_permutations: int = 1000,
    correction: str = "fdr",
    family: Sequence[str] | None = None,
    level: float = 0.05,
    unit_dim: str | None = None,
    seed: int | np.random.Generator = 0,
    sfreq: float | None = None,
    dtype: str = "float64",
    progress: bool | None = None,
) -> xr.Dataset:
    """Is there a tagged response? Per-unit SNR and corrected p-values at each frequency.

    The statistic is the neighbour-bin SNR ([`snr`][]) at each tagged bin of
    the spectrum ([`spectrum`][] with the same ``kind``, ``window``,
    ``n_fft``, ``average``). Its null distribution comes from permutations:

    - ``shuffle="samples"``: the samples of each series are shuffled (the same
      permutation for every unit/channel, so their dependence is kept; one per
      trial with ``average="frequency"``, one for the evoked series otherwise).
      H0: no periodic structure at all. With ``shuffle_block=k`` runs of k
      samples move together (use ``samples_per_word`` for word-level series
      upsampled by [`neurodata.models.hftp.tagged_timeseries`][], whose held
      samples must not be separated).
    - ``shuffle="trials"``: the trials' signs are flipped at random (needs
      ``average="evoked"``). H0: no response phase-locked across trials.

    p-values are ``(1 + #null >= observed) / (1 + n_permutations)`` and are
    corrected within each family of tests: ``"fdr"`` (Benjamini-Hochberg),
    ``"maxstat"`` (the null maximum over the family: controls the family-wise
    error), ``"bonferroni"`` or ``"none"``.

    ``dim``, ``trial_dim``, ``sfreq``, ``window``, ``n_fft``, ``kind``,
    ``n_neighbors`` and ``n_skip`` are those of [`spectrum`][] and [`snr`][].

    Parameters
    ----------
    data : xarray.DataArray
        Dims include ``dim`` and any of ``trial_dim``, ``channel``, ``layer``,
        ``unit``...; e.g. LLM neurons ``(layer, unit, time)``, a recording
        ``(channel, time)`` or epochs ``(trial, channel, time)``.
    frequencies : sequence of float or mapping
        Tagged frequencies (Hz), e.g. ``[1, 2, 4]`` or ``{"sentence": 1,
        "phrase": 2, "word": 4}`` (the names become coordinate ``tag`` along ``frequency``).
    family : sequence of str, optional
        Dims of the result over which to correct; default all of them (every
        unit, channel, layer and tagged frequency is one family). E.g.
        ``("layer", "unit")`` corrects separately at each frequency.
    level : float
        Significance level of the ``significant`` flags and ``fraction_significant``.
    unit_dim : str, optional
        Dim over which ``fraction_significant`` is taken (default: the first of
        ``unit``, ``channel``, ``neuron``, ... present).
    seed : int or numpy.random.Generator
        Seed of the permutations (default 0: results are reproducible).
    dtype : {"float64", "float32"}
        Precision of the permuted spectra. ``"float32"`` is about 3x faster for
        thousands of units (e.g. every MLP neuron of a language model); only null
        statistics within ~1e-6 (relative) of an observed one can be counted
        differently.
    progress : bool or None
        Show a progress bar over permutation batches (None: ``nd.config``).

    Notes
    -----
    Loads the data into memory (float64). Cost per permutation is about
    units x trials x samples x (tagged bins x (1 + 2 n_neighbors)) multiply-adds.

    Returns
    -------
    xarray.Dataset
        Along (units..., ``frequency``) (the tagged frequencies; ``bin_frequency``
        is the bin actually used): ``value`` (spectrum at the bin), ``noise``
        (neighbour mean), ``snr``, ``zscore``, ``p``, ``p_corrected``,
        ``significant``; ``itpc`` with trials; ``fraction_significant`` along the
        remaining dims (e.g. ``(layer, frequency)``) when there is a unit dim.
        Attrs record every parameter.
    """
    pick(("frequency", "evoked"), average, "average")
    pick(SHUFFLES, shuffle, "shuffle")
    pick(_perm.CORRECTIONS, correction, "correction")
    pick(_DTYPES, dtype, "dtype")
    check_int(n_permutations, "n_permutations", minimum=1)
    check_level(level)
    rng = _rng(seed)
    prep = _Prepared(data, frequencies, dim=dim, trial_dim=trial_dim, sfreq=sfreq, window=window,
                     n_fft=n_fft, kind=kind, n_neighbors=n_neighbors, n_skip=n_skip)  # fmt: skip
    if shuffle == "trials" and (average != "evoked" or prep.n_trials < 2):
        raise SchemaError(
            "`shuffle='trials'` flips trial signs to test phase-locking; it needs "
            f"average='evoked' and >= 2 trials along {trial_dim!r} (got average={average!r}, "
            f"{prep.n_trials} trial(s))"
        )
    n_times = prep.x.shape[-1]
    if int(shuffle_block) != shuffle_block or shuffle_block < 1 or n_times % shuffle_block:
        raise SchemaError(
            f"`shuffle_block` must be a positive integer dividing the {n_times} samples; "
            f"got {shuffle_block!r}"
        )
    udim = _unit_dim(prep, unit_dim)
    vals = _perm.values(prep.coef, prep.design, average)
    observed = _perm.snr_at_targets(vals, prep.design)
    acc = _perm.NullAccumulator(
        observed, _perm.family_ids(observed.reshape(*prep.unit_shape, -1).shape,
                                   _family_axes(prep, family)).reshape(observed.shape)
    )  # fmt: skip
    for null in _perm.null_snr_batches(prep.x, prep.basis, prep.design, average=average,
                                       shuffle=shuffle, n_permutations=int(n_permutations),
                                       rng=rng, progress=resolve("progress", progress),
                                       block=int(shuffle_block),
                                       dtype=_DTYPES[dtype]):  # fmt: skip
        acc.add(null)
    noise_vals = vals[..., prep.design.noise]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (vals[..., prep.design.target] - noise_vals.mean(-1)) / noise_vals.std(-1, ddof=1)
    p_corr = acc.corrected(correction)
    units = _value_units(prep.da, kind)
    out = xr.Dataset(
        {
            "value": prep.wrap(vals[..., prep.design.target], **units),
            "noise": prep.wrap(noise_vals.mean(-1), **units),
            "snr": prep.wrap(observed, long_name="neighbour-bin SNR, dimensionless"),
            "zscore": prep.wrap(z, long_name="z-score against neighbour bins"),
            "p": prep.wrap(acc.p_values(), long_name="permutation p-value (uncorrected)"),
            "p_corrected": prep.wrap(p_corr, long_name=f"p-value corrected ({correction})"),
        }
    )
    out["significant"] = (out["p_corrected"] < level) & out["p_corrected"].notnull()
    if prep.n_trials > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            phases = prep.coef[..., prep.design.target] / np.abs(prep.coef[..., prep.design.target])
        out["itpc"] = prep.wrap(
            np.abs(phases.mean(axis=1)), long_name="inter-trial phase coherence"
        )
    if udim is not None:
        tested = out["p_corrected"].notnull().sum(udim)
        out["fraction_significant"] = out["significant"].sum(udim) / tested.where(tested > 0)
        out["fraction_significant"].attrs["long_name"] = f"fraction of {udim}s significant"
    out.attrs = {
        "analysis": "frequency tagging test", "kind": kind, "average": average,
        "window": str(window) if not isinstance(window, np.ndarray) else "custom",
        "n_fft": prep.n_fft, "sfreq": prep.sfreq, "n_neighbors": n_neighbors, "n_skip": n_skip,
        "shuffle": shuffle, "shuffle_block": int(shuffle_block), "n_permutations": int(n_permutations), "correction": correction,
        "family": ", ".join(family) if family is not None else "all", "level": level,
        "n_trials": prep.n_trials, "dtype": dtype, "seed": str(seed) if not isinstance(seed, np.random.Generator) else "generator",
    }  # fmt: skip
    return out
