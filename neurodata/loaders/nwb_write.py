"""Write EEG/iEEG Datasets to NWB 2.x: an ElectricalSeries, its electrodes table, and
the annotations as a ``TimeIntervals`` table.

The file passes ``nwbinspector`` without CRITICAL findings and reads back with
[`neurodata.loaders.nwb.read_nwb`][] into the same channels, values (float64,
exact), positions and annotations.
"""

from __future__ import annotations

import uuid
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from ..errors import FormatError, SchemaError
from ..schema import as_dataset

__all__ = ["write_nwb"]

#: Stand-in session start for recordings without one (the DANDI convention for anonymised dates).
_ANONYMOUS_START = datetime(1900, 1, 1, tzinfo=UTC)


def _start(attrs: dict) -> datetime:
    start = attrs.get("start_time")
    if start is None:
        return _ANONYMOUS_START
    when = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _column(signal: xr.DataArray, name: str, default: Any) -> np.ndarray:
    if name in signal.coords:
        return np.asarray(signal[name].values)
    return np.full(signal.sizes["channel"], default)


#: Channel coords written to the electrodes table's own columns (or re-derived on reading).
_WRITTEN = frozenset(
    {"channel", "label", "location", "group", "group_name", "ch_type", "bad", "ch_unit",
     "x", "y", "z", "electrode"}
)  # fmt: skip
#: Optional columns the NWB schema defines for the electrodes table.
_NWB_COLUMNS = frozenset({"imp", "filtering", "rel_x", "rel_y", "rel_z", "reference"})


def _extra_columns(signal: xr.DataArray) -> dict[str, list[Any]]:
    """Every other coordinate along ``channel`` (``imp``, ``filtering``, a source file's own
    columns), as an electrodes-table column: nothing of the channels is dropped."""
    out = {}
    for name, coord in signal.coords.items():
        if name in _WRITTEN or coord.dims != ("channel",):
            continue
        values = np.asarray(coord.values)
        numeric = values.dtype.kind in "biuf"
        out[str(name)] = [v.item() if numeric else str(v) for v in values]
    return out


def _filtering(attrs: dict) -> str:
    """``"highpass=0.1 Hz; lowpass=40.0 Hz"``: the filters, in the form read_nwb parses back."""
    keys = ("highpass", "lowpass", "line_freq")
    return "; ".join(f"{k}={float(attrs[k])!r} Hz" for k in keys if k in attrs)


