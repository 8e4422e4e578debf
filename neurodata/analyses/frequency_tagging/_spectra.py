"""Frequency tagging: spectra, neighbour-bin SNR, ITPC and permutation tests.

One API for brain recordings (``(channel, time)``, epochs ``(trial, channel,
time)``) and network activations laid out in time (``(layer, unit, time)``,
e.g. the hierarchical frequency-tagging probe, HFTP). Every function takes a
``(..., time)`` DataArray with any extra dims and returns results labelled along
``frequency`` (coordinate in Hz).

- [`spectrum`][]: amplitude / power / complex spectra with explicit window and
  zero-padding, evoked or frequency-domain averaging over trials.
- [`snr`][], [`zscore`][]: neighbour-bin statistics exactly as MNE's SSVEP
  tutorial (``n_neighbors`` bins each side, skipping ``n_skip`` bins next to
  the target).
- [`itpc`][]: inter-trial phase coherence.
- [`tag_test`][]: per unit/channel SNR and permutation p-values at each tagged
  frequency, corrected (FDR or max-statistic) across units, channels and layers,
  with the fraction of significant units per layer.
- [`contrast`][]: structured-vs-control permutation contrast of tagged SNR.
- [`classify`][]: which tagged frequency has the highest SNR (SSVEP decoding).
- [`segment`][]: cut a series into trials (by onsets or consecutive blocks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._registry import pick
from ..._sampling import is_regular, sampling_rate
from ...errors import SchemaError
from ...schema import append_history, as_dataarray, as_timeseries
from . import _spectral as _sp

__all__ = ["AVERAGES", "KINDS", "SHUFFLES", "itpc", "snr", "spectrum", "zscore"]

#: What a spectrum holds.
KINDS = ("power", "amplitude", "complex")
#: How trials are averaged: none, in the time domain (evoked), or in the frequency domain.
AVERAGES = (None, "evoked", "frequency")
#: What the permutation test shuffles.
SHUFFLES = ("samples", "trials")


# --------------------------------------------------------------------------------------
# input gate
# --------------------------------------------------------------------------------------


def _series(data: Any, dim: str, sfreq: float | None) -> tuple[xr.DataArray, float]:
    """The one gate: a DataArray with ``dim`` and its regular sampling rate (Hz)."""
    if dim == "time":
        da = as_timeseries(data, sfreq=sfreq, name="data")
    else:
        da = as_dataarray(data, name="data")
        if dim not in da.dims:
            raise SchemaError(f"data: `dim` {dim!r} is not a dim of the data; found {da.dims}")
    if sfreq is None:
        if dim not in da.coords and "sfreq" not in da.attrs:
            raise SchemaError(
                f"data: cannot tell the sampling rate along {dim!r}; pass `sfreq` (Hz) or "
                f"give {dim!r} a coordinate in seconds"
            )
        sfreq = sampling_rate(da, dim=dim, what="data")
    sfreq = float(sfreq)
    if not (np.isfinite(sfreq) and sfreq > 0):
        raise SchemaError(f"`sfreq` must be a positive number (Hz); got {sfreq!r}")
    if da.sizes[dim] < 2:
        raise SchemaError(f"data: {dim!r} has {da.sizes[dim]} sample(s); a spectrum needs >= 2")
    return da, sfreq


def _n_fft(n_fft: int | None, n_times: int) -> int:
    if n_fft is None:
        return n_times
    if int(n_fft) != n_fft or n_fft < n_times:
        raise SchemaError(
            f"`n_fft` must be an integer >= the number of samples ({n_times}) "
            f"(zero-padding only); got {n_fft!r}"
        )
    return int(n_fft)


def _frequency_coord(n_fft: int, sfreq: float) -> xr.Variable:
    return xr.Variable("frequency", np.fft.rfftfreq(n_fft, 1.0 / sfreq), attrs={"units": "Hz"})


def _value_units(da: xr.DataArray, kind: str) -> dict[str, str]:
    units = da.attrs.get("units")
    if kind == "power":
        return {"units": f"({units})**2/Hz"} if units else {"long_name": "power spectral density"}
    return {"units": units} if units else {"long_name": f"{kind} spectrum"}


# --------------------------------------------------------------------------------------
# spectra
# --------------------------------------------------------------------------------------


def spectrum(
    data: Any,
    dim: str = "time",
    *,
    kind: str = "power",
    window: str | tuple | np.ndarray = "boxcar",
    n_fft: int | None = None,
    detrend: str | None = "constant",
    average: str | None = None,
    trial_dim: str = "trial",
    frequencies: Sequence[float] | None = None,
    fmin: float | None = None,
    fmax: float | None = None,
    sfreq: float | None = None,
) -> xr.DataArray:
    """Spectra of ``(..., time)`` data along ``frequency``.

    Each series along ``dim`` is mean-removed (``detrend``), multiplied by ``window``,
    zero-padded to ``n_fft`` and transformed by a real FFT: ``n_fft // 2 + 1`` bins from
    0 Hz to Nyquist, ``sfreq / n_fft`` apart. With the default boxcar window and no
    padding, a tagged frequency completing a whole number of cycles in the record falls
    on one bin. Feed the result to [`snr`][] or [`zscore`][].

    Parameters
    ----------
    data : xarray.DataArray
        Dims include ``dim`` (samples, regular) and any others (``channel``,
        ``trial``, ``layer``, ``unit``), which are kept.
    dim : str
        The sample dim.
    kind : {"power", "amplitude", "complex"}
        ``"power"``: one-sided power spectral density (units**2/Hz), the scaling
        of `scipy.signal.periodogram` and MNE's ``psd_array_welch`` (one
        segment). ``"amplitude"``: single-sided peak amplitude (a sine of
        amplitude A on an exact bin reads A, for any window). ``"complex"``: the
        Fourier coefficients with the amplitude scaling.
    window : str, tuple or numpy.ndarray
        Taper (a `scipy.signal.get_window` name, or values). ``"boxcar"``
        keeps the exact-bin resolution that frequency tagging relies on.
    n_fft : int, optional
        FFT length >= the number of samples; larger values zero-pad (interpolated
        bins, no extra resolution). Default: no padding.
    detrend : {"constant", None}
        Remove each series' mean before the transform.
    average : {None, "evoked", "frequency"}
        Over ``trial_dim``: ``"evoked"`` averages the time series first (keeps
        only phase-locked responses); ``"frequency"`` averages the spectra.
    trial_dim : str
        The trial dim used by ``average``.
    frequencies : sequence of float, optional
        Tagged frequencies to check: a warning says when one falls between bins
        or at Nyquist; an error when above Nyquist.
    fmin, fmax : float, optional
        Keep only bins in [fmin, fmax] Hz.
    sfreq : float, optional
        Sampling rate (Hz) when the data do not carry one.

    Returns
    -------
    xarray.DataArray
        Dims (..., ``frequency``) (``dim`` replaced; ``trial_dim`` dropped when
        averaged); coordinate ``frequency`` in Hz; attrs record the parameters.
    """
    da, sfreq = _series(data, dim, sfreq)
    pick(KINDS, kind, "kind")
    pick(AVERAGES, average, "average")
    pick(("constant", None), detrend, "detrend")
    n = da.sizes[dim]
    n_fft = _n_fft(n_fft, n)
    if frequencies is not None:
        _sp.exact_bins(frequencies, sfreq, n_fft)
    w = _sp.window_values(window, n)
    if average is not None and trial_dim not in da.dims:
        raise SchemaError(
            f"data: `average={average!r}` averages over {trial_dim!r}, which is not a dim "
            f"of the data {da.dims}; pass `trial_dim` or average=None"
        )
    if average == "evoked":
        da = da.mean(trial_dim, keep_attrs=True)

    def kernel(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if detrend == "constant":
            x = x - x.mean(axis=-1, keepdims=True)
        coef = np.fft.rfft(x * w, n=n_fft, axis=-1)
        if kind == "power":
            return np.abs(coef) ** 2 * _sp.psd_scale(w, n_fft, sfreq)
        if kind == "amplitude":
            return np.abs(coef) * _sp.amplitude_scale(w, n_fft)
        return coef * _sp.amplitude_scale(w, n_fft)

    out = xr.apply_ufunc(
        kernel,
        da,
        input_core_dims=[[dim]],
        output_core_dims=[["frequency"]],
        dask="parallelized",
        output_dtypes=[complex if kind == "complex" else float],
        dask_gufunc_kwargs={"output_sizes": {"frequency": n_fft // 2 + 1}},
    )
    out = out.assign_coords(frequency=_frequency_coord(n_fft, sfreq))
    if average == "frequency":
        out = out.mean(trial_dim)
    if fmin is not None or fmax is not None:
        out = out.sel(frequency=slice(fmin, fmax))
    out.attrs = {
        **{k: v for k, v in da.attrs.items() if k not in ("units", "long_name", "sfreq")},
        **_value_units(da, kind),
        "kind": kind,
        "window": str(window) if not isinstance(window, np.ndarray) else "custom",
        "n_fft": n_fft,
        "n_samples": n,
        "sfreq": sfreq,
        "average": str(average),
        "frequency_resolution": sfreq / n_fft,
    }
    out.name = f"{kind}_spectrum"
    return append_history(out, f"spectrum(kind={kind!r}, window={window!r}, n_fft={n_fft})")


def _as_spectrum(spec: Any, dim: str) -> xr.DataArray:
    da = as_dataarray(spec, name="spectrum")
    if dim not in da.dims:
        raise SchemaError(
            f"spectrum: needs a {dim!r} dim; found dims {da.dims} (compute it with spectrum())"
        )
    if np.iscomplexobj(da):
        raise SchemaError(
            "spectrum: holds complex coefficients; SNR needs kind='power' or 'amplitude'"
        )
    if dim in da.coords and da.sizes[dim] > 2 and not is_regular(da[dim].values):
        raise SchemaError(f"spectrum: {dim!r} bins are not evenly spaced")
    return da


def snr(
    spectrum: Any, n_neighbors: int = 3, n_skip: int = 1, *, dim: str = "frequency"
) -> xr.DataArray:
    """Neighbour-bin signal-to-noise ratio, as MNE's SSVEP tutorial defines it.

    Each bin's value divided by the mean of ``n_neighbors`` bins on each side,
    leaving out the ``n_skip`` bins next to it; NaN where the neighbours run
    off the spectrum (its first and last ``n_neighbors + n_skip`` bins).

    Parameters
    ----------
    spectrum : xarray.DataArray
        Power or amplitude with dims (..., ``dim``) and evenly spaced bins.
    n_neighbors : int
        Noise bins on each side (the tutorial's ``noise_n_neighbor_freqs``; it uses 3).
    n_skip : int
        Bins skipped on each side (``noise_skip_neighbor_freqs``; it uses 1).
    dim : str
        The frequency dim.

    Returns
    -------
    xarray.DataArray
        Same dims and coords; dimensionless.
    """
    da = _as_spectrum(spectrum, dim)
    _sp.snr_kernel(n_neighbors, n_skip)

    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return x / _sp.neighbour_mean(x, n_neighbors, n_skip)

    out = xr.apply_ufunc(kernel, da, input_core_dims=[[dim]], output_core_dims=[[dim]],
                         dask="parallelized", output_dtypes=[float])  # fmt: skip
    out.attrs = {"long_name": "neighbour-bin SNR, dimensionless", "n_neighbors": n_neighbors,
                 "n_skip": n_skip, "spectrum_kind": da.attrs.get("kind", "unknown")}  # fmt: skip
    out.name = "snr"
    return out


def zscore(
    spectrum: Any, n_neighbors: int = 3, n_skip: int = 1, *, dim: str = "frequency"
) -> xr.DataArray:
    """Each bin as a z-score against its neighbours: ``(x - mean) / std`` of the
    same neighbour bins as [`snr`][] (std with ddof=1). Dims as ``spectrum``."""
    da = _as_spectrum(spectrum, dim)
    _sp.snr_kernel(n_neighbors, n_skip)

    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = _sp.neighbour_mean(x, n_neighbors, n_skip)
            return (x - mean) / _sp.neighbour_std(x, n_neighbors, n_skip)

    out = xr.apply_ufunc(kernel, da, input_core_dims=[[dim]], output_core_dims=[[dim]],
                         dask="parallelized", output_dtypes=[float])  # fmt: skip
    out.attrs = {"long_name": "z-score against neighbour bins, dimensionless",
                 "n_neighbors": n_neighbors, "n_skip": n_skip}  # fmt: skip
    out.name = "zscore"
    return out


def itpc(
    data: Any,
    dim: str = "time",
    *,
    trial_dim: str = "trial",
    window: str | tuple | np.ndarray = "boxcar",
    n_fft: int | None = None,
    sfreq: float | None = None,
) -> xr.DataArray:
    """Inter-trial phase coherence ``|mean_trials(X / |X|)|`` in [0, 1] per bin.

    Every trial's complex spectrum ([`spectrum`][] with ``kind="complex"`` and the same
    ``window`` and ``n_fft``) is divided by its modulus, leaving only the phase, and
    averaged over ``trial_dim``: 1 when all trials share the phase at a bin, near 0 for
    random phases. Unlike ``spectrum(..., average="evoked")``, the trials' amplitudes
    carry no weight.

    Parameters
    ----------
    data : xarray.DataArray
        Dims include ``trial_dim`` and ``dim``; others are kept.

    Returns
    -------
    xarray.DataArray
        Dims (..., ``frequency``) without ``trial_dim``. With N trials of random
        phase its expected value is about ``sqrt(pi / (4 N))``.
    """
    da, _ = _series(data, dim, sfreq)
    if trial_dim not in da.dims or da.sizes[trial_dim] < 2:
        raise SchemaError(
            f"data: ITPC needs >= 2 trials along {trial_dim!r}; found dims {da.sizes}"
        )
    coef = spectrum(da, dim, kind="complex", window=window, n_fft=n_fft, sfreq=sfreq)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = coef / np.abs(coef)
    out = np.abs(unit.mean(trial_dim))
    out.attrs = {"long_name": "inter-trial phase coherence, dimensionless",
                 "n_trials": int(da.sizes[trial_dim])}  # fmt: skip
    out.name = "itpc"
    return out


# --------------------------------------------------------------------------------------
# tests at tagged frequencies
# --------------------------------------------------------------------------------------
