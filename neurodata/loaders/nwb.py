"""Neurodata Without Borders (NWB 2.x) files, read with pynwb.

[`read_nwb`][] gives one `xarray.Dataset` with at most one ``time``
axis (an NWB file may hold many series on different clocks; pick one with
``series=``), plus the tables that have no time axis of their own:

- the time series, chosen in this order unless ``series`` names one:
  an ``ElectricalSeries`` (acquisition, then ``LFP`` in processing) as
  ``signal(time, channel)`` in volts, with ``conversion``, ``offset`` and
  ``channel_conversion`` applied lazily and electrode-table columns as channel
  coordinates; ophys ``RoiResponseSeries`` (``Fluorescence``/``DfOverF``) as
  ``(time, roi)``; intracellular sweeps (``CurrentClampSeries``,
  ``VoltageClampSeries``, ``IZeroClampSeries`` and their stimuli) as
  ``response(sweep, time)`` and ``stimulus(sweep, time)`` (see
  `neurodata.loaders._nwb_icephys`); else the largest group of numeric
  ``TimeSeries`` of any subtype (in ``acquisition``, ``stimulus`` or
  ``processing``) sharing one clock, a numbered family (``Activity_0000``,
  ``Activity_0001``, ...) stacked into ``(time, roi)`` and the others as
  separate variables along ``time``. Rate-based and timestamped (irregular)
  series both work;
- ``Units``: spike times as a ragged table (``spike_time`` and ``spike_neuron``
  along ``spike``; unit columns along ``neuron``), and with ``bin_size`` a
  binned ``rate(time, neuron)`` view in Hz;
- every ``TimeIntervals`` table (trials, epochs, others) as annotations along
  ``event``: ``onset`` = start_time, ``duration`` = stop - start, ``label`` =
  the table name (or tags), ``interval_table`` and every other column kept
  (bytes decoded to str, overlaps kept).

A file in which none of this is found is refused (``FormatError`` naming what
the file does hold), never returned as an empty Dataset.

Unit strings that are not SI units ("a.u.", "none", "dF/F", "NA") never go to
``attrs["units"]``; they are kept in ``long_name``.
"""

from __future__ import annotations

import builtins
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._compat import require
from ..errors import FormatError, SchemaError
from ..schema import append_history, with_provenance
from ._nwb_icephys import recordings_frame, sweeps_dataset
from ._nwb_inventory import ICEPHYS_RESPONSES, ICEPHYS_STIMULI, default_series, holdings, inventory
from ._nwb_ophys import OPHYS_KINDS, ophys_variables
from ._nwb_values import _decode, _value_attrs

__all__ = ["list_series", "read_nwb", "sniff_nwb"]


#: "highpass=0.1 Hz; lowpass=40 Hz" in an ElectricalSeries' ``filtering`` (as write_nwb writes it).
_FILTERS = re.compile(r"\b(highpass|lowpass|line_freq)=([-+0-9.eE]+) Hz")

_FAMILY = re.compile(r"^(?P<prefix>.*?)[_\-]?(?P<number>\d+)$")


