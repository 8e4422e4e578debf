"""What the NWB readers share: decoding h5py values and the units of a series (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["_decode", "_si", "_value_attrs"]

#: NWB unit strings -> SI symbols. Anything else is not a unit neurodata stores.
_SI_UNITS = {
    "volts": "V", "volt": "V", "v": "V", "seconds": "s", "second": "s", "s": "s",
    "meters": "m", "meter": "m", "m": "m", "amperes": "A", "ampere": "A", "a": "A",
    "hz": "Hz", "hertz": "Hz", "radians": "rad", "radian": "rad", "rad": "rad",
    "degrees c": "degC", "celsius": "degC", "pascal": "Pa", "pa": "Pa",
    "meters/second": "m/s", "m/s": "m/s", "newtons": "N", "n": "N",
}  # fmt: skip


def _si(unit: Any) -> str | None:
    text = _decode(unit).strip() if unit is not None else ""
    return _SI_UNITS.get(text.lower())


def _decode(value: Any) -> Any:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", errors="replace")
    return value


def _value_attrs(ts: Any, kind: str | None = None) -> dict[str, Any]:
    unit = _decode(getattr(ts, "unit", None))
    attrs: dict[str, Any] = {}
    si = _si(unit)
    description = _decode(getattr(ts, "description", "")) or ts.name
    if kind == "DfOverF":
        attrs["long_name"] = f"dF/F, dimensionless ({description})"
    elif si is not None:
        attrs["units"] = si
    else:
        attrs["long_name"] = f"{description} (unit in file: {unit!r})"
    return attrs
