"""Intracellular electrophysiology (icephys) in NWB: sweeps stacked along ``sweep``.

An icephys file holds one ``PatchClampSeries`` per sweep (``CurrentClampSeries``,
``VoltageClampSeries`` or ``IZeroClampSeries`` in ``acquisition``, each with its
own start time) and the stimulus of each sweep (``*StimulusSeries`` in
``stimulus``). They become:

- ``response(sweep, time)`` in the responses' SI unit (V for current clamp, A for
  voltage clamp) and ``stimulus(sweep, time)`` in the stimuli's unit, with
  ``conversion``/``offset`` applied; ``time`` counts seconds from the start of
  each sweep, ``sweep_start`` (s, session clock) says when each began; sweeps
  shorter than the longest are padded with NaN (``n_samples`` says how many
  samples each holds);
- sweep coordinates ``sweep_number``, ``electrode``, ``gain``, ``stimulus_series``
  and ``stimulus_description``;
- the ``intracellular_recordings`` table as annotations (one event per row:
  onset and duration of the recorded part of the response, the response,
  stimulus and electrode names).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import FormatError
from ._nwb_inventory import ICEPHYS_STIMULI
from ._nwb_values import _value_attrs

__all__ = ["recordings_frame", "sweeps_dataset"]


def _relative_times(ts: Any) -> tuple[np.ndarray, float | None]:
    if ts.rate is not None:
        return np.arange(ts.data.shape[0], dtype=float) / float(ts.rate), float(ts.rate)
    stamps = np.asarray(ts.timestamps[:], dtype=float)
    return stamps - stamps[0], None


def _start(ts: Any) -> float:
    if ts.rate is not None:
        return float(ts.starting_time or 0.0)
    return float(ts.timestamps[0])


def _stack(path: Path, series: list[Any], scaled: Any, what: str) -> tuple[np.ndarray, dict]:
    """(sweep, time) float64 array padded with NaN, and the shared value attrs."""

    arrays = [np.asarray(scaled(path, ts, False), dtype=float) for ts in series]
    if any(a.ndim != 1 for a in arrays):
        shapes = sorted({a.shape for a in arrays})
        raise FormatError(f"{path}: {what} series have shapes {shapes}; expected 1-D sweeps")
    units = {_value_attrs(ts).get("units") for ts in series}
    if len(units) > 1:
        raise FormatError(
            f"{path}: {what} series have different units {sorted(map(str, units))}; "
            "read each kind with series=[...]"
        )
    out = np.full((len(arrays), max(a.size for a in arrays)), np.nan)
    for row, values in zip(out, arrays):
        row[: values.size] = values
    return out, _value_attrs(series[0])


def _pairs(nwb: Any, responses: list[Any], found: dict[str, tuple[str, Any]]) -> list[Any]:
    """The stimulus of each response: from the intracellular_recordings table, else by
    sweep number, else None."""
    stimuli = [ts for kind, ts in found.values() if kind in ICEPHYS_STIMULI]
    table = getattr(nwb, "intracellular_recordings", None)
    by_response: dict[str, Any] = {}
    if table is not None and len(table):
        frame = table.to_dataframe()
        for stim, resp in zip(frame[("stimuli", "stimulus")], frame[("responses", "response")]):
            if resp is not None and stim is not None and stim[2] is not None:
                by_response[resp[2].name] = stim[2]
    numbered = {ts.sweep_number: ts for ts in stimuli if ts.sweep_number is not None}
    return [
        by_response.get(
            r.name, numbered.get(r.sweep_number) if r.sweep_number is not None else None
        )
        for r in responses
    ]


def sweeps_dataset(
    path: Path, picks: list[str], found: dict, nwb: Any, scaled: Any, history: list[str]
) -> xr.Dataset:
    """``response(sweep, time)`` and ``stimulus(sweep, time)`` of the picked responses."""
    responses = [found[k][1] for k in picks]
    clocks = [_relative_times(ts) for ts in responses]
    longest = max(range(len(clocks)), key=lambda i: clocks[i][0].size)
    times, rate = clocks[longest]
    for key, (rel, _) in zip(picks, clocks):
        if not np.allclose(rel, times[: rel.size]):
            raise FormatError(
                f"{path}: sweep {key!r} is not sampled like {picks[longest]!r}; "
                "read sweeps of one sampling rate together with series=[...]"
            )
    response, attrs = _stack(path, responses, scaled, "response")
    data_vars: dict[str, Any] = {"response": (("sweep", "time"), response, attrs)}
    stimuli = _pairs(nwb, responses, found)
    if all(s is not None for s in stimuli):
        stim_clocks = [_relative_times(s)[0] for s in stimuli]
        if all(np.allclose(c, times[: c.size]) for c in stim_clocks if c.size <= times.size):
            values, stim_attrs = _stack(path, stimuli, scaled, "stimulus")
            if values.shape[1] <= times.size:
                padded = np.full(response.shape, np.nan)
                padded[:, : values.shape[1]] = values
                data_vars["stimulus"] = (("sweep", "time"), padded, stim_attrs)
    if "stimulus" not in data_vars and any(s is not None for s in stimuli):
        history.append("icephys stimuli not read: not one per sweep on the responses' clock")
    elif "stimulus" not in data_vars:
        history.append("icephys: no stimulus series found for the sweeps")
    coords: dict[str, Any] = {
        "sweep": ("sweep", np.array([ts.name for ts in responses], dtype=object)),
        "sweep_start": ("sweep", np.array([_start(ts) for ts in responses]), {"units": "s"}),
        "n_samples": ("sweep", np.array([ts.data.shape[0] for ts in responses], dtype=int)),
        "sweep_number": (
            "sweep",
            np.array([-1 if ts.sweep_number is None else int(ts.sweep_number) for ts in responses]),
        ),
        "electrode": ("sweep", np.array([ts.electrode.name for ts in responses], dtype=object)),
        "gain": ("sweep", np.array([np.nan if ts.gain is None else ts.gain for ts in responses])),
        "stimulus_series": (
            "sweep",
            np.array(["" if s is None else s.name for s in stimuli], dtype=object),
        ),
        "stimulus_description": (
            "sweep",
            np.array([str(ts.stimulus_description or "") for ts in responses], dtype=object),
        ),
        "time": ("time", times, {"units": "s", "long_name": "time from the start of each sweep"}),
    }
    ds = xr.Dataset(data_vars, coords=coords)
    if rate is not None:
        ds.attrs["sfreq"] = rate
        for var in ds.data_vars.values():
            var.attrs["sfreq"] = rate
    ds.attrs["nwb_series"] = picks if len(picks) > 1 else picks[0]
    history.append(
        f"stacked {len(picks)} {type(responses[0]).__name__} sweeps into response(sweep, time); "
        "time counts from each sweep's start (sweep_start)"
    )
    return ds


def recordings_frame(nwb: Any) -> pd.DataFrame | None:
    """The ``intracellular_recordings`` table as interval rows (session clock)."""
    table = getattr(nwb, "intracellular_recordings", None)
    if table is None or not len(table):
        return None
    frame = table.to_dataframe()
    rows = []
    for _, row in frame.iterrows():
        start, count, response = row[("responses", "response")]
        stim = row[("stimuli", "stimulus")]
        rate = float(response.rate) if response.rate is not None else None
        if rate is not None:
            onset = _start(response) + start / rate
            stop = onset + count / rate
        else:
            stamps = np.asarray(response.timestamps[:], dtype=float)
            onset, stop = float(stamps[start]), float(stamps[start + count - 1])
        rows.append(
            {
                "interval_table": "intracellular_recordings",
                "start_time": onset,
                "stop_time": stop,
                "label": f"recording {response.name}",
                "recording_response": response.name,
                "recording_stimulus": "" if stim is None or stim[2] is None else stim[2].name,
                "recording_electrode": row[("electrodes", "electrode")].name,
            }
        )
    return pd.DataFrame(rows)