def sniff_nwb(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file with an ``nwb_version`` root attribute."""
    with builtins.open(path, "rb") as fh:
        if fh.read(8) != b"\x89HDF\r\n\x1a\n":
            return False
    import h5py

    with h5py.File(path, "r") as f:
        return "nwb_version" in f.attrs


def _str_array(values: Any) -> np.ndarray:
    return np.array([str(_decode(v)) for v in values], dtype=object)


class _H5Array:
    """Array-like over one HDF5 dataset, opening the file on each read (lazy, picklable)."""

    _lock = threading.Lock()

    def __init__(self, path: Path, name: str, shape: tuple[int, ...], dtype: np.dtype):
        self.path, self.name, self.shape, self.dtype = path, name, shape, dtype
        self.ndim = len(shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        import h5py

        with self._lock, h5py.File(self.path, "r") as f:
            return np.asarray(f[self.name][key])


def _lazy(path: Path, dataset: Any, chunk_rows: int = 65536) -> Any:
    import dask.array as da

    shape = tuple(dataset.shape)
    if not hasattr(dataset, "name") or not hasattr(dataset, "file"):
        return da.from_array(np.asarray(dataset), chunks=-1)
    chunks = (min(chunk_rows, max(shape[0], 1)), *shape[1:]) if shape else ()
    array = _H5Array(path, dataset.name, shape, np.dtype(dataset.dtype))
    return da.from_array(array, chunks=chunks, asarray=True, name=False, fancy=False)


# --------------------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------------------


def _times(ts: Any) -> tuple[np.ndarray, float | None]:
    if ts.timestamps is not None:
        stamps = ts.timestamps
        stamps = stamps.timestamps if hasattr(stamps, "timestamps") else stamps  # linked series
        return np.asarray(stamps[:], dtype=float), None
    rate = float(ts.rate)
    start = float(ts.starting_time or 0.0)
    return start + np.arange(ts.data.shape[0], dtype=float) / rate, rate


def _one_clock(ts: Any) -> np.ndarray:
    return _times(ts)[0]


def _scaled(path: Path, ts: Any, lazy: bool) -> Any:
    data = _lazy(path, ts.data) if lazy else np.asarray(ts.data[:])
    conversion = float(getattr(ts, "conversion", 1.0) or 1.0)
    offset = float(getattr(ts, "offset", 0.0) or 0.0)
    data = data.astype(np.float64) * conversion + offset if data.dtype.kind in "iuf" else data
    channel_conversion = getattr(ts, "channel_conversion", None)
    if channel_conversion is not None:
        factors = np.asarray(channel_conversion[:], dtype=float)
        data = (data - offset) * factors + offset if offset else data * factors
    return data


def _positions(table: pd.DataFrame, history: list[str]) -> dict[str, Any]:
    out = {}
    if not all(a in table.columns for a in "xyz"):
        return out
    xyz = table[["x", "y", "z"]].to_numpy(dtype=float)
    biggest = np.nanmax(np.abs(xyz), initial=0.0)
    if 2.0 < biggest <= 2000.0:
        xyz = xyz / 1000.0
        history.append(f"electrode x/y/z reach {biggest:g}, impossible in metres; read as mm")
    elif biggest > 2000.0:
        xyz = np.full_like(xyz, np.nan)
        history.append(f"electrode x/y/z reach {biggest:g} (unknown unit); set to NaN")
    for axis, values in zip("xyz", xyz.T):
        out[axis] = ("channel", values, {"units": "m"})
    return out


def _no_positions(n: int) -> dict[str, Any]:
    """x/y/z of NaN (metres) for electrodes tables without positions, as read_eeg gives."""
    return {axis: ("channel", np.full(n, np.nan), {"units": "m"}) for axis in "xyz"}


def _electrode_coords(es: Any, history: list[str]) -> dict[str, Any]:
    region = es.electrodes
    table = region.table
    rows = np.asarray(region.data[:], dtype=int)
    frame = _table_frame(table).iloc[rows].reset_index(drop=True)
    coords: dict[str, Any] = {}
    for name in ("label", "channel_name", "name"):
        if name in frame.columns and frame[name].nunique() == len(frame):
            coords["channel"] = ("channel", _str_array(frame[name]))
            break
    else:
        coords["channel"] = ("channel", _str_array(frame["id"]))
    coords["electrode"] = ("channel", frame["id"].to_numpy(dtype=int))
    coords.update(_positions(frame, history) or _no_positions(len(frame)))
    for column in frame.columns:
        if column in ("id", "x", "y", "z", "label", "channel_name", "name"):
            continue
        values = frame[column]
        key = "ch_type" if column == "ch_type" else column
        if key == "bad" or values.dtype.kind == "b":
            coords[key] = ("channel", values.to_numpy(dtype=bool))
        elif values.dtype.kind in "iuf":
            coords[key] = ("channel", values.to_numpy())
        else:
            coords[key] = ("channel", _str_array(values))
    coords.setdefault("ch_type", ("channel", np.array(["ecephys"] * len(frame), dtype=object)))
    return coords


def _table_frame(table: Any) -> pd.DataFrame:
    """A DynamicTable as a flat DataFrame: bytes decoded, objects and ragged cells as str."""
    columns: dict[str, Any] = {"id": np.asarray(table.id[:])}
    for name in table.colnames:
        column = table[name]
        kind = type(column).__name__
        if kind == "DynamicTableRegion":
            columns[name] = np.asarray(column.data[:])
            continue
        if kind == "VectorIndex":
            cells = [column[i] for i in range(len(column))]
            columns[name] = [";".join(str(_decode(v)) for v in np.atleast_1d(c)) for c in cells]
            continue
        values = column.data[:] if hasattr(column, "data") else column[:]
        if len(values) and not isinstance(values[0], str | bytes | np.generic | int | float):
            values = [getattr(v, "name", str(v)) for v in values]  # e.g. ElectrodeGroup
        values = np.asarray(values)
        if values.dtype.kind in "SO":
            values = _str_array(values)
        columns[name] = values
    return pd.DataFrame(columns)


def _series_dataset(
    path: Path, picks: list[str], found: dict, nwb: Any, lazy: bool, history: list[str]
) -> xr.Dataset:
    kind, first = found[picks[0]]
    if kind in ICEPHYS_RESPONSES + ICEPHYS_STIMULI:
        return sweeps_dataset(path, picks, found, nwb, _scaled, history)
    times, rate = _times(first)
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    file_attrs: dict[str, Any] = {}
    if kind in ("ElectricalSeries", "LFP"):
        if len(picks) > 1:
            raise FormatError(
                f"{path}: `series` names {len(picks)} series; an ElectricalSeries is read "
                f"on its own (channels differ): pick one of {picks}"
            )
        data = _scaled(path, first, lazy)
        data = data[:, None] if data.ndim == 1 else data
        coords.update(_electrode_coords(first, history))
        attrs = _value_attrs(first)
        if "ch_unit" in coords and set(coords["ch_unit"][1]) != {"V"}:  # mixed units
            attrs = {"long_name": "signal in SI units; per-channel units in coordinate ch_unit"}
        data_vars["signal"] = (("time", "channel"), data, attrs)
        filtering = _FILTERS.findall(_decode(getattr(first, "filtering", None)) or "")
        file_attrs.update({key: float(value) for key, value in filtering})
    elif kind in OPHYS_KINDS:
        variables, roi_coords = ophys_variables(path, picks, found, _one_clock, _scaled, lazy)
        data_vars.update(variables)
        coords.update(roi_coords)
    else:
        families: dict[str, list[str]] = {}
        for key in picks:
            name = key.rsplit("/", 1)[-1]
            match = _FAMILY.match(name)
            families.setdefault(match.group("prefix") if match else name, []).append(key)
        for prefix, keys in families.items():
            series = [found[k][1] for k in keys]
            arrays = [_scaled(path, s, False) for s in series]
            if len(keys) > 1 and all(a.ndim == 1 for a in arrays) and "roi" not in coords:
                var = prefix.strip("_-") or "activity"
                names = np.array([k.rsplit("/", 1)[-1] for k in keys], dtype=object)
                coords["roi"] = ("roi", names)
                attrs = _value_attrs(series[0])
                if "long_name" in attrs:
                    unit = _decode(series[0].unit)
                    attrs["long_name"] = f"{var}: {len(keys)} TimeSeries (unit in file: {unit!r})"
                data_vars[var] = (("time", "roi"), np.stack(arrays, axis=1), attrs)
                history.append(f"stacked {len(keys)} TimeSeries {prefix}* into ({var}: time, roi)")
            else:
                for key, s, a in zip(keys, series, arrays):
                    dims = ("time",) if a.ndim == 1 else ("time", "feature")
                    data_vars[key.rsplit("/", 1)[-1]] = (dims, a, _value_attrs(s))
    order = np.argsort(times, kind="stable")
    if np.any(np.diff(times) <= 0):
        if np.any(np.diff(times[order]) == 0):
            raise FormatError(
                f"{path}: series {picks[0]!r} has repeated timestamps; expected strictly "
                "increasing times (event codes? read them with pynwb)"
            )
        history.append(f"sorted the timestamps of {picks[0]!r} (not increasing in the file)")
        data_vars = {k: (dims, np.asarray(v)[order], a) for k, (dims, v, a) in data_vars.items()}
        times = times[order]
    coords["time"] = ("time", times, {"units": "s"})
    ds = xr.Dataset(data_vars, coords=coords, attrs=file_attrs)
    if rate is not None:
        ds.attrs["sfreq"] = rate
        for var in ds.data_vars.values():
            var.attrs["sfreq"] = rate
    ds.attrs["nwb_series"] = picks if len(picks) > 1 else picks[0]
    return ds


# --------------------------------------------------------------------------------------
# units and intervals
# --------------------------------------------------------------------------------------


def _unit_electrodes(units: Any) -> dict[str, Any]:
    """Every column of each unit's electrode (location, group name, ``x``/``y``/``z`` as
    the file gives them, ``imp``, its own columns) as ``electrode_<column>`` coordinates
    (when each unit has exactly one electrode)."""
    if "electrodes" not in units.colnames:
        return {}
    region = units["electrodes"]
    if type(region).__name__ != "DynamicTableRegion":
        return {}  # ragged: several electrodes per unit, kept as text by _table_frame
    table = _table_frame(region.table)
    rows = np.asarray(region.data[:], dtype=int)
    out = {}
    for column in table.columns:
        if column in ("id", "group"):  # the row index; the ElectrodeGroup object (group_name)
            continue
        values = table[column].to_numpy()[rows]
        numeric = values.dtype.kind in "iufb"
        out[f"electrode_{column}"] = ("neuron", values if numeric else _str_array(values))
    return out


def _units(units: Any, bin_size: float | None, history: list[str]) -> xr.Dataset:
    frame = _table_frame(units)
    labels = _str_array(frame["id"])
    index = units["spike_times"]  # a VectorIndex: one read of the values and the ends
    ends = np.asarray(index.data[:], dtype=np.int64)
    spikes = np.split(np.asarray(index.target.data[:], dtype=float), ends[:-1])
    counts = np.array([s.size for s in spikes], dtype=int)
    coords: dict[str, Any] = {"neuron": ("neuron", labels)}
    for column in frame.columns:
        if column in ("id", "spike_times", "obs_intervals"):
            continue
        values = frame[column]
        name = f"unit_{column}" if column in ("x", "y", "z", "time") else column
        coords[name] = (
            "neuron",
            values.to_numpy() if values.dtype.kind in "iufb" else _str_array(values),
        )
    coords.update(_unit_electrodes(units))
    flat = np.concatenate(spikes) if spikes else np.zeros(0)
    owner = np.repeat(labels, counts).astype(object)
    ds = xr.Dataset(
        {
            "spike_time": ("spike", flat, {"units": "s"}),
            "spike_neuron": ("spike", owner),
            "n_spikes": ("neuron", counts, {"long_name": "number of spikes of each unit"}),
        },
        coords=coords,
    )
    if bin_size is not None:
        if not (np.isfinite(bin_size) and bin_size > 0):
            raise SchemaError(f"`bin_size` must be a positive number of seconds; got {bin_size!r}")
        finite = flat[np.isfinite(flat)]
        start = np.floor(finite.min() / bin_size) * bin_size if finite.size else 0.0
        n_bins = int(np.ceil((finite.max() - start) / bin_size)) + 1 if finite.size else 1
        edges = start + np.arange(n_bins + 1) * bin_size
        rate = np.stack([np.histogram(s, edges)[0] / bin_size for s in spikes], axis=1)
        ds["rate"] = xr.Variable(("time", "neuron"), rate, {"units": "Hz", "sfreq": 1 / bin_size})
        ds = ds.assign_coords(time=("time", edges[:-1], {"units": "s"}))
        ds.attrs["sfreq"] = 1.0 / bin_size
        history.append(f"binned spike times into rate(time, neuron) with bins of {bin_size:g} s")
    return ds


def _intervals(nwb: Any) -> xr.Dataset | None:
    tables = dict(nwb.intervals.items()) if nwb.intervals else {}
    frames = []
    for name, table in tables.items():
        frame = _table_frame(table).drop(columns=["id"])
        frame.insert(0, "interval_table", name)
        frames.append(frame)
    recordings = recordings_frame(nwb)  # icephys: one row per stimulus/response pair
    if recordings is not None:
        frames.append(recordings)
    if not frames:
        return None
    frame = pd.concat(frames, ignore_index=True, sort=False)
    start = frame.pop("start_time").to_numpy(dtype=float)
    stop = frame.pop("stop_time").to_numpy(dtype=float) if "stop_time" in frame else start
    label = frame["interval_table"].to_numpy(dtype=object)
    if "label" in frame:
        text = frame.pop("label").fillna("").astype(str).to_numpy(dtype=object)
        label = np.where(text != "", text, label)
    if "tags" in frame:
        tags = frame["tags"].fillna("").astype(str).to_numpy(dtype=object)
        label = np.where(tags != "", tags, label)
    data = {
        "onset": ("event", start, {"units": "s"}),
        "duration": ("event", stop - start, {"units": "s"}),
        "label": ("event", label.astype(object)),
    }
    for column in frame.columns:
        values = frame[column]
        name = column if column not in data else f"interval_{column}"
        if values.dtype.kind in "iuf":
            note = f"column {column!r} of the interval table(s) (no unit stated in the file)"
            data[name] = ("event", values.to_numpy(), {"long_name": note})
        elif values.dtype.kind == "b":
            data[name] = ("event", values.to_numpy())
        else:
            data[name] = (
                "event",
                np.array(
                    ["" if v is None or v is np.nan else str(v) for v in values], dtype=object
                ),
            )
    return xr.Dataset(data)


# --------------------------------------------------------------------------------------
# public reader
# --------------------------------------------------------------------------------------


#: Groups and datasets every NWB 2.x file has (the schema's required members of the root).
_REQUIRED = (
    "acquisition", "analysis", "general", "processing", "stimulus",
    "identifier", "session_description", "session_start_time", "file_create_date",
)  # fmt: skip


def _check_structure(path: Path) -> None:
    import h5py

    try:
        ok = sniff_nwb(path)
    except OSError as exc:
        raise FormatError(f"{path}: not a readable HDF5 file ({exc}); expected NWB 2.x") from exc
    if not ok:
        raise FormatError(
            f"{path}: not an NWB file (no HDF5 signature or no nwb_version attribute)"
        )
    from ._hdf5guard import check_hdf5

    check_hdf5(path)
    with h5py.File(path, "r") as f:
        missing = [name for name in _REQUIRED if name not in f]
    if missing:
        raise FormatError(
            f"{path}: NWB file is missing required group(s)/dataset(s) {missing} at the root; "
            "the file is incomplete or was not written by an NWB library"
        )


def _open(path: Path) -> tuple[Any, Any]:
    pynwb = require("pynwb", "nwb", purpose="reading NWB")
    _check_structure(path)
    io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return io, io.read()
    except Exception as exc:
        io.close()
        raise FormatError(f"{path}: not a valid NWB file: {type(exc).__name__}: {exc}") from exc


def list_series(path: str | Path) -> dict[str, str]:
    """The series in an NWB file that [`read_nwb`][] can read: NWB path -> kind."""
    io, nwb = _open(Path(path))
    try:
        return {k: kind for k, (kind, _) in inventory(nwb).items()}
    finally:
        io.close()


def read_nwb(
    path: str | Path,
    *,
    series: str | list[str] | None = None,
    bin_size: float | None = None,
    units: bool = True,
    intervals: bool = True,
    lazy: bool = True,
) -> xr.Dataset:
    """Read an NWB file into a Dataset (one time axis, plus units and interval tables).

    The chosen series become variables on their shared ``time`` axis (s), their
    values multiplied by the series' ``conversion`` and shifted by its ``offset``
    (NWB's factors to SI units). The Units table adds one entry per spike
    (``spike_time``, ``spike_neuron`` along ``spike``) and ``n_spikes`` per unit; all
    TimeIntervals tables (trials, epochs, ...) are stacked along ``event`` as
    ``onset``, ``duration`` and ``label``. Identifier, session and subject go to attrs.

    Parameters
    ----------
    path : str or pathlib.Path
        An NWB 2.x HDF5 file.
    series : str or list of str, optional
        NWB path(s) of the series to read (see [`list_series`][]), e.g.
        ``"acquisition/ElectricalSeries"``; several paths must share a clock.
        Default: an ElectricalSeries, else LFP, else ophys responses, else the
        largest group of TimeSeries sharing timestamps. ``"none"``: no series.
    bin_size : float, optional
        Also bin the Units' spike times into ``rate(time, neuron)`` (Hz) with
        bins of this many seconds; replaces the series' time axis.
    units, intervals : bool
        Read the Units table / the TimeIntervals tables (default True).
    lazy : bool
        Electrical and ophys series are dask arrays read from disk on demand.

    Returns
    -------
    xarray.Dataset
        Dims among ``time``, ``channel``, ``roi``, ``neuron``, ``spike``, ``event``.
    """
    path = Path(path)
    io, nwb = _open(path)
    history: list[str] = []
    try:
        found = inventory(nwb)
        parts: list[xr.Dataset] = []
        if series is None:
            picks = default_series(found, _one_clock) if bin_size is None else []
        elif series == "none":
            picks = []
        else:
            picks = [series] if isinstance(series, str) else list(series)
            unknown = [p for p in picks if p not in found]
            if unknown:
                raise FormatError(f"{path}: `series` must be among {sorted(found)}; got {unknown}")
        if picks:
            parts.append(_series_dataset(path, picks, found, nwb, lazy, history))
        if units and nwb.units is not None and "spike_times" in nwb.units.colnames:
            parts.append(_units(nwb.units, bin_size, history))
        elif bin_size is not None:
            raise FormatError(
                f"{path}: `bin_size` needs a Units table with spike_times; none found"
            )
        if intervals:
            table = _intervals(nwb)
            if table is not None:
                parts.append(table)
        if not any(part.data_vars for part in parts):
            raise FormatError(
                f"{path}: nothing readable: no series, Units or interval table neurodata reads "
                f"({holdings(nwb, found)})"
            )
        ds = xr.merge(parts, combine_attrs="drop_conflicts")
        others = sorted(set(found) - set(picks))
        if others:
            ds.attrs["nwb_other_series"] = others
        ds.attrs.update(_file_attrs(nwb))
        if nwb.session_start_time is not None and "start_time" not in ds.attrs:
            history.append(f"session_start_time {nwb.session_start_time:%Y-%m-%d} is the "
                           "anonymised placeholder: no start_time kept")  # fmt: skip
    finally:
        io.close()  # lazy arrays reopen the file themselves (_H5Array)
    ds = with_provenance(ds, source=path, source_format="NWB")
    for line in history:
        ds = append_history(ds, line)
    return ds


def _file_attrs(nwb: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {"nwb_identifier": str(nwb.identifier)}
    start = nwb.session_start_time
    if start is not None and start.year > 1900:  # 1900-01-01 marks an anonymised date
        attrs["start_time"] = start.isoformat()
    if nwb.session_description:
        attrs["session_description"] = str(nwb.session_description)
    if nwb.subject is not None and nwb.subject.subject_id:
        attrs["subject_id"] = str(nwb.subject.subject_id)
    return attrs
