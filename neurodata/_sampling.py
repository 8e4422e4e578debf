"""Sample clocks: time units and sampling-period inference, in one place with one tolerance.

Every part of neurodata that needs "the sampling rate of this series" (the schema gates,
encoding's drift removal, spectra, alignment, exports, summaries) asks [`sampling_rate`][]
or [`sampling_period`][], so a series is regular or irregular in the same sense everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import SchemaError

__all__ = [
    "REGULAR_RTOL",
    "TIME_UNITS",
    "attr_sfreq",
    "is_regular",
    "sampling_period",
    "sampling_rate",
    "seconds_factor",
    "snap_to_samples",
]

#: Relative tolerance of "regular": every step within this fraction of the median step
#: (1e-3 admits float32 clocks and the rounding of exported sample times).
REGULAR_RTOL = 1e-3

#: Units accepted for a ``time`` coordinate, with their factor to seconds. A coordinate
#: without ``units`` is taken to be in seconds.
TIME_UNITS: Mapping[str | None, float] = {
    None: 1.0,
    "s": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "millisecond": 1e-3,
    "milliseconds": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "microsecond": 1e-6,
    "microseconds": 1e-6,
}


def seconds_factor(units: Any, where: str = "coordinate 'time'") -> float:
    """Factor that turns a time coordinate in ``units`` into seconds.

    Raises
    ------
    SchemaError
        For units that are not a time unit neurodata knows.
    """
    key = units.strip() if isinstance(units, str) else units
    if key == "":
        key = None
    try:
        return TIME_UNITS[key]
    except (KeyError, TypeError):
        known = sorted(k for k in TIME_UNITS if k is not None)
        raise SchemaError(
            f"{where} has units {units!r}; expected one of {known} (or none: seconds)"
        ) from None


def is_regular(times: np.ndarray, *, rtol: float = REGULAR_RTOL) -> bool:
    """Whether the steps of ``times`` (last axis; NaN ignored) are equal within ``rtol``."""
    steps = np.diff(np.asarray(times, dtype=float), axis=-1)
    steps = steps[np.isfinite(steps)]
    if steps.size == 0:
        return False
    step = float(np.median(steps))
    return step > 0 and bool(np.all(np.abs(steps - step) <= rtol * step))


def _attr_sfreq(obj: Any) -> float | None:
    sfreq = getattr(obj, "attrs", {}).get("sfreq")
    return None if sfreq is None else float(sfreq)


def attr_sfreq(obj: Any, dim: str = "time") -> float | None:
    """The ``sfreq`` (Hz) a Dataset or DataArray declares, else None (nothing is inferred).

    Looks in ``obj.attrs``, then (Dataset) in the attrs of its variables along ``dim``.
    """
    sfreq = _attr_sfreq(obj)
    if sfreq is None and hasattr(obj, "data_vars"):
        sfreq = next(
            (
                _attr_sfreq(v)
                for v in obj.data_vars.values()
                if dim in v.dims and "sfreq" in v.attrs
            ),
            None,
        )
    return sfreq


def sampling_period(
    obj: Any, *, dim: str = "time", regular: bool = True, what: str = "data"
) -> float:
    """Sampling period in seconds of a series, from ``attrs["sfreq"]`` or its ``dim`` coordinate.

    Parameters
    ----------
    obj : xarray.DataArray, xarray.Dataset or array_like
        A labelled series with dim ``dim`` (its coordinate in seconds) and/or
        ``attrs["sfreq"]`` (Hz); or the sample times themselves (seconds, last axis).
    dim : str
        The sample dim.
    regular : bool
        When True (default) an irregular clock (steps not equal within ``REGULAR_RTOL``)
        raises; when False the median step is returned.
    what : str
        Name used in error messages.

    Returns
    -------
    float
        Seconds per sample.

    Raises
    ------
    SchemaError
        When there is no clock to read, it is not increasing, or (``regular=True``) it is
        irregular.
    """
    sfreq = _attr_sfreq(obj)
    if sfreq is not None:
        if not (np.isfinite(sfreq) and sfreq > 0):
            raise SchemaError(
                f"{what}: attrs['sfreq'] must be a positive number (Hz); got {sfreq!r}"
            )
        return 1.0 / sfreq
    if hasattr(obj, "coords"):
        if dim not in obj.coords:
            raise SchemaError(
                f"{what}: cannot tell the sampling period; expected attrs['sfreq'] or a {dim!r} "
                "coordinate in seconds"
            )
        coord = obj.coords[dim]
        times = np.asarray(coord.values, dtype=float) * seconds_factor(
            coord.attrs.get("units"), f"{what}: coordinate {dim!r}"
        )
    else:
        times = np.asarray(obj, dtype=float)
    steps = np.diff(times, axis=-1)
    steps = steps[np.isfinite(steps)]
    if steps.size == 0:
        raise SchemaError(f"{what}: {dim!r} needs at least 2 samples to know the sampling period")
    step = float(np.median(steps))
    if not step > 0:
        raise SchemaError(f"{what}: coordinate {dim!r} is not increasing (median step {step:g} s)")
    if regular and not np.all(np.abs(steps - step) <= REGULAR_RTOL * step):
        raise SchemaError(
            f"{what}: {dim!r} is irregularly sampled (steps {steps.min():g}..{steps.max():g} s); "
            "expected a regular series: resample it first"
        )
    return step


def sampling_rate(
    obj: Any, *, dim: str = "time", regular: bool = True, what: str = "data"
) -> float:
    """Sampling rate in Hz: ``1 / sampling_period(obj, ...)`` (see there)."""
    return 1.0 / sampling_period(obj, dim=dim, regular=regular, what=what)


def snap_to_samples(times: np.ndarray, sfreq: float, *, tol: float = 0.5e-6) -> np.ndarray:
    """Times (s from sample 0) within ``tol`` of a sample, put on that sample exactly.

    MNE keeps annotation onsets to the microsecond, so an event on sample 3965 at 256 Hz
    (15.48828125 s) comes back as 15.488281 s and ``onset * sfreq`` is no longer whole; the
    default ``tol`` undoes exactly that rounding and leaves every other time as it is.
    """
    times = np.asarray(times, dtype=float)
    on_grid = np.round(times * sfreq) / sfreq
    return np.where(np.abs(on_grid - times) <= tol + 1e-12, on_grid, times)
