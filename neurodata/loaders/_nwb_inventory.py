"""What an NWB file holds: every ``TimeSeries`` pynwb knows, wherever it sits.

[`inventory`][] walks ``acquisition``, ``stimulus``, ``stimulus_template`` and
every processing module (and the containers inside them: ``LFP``,
``Fluorescence``, ``Position``, ``BehavioralTimeSeries``, ...) and returns each
series under its NWB path with a *kind*: the pynwb class name, except that
series inside ``LFP``/``FilteredEphys`` are ``"LFP"`` and ophys responses inside
``Fluorescence``/``DfOverF`` take the container's name. [`holdings`][]
describes a file in one line for errors ("nothing readable").
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

__all__ = ["ICEPHYS_RESPONSES", "ICEPHYS_STIMULI", "default_series", "holdings", "inventory"]

#: Intracellular responses (``acquisition``) and the stimuli that drove them (``stimulus``).
ICEPHYS_RESPONSES = ("CurrentClampSeries", "VoltageClampSeries", "IZeroClampSeries")
ICEPHYS_STIMULI = ("CurrentClampStimulusSeries", "VoltageClampStimulusSeries")

#: Containers whose series take the container's kind.
_CONTAINER_KINDS = {"LFP": "LFP", "FilteredEphys": "LFP", "Fluorescence": "Fluorescence"}
_CONTAINER_KINDS["DfOverF"] = "DfOverF"


def _is_series(obj: Any) -> bool:
    from pynwb.base import TimeSeries

    return isinstance(obj, TimeSeries)


def _walk(container: Any, prefix: str, found: dict[str, tuple[str, Any]], depth: int = 0) -> None:
    kind = _CONTAINER_KINDS.get(type(container).__name__)
    for child in getattr(container, "children", ()):
        name = f"{prefix}/{child.name}"
        if _is_series(child):
            found[name] = (kind or type(child).__name__, child)
        elif depth < 3:  # NWB nests at most module -> interface -> series
            _walk(child, name, found, depth + 1)


def inventory(nwb: Any) -> dict[str, tuple[str, Any]]:
    """NWB path -> (kind, pynwb object) of every TimeSeries in the file."""
    found: dict[str, tuple[str, Any]] = {}
    for group in ("acquisition", "stimulus", "stimulus_template"):
        for name, obj in (getattr(nwb, group, None) or {}).items():
            if _is_series(obj):
                found[f"{group}/{name}"] = (type(obj).__name__, obj)
            else:
                _walk(obj, f"{group}/{name}", found)
    for module_name, module in nwb.processing.items():
        for name, obj in module.data_interfaces.items():
            path = f"processing/{module_name}/{name}"
            if _is_series(obj):
                found[path] = (type(obj).__name__, obj)
            else:
                _walk(obj, path, found)
    return found


def _numeric(ts: Any) -> bool:
    data = getattr(ts, "data", None)
    shape = getattr(data, "shape", ())
    dtype = getattr(data, "dtype", None)
    if dtype is None or np.dtype(dtype).kind not in "iufb" or len(shape) not in (1, 2):
        return False
    return bool(shape[0]) and (ts.rate is not None or ts.timestamps is not None)


def default_series(found: dict[str, tuple[str, Any]], times: Any) -> list[str]:
    """The series [`neurodata.loaders.nwb.read_nwb`][] reads when none is named.

    In order: an ElectricalSeries, LFP, ophys responses, the intracellular
    responses of the most common kind, else the largest group of numeric
    TimeSeries (of any subtype, anywhere) sharing one clock. ``times(ts)``
    gives a series' sample times.
    """
    for wanted in ("ElectricalSeries", "LFP", "DfOverF", "Fluorescence", "RoiResponseSeries"):
        hits = [k for k, (kind, _) in found.items() if kind == wanted]
        if hits:
            return hits[:1]
    icephys = Counter(kind for kind, _ in found.values() if kind in ICEPHYS_RESPONSES)
    if icephys:
        common = icephys.most_common(1)[0][0]
        return [k for k, (kind, _) in found.items() if kind == common]
    plain = [
        k
        for k, (kind, ts) in found.items()
        if kind not in ICEPHYS_STIMULI and not k.startswith("stimulus_template/") and _numeric(ts)
    ]
    clocks: dict[bytes, list[str]] = {}
    for key in plain:
        stamps = times(found[key][1])
        if np.unique(stamps).size != stamps.size:
            continue  # repeated timestamps (e.g. TTL codes): not a time series of samples
        clocks.setdefault(stamps.tobytes(), []).append(key)
    return max(clocks.values(), key=len) if clocks else []  # largest group on one clock


def holdings(nwb: Any, found: dict[str, tuple[str, Any]]) -> str:
    """One line naming what the file holds, group by group (for "nothing readable")."""
    parts = []
    for group in ("acquisition", "stimulus", "stimulus_template", "processing", "analysis"):
        inside = getattr(nwb, group, None) or {}
        if group == "processing":
            names = {
                f"{m}/{n}": type(o).__name__
                for m, module in inside.items()
                for n, o in module.data_interfaces.items()
            }
        else:
            names = {n: type(o).__name__ for n, o in inside.items()}
        if names:
            shown = [f"{n} ({k})" for n, k in list(names.items())[:6]]
            more = f" and {len(names) - 6} more" if len(names) > 6 else ""
            parts.append(f"{group}: {', '.join(shown)}{more}")
    tables = [t for t in ("units", "electrodes", "intracellular_recordings", "sweep_table")]
    present = [t for t in tables if getattr(nwb, t, None) is not None]
    if present:
        parts.append(f"tables: {', '.join(present)}")
    if not parts:
        return "the file holds no data objects at all"
    series = f"; series readable by name: {sorted(found)[:6]}" if found else ""
    return "the file holds " + "; ".join(parts) + series
