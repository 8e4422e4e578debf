"""C. elegans whole-brain calcium imaging -> ``activity(worm, time, neuron)``.

Three sources are read onto the canonical neuron axis of
`neurodata.celegans.neurons`:

- the Flavell lab's HDF5 files (``gcamp/trace_array``, ``timing/timestamp_confocal``,
  ``behavior/*``; Atanas et al. 2023, Dag et al. 2023) with a NeuroPAL label table
  (CSV: ``roi`` 1-based, ``label``, ``confidence``): [`read_flavell`][];
- the homogenized-dataset table of Simeon et al. (``worm-graph``; one row per
  worm and neuron with ``calcium_data``, ``time_in_seconds``, ``slot``,
  ``is_labeled_neuron``), as a DataFrame/parquet file or the per-worm record
  dicts of its pickles: [`read_homogenized`][], [`from_worm_records`][];
- NWB files with one ``TimeSeries`` per neuron (the Scholz et al. 2018 file of
  the NWB showcase), read with h5py: [`read_nwb_timeseries`][].

Every source gives one Dataset per worm with the same layout (see
[`read_flavell`][]), so `neurodata.celegans.stack` combines them.
Identities are never guessed: a ROI goes into a neuron slot only when its label
is a canonical name, is unique in that worm, and passes the ``uncertain`` and
``min_confidence`` choices; every other ROI stays in ``activity_roi`` with its
label and the reason (``roi_status``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._registry import pick
from ..celegans.neurons import is_neuron
from ..celegans.stack import stack
from ..celegans.worm import build_worm
from ..errors import FormatError, NotFoundError
from ..schema import validate, with_provenance
from ._hdf5guard import check_hdf5

__all__ = [
    "SIGNALS",
    "build_worm",
    "from_worm_records",
    "label_file",
    "read_flavell",
    "read_homogenized",
    "read_homogenized_stacked",
    "read_labels",
    "read_nwb_timeseries",
    "sniff_flavell",
    "sniff_homogenized",
    "sniff_nwb_timeseries",
]

#: Flavell-file signals: HDF5 dataset -> what it holds (its ``long_name``).
SIGNALS: Mapping[str, str] = {
    "trace_array": "GCaMP activity, z-scored per neuron (Flavell lab trace_array), dimensionless",
    "trace_array_original": "GCaMP/mNeptune ratio, un-normalised (Flavell lab), dimensionless",
    "traces_array_F_F20": "GCaMP F/F20 (Flavell lab), dimensionless",
}
# Behaviour time series of the Flavell files; body-angle matrices (time x segment) are skipped.
_BEHAVIOR = (
    "velocity",
    "head_angle",
    "angular_velocity",
    "body_curvature",
    "worm_curvature",
    "nose_angle",
    "nose_curling",
    "pumping",
    "reversal_vec",
    "stage_x",
    "stage_y",
)


# --------------------------------------------------------------------------------------
# Flavell lab HDF5 + NeuroPAL label table
# --------------------------------------------------------------------------------------


def sniff_flavell(path: Path) -> bool:
    """Whether ``path`` is an HDF5 file holding ``gcamp/trace_array``."""
    import h5py

    if not h5py.is_hdf5(path):
        return False
    with h5py.File(path, "r") as fh:
        return "gcamp/trace_array" in fh and "timing/timestamp_confocal" in fh


def _worm_id(path: Path) -> str:
    stem = path.name
    for suffix in ("-data.h5", "_data.h5", ".h5", ".hdf5"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return path.stem


def read_labels(path: str | Path, *, n_roi: int | None = None) -> pd.DataFrame:
    """Read a NeuroPAL label table (one row per labelled ROI).

    Parameters
    ----------
    path : str or pathlib.Path
        CSV with columns ``roi`` (1-based ROI number) and ``label``; optional
        ``confidence`` (1-5), ``uid`` and ``roi_py0`` (checked to be ``roi - 1``).
    n_roi : int, optional
        Number of ROIs of the recording, to check the ROI numbers against.

    Returns
    -------
    pandas.DataFrame
    """
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such label table")
    table = pd.read_csv(path, keep_default_na=True)
    missing = [c for c in ("roi", "label") if c not in table.columns]
    if missing:
        raise FormatError(
            f"{path}: a NeuroPAL label table needs columns ['roi', 'label']; missing {missing} "
            f"among {list(table.columns)}"
        )
    roi = table["roi"].to_numpy()
    if "roi_py0" in table.columns and not np.array_equal(table["roi_py0"].to_numpy(), roi - 1):
        raise FormatError(
            f"{path}: column 'roi_py0' is not 'roi' - 1; cannot tell the ROI numbering"
        )
    if n_roi is not None and len(roi) and (roi.min() < 1 or roi.max() > n_roi):
        raise FormatError(
            f"{path}: ROI numbers must be within 1..{n_roi} (1-based, the recording has "
            f"{n_roi} ROIs); got {int(roi.min())}..{int(roi.max())}"
        )
    return table


def label_file(path: str | Path, labels: str | Path | bool | None = None) -> Path | None:
    """The NeuroPAL label table of a Flavell-lab worm file, found beside it by default.

    Parameters
    ----------
    path : str or pathlib.Path
        ``<uid>-data.h5``.
    labels : str, pathlib.Path, bool or None
        A path (used as given); None or True: look for ``<uid>_neuropal_labels.csv``
        in the same folder (as events are found beside FIF files); False: none.

    Returns
    -------
    pathlib.Path or None
        None when ``labels`` is False, or when nothing was found (a
        ``UserWarning`` then says so, naming the file looked for).

    Raises
    ------
    NotFoundError
        ``labels=True`` and no table beside the file.
    """
    if labels is False:
        return None
    if labels not in (None, True):
        return Path(labels)
    path = Path(path)
    candidate = path.with_name(f"{_worm_id(path)}_neuropal_labels.csv")
    if candidate.is_file():
        return candidate
    message = (
        f"{path}: no NeuroPAL label table beside it (looked for {candidate.name}); no ROI is "
        "placed on a named neuron, so 'activity' is all NaN: pass labels=PATH (CLI: --labels)"
    )
    if labels is True:
        raise NotFoundError(message)
    warnings.warn(message, UserWarning, stacklevel=3)
    return None


def read_flavell(
    path: Path,
    *,
    labels: str | Path | bool | None = None,
    signal: str = "trace_array",
    uncertain: str = "include",
    min_confidence: float | None = None,
    duplicates: str = "drop",
    behavior: bool = True,
    worm: str | None = None,
) -> xr.Dataset:
    """Read one Flavell-lab worm (HDF5) with its NeuroPAL identities.

    The traces ``gcamp/<signal>`` are read as (time, ROI), transposed when the
    file stores them the other way round, and placed by [`build_worm`][] on the 302
    canonical neurons through the label table's ``roi`` -> ``label`` rows: a ROI
    given several different labels keeps them all joined by ``|`` (ambiguous, so it
    stays in ``activity_roi``). ``timing/timestamp_confocal`` gives ``timestamps``
    (s from the first frame); behaviour series of another length are skipped.

    Parameters
    ----------
    path : pathlib.Path
        ``<uid>-data.h5`` with ``gcamp/<signal>`` (time x ROI) and
        ``timing/timestamp_confocal`` (s).
    labels : str, pathlib.Path or bool, optional
        NeuroPAL label table. Default: ``<uid>_neuropal_labels.csv`` beside ``path``
        when there is one (see [`label_file`][]; a warning says when there is
        none); False: none. Without a table every ROI stays in ``activity_roi`` and
        ``activity`` is all NaN.
    signal : str
        Which trace to read, one of `SIGNALS` (default the z-scored ``trace_array``).
    uncertain, min_confidence, duplicates
        How identities are placed; see [`build_worm`][].
    worm : str, optional
        Worm id; default the file name without ``-data.h5`` (the lab's ``uid``).
        A label table with a ``uid`` column must be for this worm.
    behavior : bool
        Also read the behaviour time series (``velocity``, ``head_angle``, ...)
        as variables along (worm, time), values as stored in the file.

    Returns
    -------
    xarray.Dataset
        See [`build_worm`][]; plus the behaviour variables.
    """
    import h5py

    if signal not in SIGNALS:
        pick(SIGNALS, signal, "signal")
    uid = _worm_id(path) if worm is None else str(worm)
    check_hdf5(path)
    with h5py.File(path, "r") as fh:
        if f"gcamp/{signal}" not in fh or "timing/timestamp_confocal" not in fh:
            raise FormatError(
                f"{path}: not a Flavell-lab file; expected datasets 'gcamp/{signal}' and "
                "'timing/timestamp_confocal'"
            )
        traces = fh[f"gcamp/{signal}"][()]
        times = fh["timing/timestamp_confocal"][()]
        extra = {}
        if behavior and "behavior" in fh:
            for key in _BEHAVIOR:
                if key in fh["behavior"] and fh["behavior"][key].shape == times.shape:
                    extra[key] = fh["behavior"][key][()].astype(float)
    if traces.shape[0] != times.shape[0] and traces.shape[1] == times.shape[0]:
        traces = traces.T  # written column-major by Julia with the other axis order
    if traces.shape[0] != times.shape[0]:
        raise FormatError(
            f"{path}: gcamp/{signal} has shape {traces.shape} but timing/timestamp_confocal has "
            f"{times.shape[0]} frames"
        )
    roi_labels = conf = None
    labels = label_file(path, labels)
    if labels is not None:
        table = read_labels(labels, n_roi=traces.shape[1])
        if "uid" in table.columns and len(table):
            uids = set(table["uid"].astype(str))
            if uids != {uid}:
                raise FormatError(
                    f"{labels}: label table is for worm(s) {sorted(uids)}; expected {uid!r} "
                    f"(from {path.name}; pass worm= if the file was renamed)"
                )
        roi_labels, conf = _labels_per_roi(table, traces.shape[1])
    ds = build_worm(
        traces,
        times,
        worm=uid,
        labels=roi_labels,
        confidence=conf,
        uncertain=uncertain,
        min_confidence=min_confidence,
        duplicates=duplicates,
        long_name=SIGNALS[signal],
        name=path.name,
    )
    ds = ds.assign(
        {
            key: (("worm", "time"), values[None], {"long_name": f"behavior/{key} as stored"})
            for key, values in extra.items()
        }
    )
    ds.attrs["signal"] = signal
    ds.attrs["labels"] = "" if labels is None else str(labels)
    ds = with_provenance(ds, source=path, source_format="flavell-hdf5")
    return validate(ds, "timeseries")


def _labels_per_roi(table: pd.DataFrame, n_roi: int) -> tuple[np.ndarray, np.ndarray]:
    """Label and confidence of each ROI column. A ROI given several different labels
    gets them all, joined by ``|`` (kept apart as ``ambiguous``); empty labels are unlabelled."""
    labels = np.full(n_roi, "", dtype=object)
    conf = np.full(n_roi, np.nan)
    text = table["label"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    scores = (
        table["confidence"].to_numpy(dtype=float)
        if "confidence" in table
        else np.full(len(table), np.nan)
    )
    names: dict[int, dict[str, None]] = {}  # ordered sets of the labels of each ROI column
    best: dict[int, float] = {}
    for col, name, score in zip((table["roi"].to_numpy() - 1).tolist(), text, scores):
        found = names.setdefault(col, {})
        if name:
            found[name] = None
        if not np.isnan(score):
            best[col] = max(best.get(col, -np.inf), score)
    for col, found in names.items():
        labels[col] = "|".join(found)
        if len(found) == 1 and col in best:
            conf[col] = best[col]
    return labels, conf


# --------------------------------------------------------------------------------------
# the homogenized dataset (worm-graph): parquet table and per-worm records
# --------------------------------------------------------------------------------------

_HOMOGENIZED_COLUMNS = ("worm", "neuron", "calcium_data", "time_in_seconds")


def sniff_homogenized(path: Path) -> bool:
    """Whether ``path`` is a parquet table with the homogenized dataset's columns."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return False
    names = set(pq.read_schema(path).names)
    return set(_HOMOGENIZED_COLUMNS) <= names


def read_homogenized(
    path: Path | pd.DataFrame,
    *,
    signal: str = "original_calcium_data",
    uncertain: str = "include",
    duplicates: str = "drop",
) -> list[xr.Dataset]:
    """Read the homogenized C. elegans table (one row per worm and neuron).

    The layout is that of ``qsimeon/worm-graph`` (``extra/convert_to_parquet``):
    columns ``source_dataset``, ``worm``, ``neuron`` (a name, or a number for an
    unlabelled neuron), ``slot``, ``is_labeled_neuron``, ``calcium_data`` /
    ``original_calcium_data`` (one array per row), ``time_in_seconds`` /
    ``original_time_in_seconds``.

    Parameters
    ----------
    path : pathlib.Path or pandas.DataFrame
        A parquet file (needs pyarrow) or the table itself.
    signal : {"original_calcium_data", "calcium_data", ...}
        Column of traces; the matching time column is ``original_time_in_seconds``
        for ``original_*`` signals and ``time_in_seconds`` otherwise.
    uncertain, duplicates
        See [`build_worm`][].

    Returns
    -------
    list of xarray.Dataset
        One per (source_dataset, worm); combine with `neurodata.celegans.stack`.
    """
    table = path if isinstance(path, pd.DataFrame) else _read_parquet(path)
    time_col = "original_time_in_seconds" if signal.startswith("original_") else "time_in_seconds"
    missing = [c for c in ("worm", "neuron", signal, time_col) if c not in table.columns]
    if missing:
        raise FormatError(
            f"{_name(path)}: homogenized table lacks columns {missing}; has {list(table.columns)}"
        )
    keys = ["source_dataset", "worm"] if "source_dataset" in table.columns else ["worm"]
    out = []
    for key, rows in table.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        worm = "/".join(str(k) for k in key)
        times = np.asarray(rows[time_col].iloc[0], dtype=float).ravel()
        traces = np.column_stack([np.asarray(v, dtype=float).ravel() for v in rows[signal]])
        labelled = rows["is_labeled_neuron"].to_numpy(bool) if "is_labeled_neuron" in rows else None
        names = [str(n) for n in rows["neuron"]]
        labels = [
            n if (labelled is None or labelled[i]) and not n.isdigit() else ""
            for i, n in enumerate(names)
        ]
        ds = build_worm(
            traces,
            times,
            worm=worm,
            labels=labels,
            uncertain=uncertain,
            duplicates=duplicates,
            long_name=f"{signal} (homogenized dataset)",
            name=f"{_name(path)} worm {worm}",
        )
        source = path if not isinstance(path, pd.DataFrame) else "DataFrame"
        out.append(validate(with_provenance(ds, source=source, source_format="homogenized")))
    return out


def read_homogenized_stacked(
    path: Path,
    *,
    signal: str = "original_calcium_data",
    uncertain: str = "include",
    duplicates: str = "drop",
) -> xr.Dataset:
    """[`read_homogenized`][], all worms stacked (the reader behind ``neurodata.load``)."""
    worms = read_homogenized(path, signal=signal, uncertain=uncertain, duplicates=duplicates)
    return stack(worms)


def from_worm_records(
    records: Mapping[str, Mapping[str, Any]],
    *,
    signal: str = "original_calcium_data",
    uncertain: str = "include",
    duplicates: str = "drop",
) -> list[xr.Dataset]:
    """Worms of a homogenized-dataset pickle (``{worm: record}``) onto the canonical axis.

    Each record holds ``calcium_data`` / ``original_calcium_data`` (time x 302
    slots, zero-filled where nothing was recorded), ``time_in_seconds`` /
    ``original_time_in_seconds``, ``slot_to_neuron`` (slot -> name, numbers for
    unlabelled neurons) and ``named_neurons_mask`` / ``labeled_neurons_mask``.
    Only the slots in ``slot_to_neuron`` are read, so the zero filling of
    the other slots never becomes data; unlabelled neurons (placed by the
    homogenized pipeline in random free slots) go to ``activity_roi``.
    Unpickle the file yourself (pickles can run code; load only files you trust).
    """
    out = []
    time_key = "original_time_in_seconds" if signal.startswith("original_") else "time_in_seconds"
    for worm, rec in records.items():
        missing = [k for k in (signal, time_key, "slot_to_neuron") if k not in rec]
        if missing:
            raise FormatError(f"worm {worm!r}: record lacks keys {missing}; has {sorted(rec)}")
        data = np.asarray(rec[signal], dtype=float)
        times = np.asarray(rec[time_key], dtype=float).ravel()
        slots = sorted((int(s), str(n)) for s, n in rec["slot_to_neuron"].items())
        traces = data[:, [s for s, _ in slots]]
        labels = ["" if n.isdigit() else n for _, n in slots]
        ds = build_worm(
            traces,
            times,
            worm=str(worm),
            roi=[s for s, _ in slots],
            labels=labels,
            uncertain=uncertain,
            duplicates=duplicates,
            long_name=f"{signal} (homogenized dataset)",
            name=f"worm {worm}",
        )
        if "source_dataset" in rec:
            ds.attrs["source_dataset"] = str(rec["source_dataset"])
        out.append(
            validate(with_provenance(ds, source=f"record {worm}", source_format="homogenized"))
        )
    return out


def _read_parquet(path: Path) -> pd.DataFrame:
    from .._compat import require

    require("pyarrow", "celegans", purpose="reading the homogenized parquet table")
    return pd.read_parquet(path)


def _name(path: Any) -> str:
    return "DataFrame" if isinstance(path, pd.DataFrame) else Path(path).name


# --------------------------------------------------------------------------------------
# NWB with one TimeSeries per neuron (Scholz et al. 2018 showcase file)
# --------------------------------------------------------------------------------------


def sniff_nwb_timeseries(path: Path, prefix: str = "Activity_") -> bool:
    """Whether ``path`` is an NWB file whose acquisition holds ``<prefix>NNNN`` TimeSeries."""
    import h5py

    if not h5py.is_hdf5(path):
        return False
    with h5py.File(path, "r") as fh:
        group = fh.get("acquisition")
        if group is None or "nwb_version" not in fh.attrs:
            return False
        keys = [k for k in group if k.startswith(prefix)]
        return bool(keys) and all(
            group[k].attrs.get("neurodata_type") in ("TimeSeries", b"TimeSeries") for k in keys
        )


def read_nwb_timeseries(path: Path, *, prefix: str = "Activity_") -> xr.Dataset:
    """Read an NWB file whose neurons are separate ``TimeSeries`` (``acquisition/<prefix>NNNN``).

    The neurons of such files are unnamed ("Neuron: 12"), so they all go to
    ``activity_roi`` with the number as ROI; a description naming a canonical
    neuron (``"Neuron: AVAL"``) fills that slot instead. All series must share
    their timestamps (checked).
    """
    import h5py

    check_hdf5(path)
    with h5py.File(path, "r") as fh:
        group = fh.get("acquisition")
        keys = sorted(k for k in (group or {}) if k.startswith(prefix))
        if not keys:
            raise FormatError(f"{path}: no acquisition/{prefix}* TimeSeries")
        columns, labels, rois, times = [], [], [], None
        for i, key in enumerate(keys):
            series = group[key]
            stamps = series["timestamps"][()] if "timestamps" in series else None
            if stamps is None:
                rate = float(series["starting_time"].attrs["rate"])
                stamps = series["starting_time"][()] + np.arange(series["data"].shape[0]) / rate
            if times is None:
                times = stamps
            elif not np.array_equal(stamps, times):
                raise FormatError(f"{path}: {key} has other timestamps than {keys[0]}")
            columns.append(series["data"][()].astype(float).ravel())
            desc = str(series.attrs.get("description", ""))
            label = desc.split(":", 1)[-1].strip()
            labels.append(label if is_neuron(label) else "")
            rois.append(int(key[len(prefix) :]) if key[len(prefix) :].isdigit() else i)
        identifier = fh["identifier"][()].decode() if "identifier" in fh else _worm_id(path)
        start = fh["session_start_time"][()].decode() if "session_start_time" in fh else None
    ds = build_worm(
        np.column_stack(columns),
        times,
        worm=identifier,
        roi=rois,
        labels=labels,
        long_name="calcium activity (NWB TimeSeries), dimensionless",
        name=path.name,
    )
    if start:
        ds.attrs["start_time"] = start
    return validate(with_provenance(ds, source=path, source_format="nwb-timeseries"), "timeseries")
