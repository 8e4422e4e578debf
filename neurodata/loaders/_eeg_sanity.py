"""Header values MNE accepts but no recording can have: refused when the file is opened.

An EDF record duration of -1 gives a negative sampling rate, a BrainVision
``SamplingInterval=1e-308`` an infinite one, and an EDF physical minimum of NaN
(or a maximum of inf) turns every sample into NaN, all silently. ``check_header``
runs right after MNE parses the header, before any sample is read, so ``info``,
``convert`` and ``validate`` never see such a file as valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError

__all__ = ["check_header"]

#: Per-channel calibration arrays of MNE's EDF/BDF/GDF reader that must be finite.
_EDF_FIELDS = ("physical_min", "physical_max", "digital_min", "digital_max", "cal", "offsets")


def _first_bad(values: Any, names: list[str]) -> tuple[str, float] | None:
    values = np.asarray(values, dtype=float).ravel()
    bad = np.flatnonzero(~np.isfinite(values))
    if not bad.size:
        return None
    i = int(bad[0])
    return (names[i] if i < len(names) else f"#{i}"), float(values[i])


def check_header(raw: Any, path: Path) -> None:
    """Refuse a non-positive or non-finite sampling rate or channel calibration.

    Raises
    ------
    FormatError
        Naming the file, the field, the channel and the value found.
    """
    sfreq = float(raw.info["sfreq"])
    if not (np.isfinite(sfreq) and sfreq > 0):
        raise FormatError(
            f"{path}: header gives a sampling rate of {sfreq!r} Hz; expected a positive, finite "
            "rate (check the record duration / sampling interval)"
        )
    names = list(raw.ch_names)
    cals = getattr(raw, "_cals", None)
    if cals is not None:
        found = _first_bad(cals, names)
        if found is None and np.any(np.asarray(cals, dtype=float) == 0):
            found = (names[int(np.flatnonzero(np.asarray(cals) == 0)[0])], 0.0)
        if found is not None:
            raise FormatError(
                f"{path}: channel {found[0]!r} has calibration {found[1]!r}; expected a finite, "
                "non-zero scale (corrupt header: every sample would be NaN or 0)"
            )
    extras = raw._raw_extras[0] if getattr(raw, "_raw_extras", None) else {}
    if not isinstance(extras, dict) or "physical_min" not in extras:
        return  # only EDF/BDF/GDF extras hold calibrations (BrainVision's "offsets" are not)
    for field in _EDF_FIELDS:
        if field not in extras:
            continue
        found = _first_bad(extras[field], names)
        if found is not None:
            raise FormatError(
                f"{path}: channel {found[0]!r} has {field.replace('_', ' ')} {found[1]!r} in the "
                "header; expected a finite number (every sample would be NaN)"
            )