def write_nwb(
    obj: xr.Dataset | xr.DataArray,
    path: Path,
    *,
    session_description: str | None = None,
    series_name: str = "ElectricalSeries",
) -> None:
    """Write an EEG/iEEG Dataset to an NWB file.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        ``signal(time, channel)`` in volts (SI) with optional channel coords
        ``ch_type``, ``bad``, ``x``/``y``/``z`` (m) and any others (``imp``,
        ``filtering``, a source's own electrode columns: each becomes a column
        of the electrodes table, so nothing is dropped), annotations
        ``onset``/``duration``/``label`` along ``event`` and attrs ``sfreq``,
        ``start_time``.
    path : pathlib.Path
        Output file.
    session_description : str, optional
        Default: from attrs, else a sentence naming the source.
    series_name : str
        Name of the ElectricalSeries in ``acquisition``.
    """
    pynwb = require("pynwb", "nwb", purpose="writing NWB")
    from pynwb.ecephys import ElectricalSeries
    from pynwb.epoch import TimeIntervals

    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name="signal", promote_attrs=True)
    ds = as_dataset(obj)
    if "signal" not in ds.data_vars or set(ds["signal"].dims) != {"time", "channel"}:
        found = [f"{n}{v.dims}" for n, v in ds.data_vars.items()]
        raise SchemaError(
            "writing NWB needs a variable 'signal' with dims ('time', 'channel') (neurodata "
            "writes EEG/iEEG to NWB; units, ophys and tables go to .zarr or .nc losslessly); "
            f"found {', '.join(found[:6])}{' ...' if len(found) > 6 else ''}"
        )
    signal = ds["signal"].transpose("time", "channel")
    units = signal.attrs.get("units")
    if units not in (None, "V"):
        raise SchemaError(f"signal has units {units!r}; NWB ElectricalSeries needs volts ('V')")
    source = ds.attrs.get("source", "an xarray Dataset")
    description = (
        session_description
        or ds.attrs.get("session_description")
        or f"recording converted by neurodata from {Path(str(source)).name}"
    )
    nwb = pynwb.NWBFile(
        session_description=str(description),
        identifier=str(ds.attrs.get("nwb_identifier", uuid.uuid4())),
        session_start_time=_start(ds.attrs),
        source_script="neurodata",
        source_script_file_name="neurodata/loaders/nwb_write.py",
    )
    nwb.subject = pynwb.file.Subject(
        subject_id=str(ds.attrs.get("subject_id", "unknown")),
        sex=str(ds.attrs.get("subject_sex", "U")),
        # NWB's open age range "P0D/" says truthfully that the age is unknown
        age=str(ds.attrs.get("subject_age", "P0D/")),
        description="subject of the source recording (details not recorded in the source)",
    )
    device = nwb.create_device(name="amplifier", description="recording system of the source file")
    names = [str(c) for c in signal["channel"].values]
    locations = [str(v) or "unknown" for v in _column(signal, "location", "unknown")]
    group_of = [str(v) or "electrodes" for v in _column(signal, "group_name", "electrodes")]
    groups = {}
    for name in dict.fromkeys(group_of):  # one ElectrodeGroup per source group, in order
        where = Counter(loc for loc, g in zip(locations, group_of) if g == name)
        groups[name] = nwb.create_electrode_group(
            name=name, description="channels of this group in the source",
            location=where.most_common(1)[0][0], device=device,
        )  # fmt: skip
    types = [str(t) for t in _column(signal, "ch_type", "eeg")]
    bads = [bool(b) for b in _column(signal, "bad", False)]
    xyz = [np.asarray(_column(signal, a, np.nan), dtype=float) for a in "xyz"]
    nwb.add_electrode_column(name="label", description="channel name in the source file")
    nwb.add_electrode_column(name="ch_type", description="channel type (MNE convention)")
    nwb.add_electrode_column(name="bad", description="channel marked bad in the source")
    units = [str(u) for u in _column(signal, "ch_unit", "V")]
    if set(units) != {"V"}:
        others = sorted({u for u in units if u != "V"})
        warnings.warn(
            f"{path.name}: NWB's ElectricalSeries is in volts; the channels in {others} keep "
            "their unit only in the electrodes table's ch_unit column (read back by neurodata)",
            RuntimeWarning,
            stacklevel=3,
        )
    nwb.add_electrode_column(name="ch_unit", description="unit of the channel's values (SI)")
    extra = _extra_columns(signal)
    for name in extra.keys() - _NWB_COLUMNS:
        nwb.add_electrode_column(
            name=name, description=f"channel coordinate {name!r} of the source"
        )
    ids = np.asarray(_column(signal, "electrode", -1))
    keep_ids = ids.dtype.kind in "iu" and len(set(ids.tolist())) == len(ids) and ids.min() >= 0
    has_xyz = bool(np.isfinite(np.stack(xyz)).any())
    for i, name in enumerate(names):
        position = {a: float(v[i]) for a, v in zip("xyz", xyz)} if has_xyz else {}
        nwb.add_electrode(
            location=locations[i], group=groups[group_of[i]], label=name, ch_type=types[i], bad=bads[i],
            ch_unit=units[i], **position, **{k: v[i] for k, v in extra.items()},
            **({"id": int(ids[i])} if keep_ids else {}),
        )  # fmt: skip
    region = nwb.create_electrode_table_region(list(range(len(names))), "all channels")
    times = np.asarray(signal["time"].values, dtype=float)
    sfreq = signal.attrs.get("sfreq", ds.attrs.get("sfreq"))
    timing: dict[str, Any]
    if sfreq is not None:
        timing = {"rate": float(sfreq), "starting_time": float(times[0]) if times.size else 0.0}
    else:
        timing = {"timestamps": times}
    nwb.add_acquisition(
        ElectricalSeries(
            name=series_name,
            data=np.asarray(signal.values, dtype=np.float64),
            electrodes=region,
            description=f"signal of {Path(str(source)).name}",
            conversion=1.0,
            filtering=_filtering({**ds.attrs, **signal.attrs}),
            **timing,
        )
    )
    if {"onset", "duration", "label"} <= set(ds.data_vars) and ds.sizes.get("event", 0):
        table = TimeIntervals(name="annotations", description="annotations of the recording")
        table.add_column(name="label", description="annotation text")
        onset = np.asarray(ds["onset"].values, dtype=float)
        stop = onset + np.asarray(ds["duration"].values, dtype=float)
        for start, end, label in zip(onset, stop, ds["label"].values):
            table.add_interval(start_time=float(start), stop_time=float(end), label=str(label))
        nwb.add_time_intervals(table)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pynwb.NWBHDF5IO(str(path), "w") as io:
                io.write(nwb)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"{path.name}: cannot write NWB: {exc}") from exc
