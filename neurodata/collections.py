"""Many recordings as one lazy labelled collection along ``subject``.

:func:`open_collection` opens a BIDS root, a list of files, or a store written
by :func:`write_collection` as one ``(subject, ...)`` view *without reading the
signals*: every recording is opened through its loader's lazy path (MNE's
``get_data`` chunks for EEG, dask-backed zarr for neurodata stores) and the
per-subject arrays are stacked as dask arrays. Per-subject metadata
(``participants.tsv``, a table you pass, attrs that differ between recordings)
become coordinates along ``subject``.

Recordings rarely have exactly the same shape. ``join`` says what to do:

========  ======================================================================
"auto"    one Dataset if every recording has the same dims, sizes and labels;
          otherwise an :class:`xarray.DataTree` with one node per subject
          (default: nothing is padded or cut unless you ask).
"exact"   one Dataset, or :class:`MismatchError` naming the file that differs.
"inner"   one Dataset cut to what every recording has (shortest duration,
          common channels).
"outer"   one Dataset padded to the union (longest duration, all channels) with
          NaN, never zeros; ``n_time`` along ``subject`` gives the real length.
"tree"    always an :class:`xarray.DataTree`, one node per subject.
========  ======================================================================

Sampling rates are never reconciled: recordings at different rates only go
into a DataTree. Annotations along ``event`` are ragged by nature: they are
always padded at the end (NaN onsets/durations, ``""`` labels) and ``n_event``
gives each subject's count.

:func:`write_collection` writes a collection to one zarr v3 store in which each
variable along ``subject`` is sharded so that one shard holds one subject
(inner chunks along ``time``): written subject by subject through dask, so
memory stays bounded by a few subjects, atomically (:func:`neurodata.io.save`),
and readable lazily by any process or dask worker with :func:`neurodata.io.open`
or :func:`open_collection`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._progress import progress as _progress
from .errors import NeurodataError, NotFoundError, SchemaError
from .io import FORMATS, FormatSpec, detect_format, load, save
from .io import open as open_store

__all__ = [
    "JOINS",
    "CollectionError",
    "MismatchError",
    "open_collection",
    "write_collection",
]

PathLike = str | os.PathLike

#: The choices of ``join`` (see the module docstring).
JOINS = ("auto", "exact", "inner", "outer", "tree")

#: Dims whose length differs between recordings by nature (annotations): always padded.
RAGGED_DIMS = ("event",)

#: Recording files of a BIDS root: ``sub-<label>[_<key>-<value>...]_<datatype>.<ext>``.
_BIDS_NAME = re.compile(r"^(sub-[A-Za-z0-9]+)((?:_[A-Za-z0-9]+-[A-Za-z0-9]+)*)_(eeg|ieeg|meg)\.")
_SUB = re.compile(r"(sub-[A-Za-z0-9]+)(?=[_.]|$)")


class CollectionError(NeurodataError, ValueError):
    """Recordings cannot form a collection (duplicate subjects, nothing found, bad metadata)."""


class MismatchError(CollectionError):
    """Recordings of a collection differ (dims, sizes, labels, sampling rate) where they must agree."""


# --------------------------------------------------------------------------------------
# finding recordings and naming subjects
# --------------------------------------------------------------------------------------


def _bids_recordings(root: Path, entities: Mapping[str, str] | None) -> list[Path]:
    found = []
    for path in sorted(root.glob("sub-*/**/*")):
        match = _BIDS_NAME.match(path.name)
        if match is None or path.name.endswith((".json", ".tsv")):
            continue
        if path.suffix.lower() in (".eeg", ".vmrk") and path.with_suffix(".vhdr").exists():
            continue  # BrainVision companions: the .vhdr is the recording
        pairs = dict(p.split("-", 1) for p in match.group(2).split("_") if p)
        if entities and any(pairs.get(k) != str(v) for k, v in entities.items()):
            continue
        found.append(path)
    return found


def _subject_of(path: Path, subject_from: str | Callable[[Path], str]) -> str:
    if callable(subject_from):
        return str(subject_from(path))
    if subject_from == "stem":
        return path.name.split(".")[0]
    if subject_from == "parent":
        return path.parent.name
    if subject_from == "auto":  # the file's own sub-<label>, else its nearest folder's
        for part in (path.name, *reversed(path.parent.parts)):
            if match := _SUB.match(part):
                return match.group(1)
        return path.name.split(".")[0]
    match = re.search(subject_from, path.as_posix())
    if match is None or not match.groups():
        raise CollectionError(
            f"{path}: `subject_from` pattern {subject_from!r} does not match the path "
            "(it needs one group: the subject id)"
        )
    return match.group(1)


def _key(subject: str) -> str:
    """What subject ids are matched on: ``sub-01`` and ``01`` are the same subject."""
    return subject[4:] if subject.startswith("sub-") else subject


def _spec(path: Path, format: str | None) -> FormatSpec:
    if format is None:
        return detect_format(path)
    specs = {f.name: f for f in FORMATS if f.reader}
    if format not in specs:
        raise CollectionError(f"`format` must be one of {sorted(specs)}; got {format!r}")
    return specs[format]


def _reader_params(spec: FormatSpec) -> set[str]:
    module, _, func = spec.reader.partition(":")
    return set(inspect.signature(getattr(importlib.import_module(module), func)).parameters)


def _open_one(path: Path, format: str | None, options: Mapping[str, Any]) -> xr.Dataset:
    """One recording, lazily where its reader can (``lazy=True`` when it takes it)."""
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or directory")
    spec = _spec(path, format)
    params = _reader_params(spec)
    opts = dict(options)
    if "lazy" in params:
        opts.setdefault("lazy", True)
    obj = load(path, format=spec.name, **opts)
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name if obj.name is not None else "data")
    small = [  # labels and annotations: metadata, read now (signals stay lazy)
        name
        for name, var in obj.variables.items()
        if var.chunks is not None and (name in obj.coords or set(var.dims) <= set(RAGGED_DIMS))
    ]
    return obj.assign({n: obj[n].load() for n in small if n in obj.data_vars}).assign_coords(
        {n: obj.coords[n].load() for n in small if n in obj.coords}
    )


# --------------------------------------------------------------------------------------
# metadata
# --------------------------------------------------------------------------------------


def _as_table(metadata: Any, where: str) -> pd.DataFrame:
    if isinstance(metadata, str | os.PathLike):
        path = Path(metadata)
        if not path.is_file():
            raise NotFoundError(f"{path}: metadata table not found")
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        table = pd.read_csv(path, sep=sep, na_values=["n/a"], keep_default_na=True, dtype=None)
        where = str(path)
    elif isinstance(metadata, pd.DataFrame):
        table = metadata.copy()
    elif isinstance(metadata, Mapping):
        table = pd.DataFrame.from_dict(dict(metadata), orient="index")
    else:
        raise TypeError(
            "`metadata` must be a pandas DataFrame, a mapping subject -> {field: value} or a "
            f"path to a TSV/CSV table; got {type(metadata).__name__}"
        )
    for column in ("participant_id", "subject"):
        if column in table.columns:
            table = table.set_index(column)
            break
    if table.index.has_duplicates:
        dup = sorted(map(str, table.index[table.index.duplicated()]))[:5]
        raise CollectionError(f"{where}: subjects listed more than once: {dup}")
    table.index = [_key(str(i)) for i in table.index]
    return table


def _metadata_coords(
    subjects: list[str], tables: list[pd.DataFrame], taken: set[str]
) -> dict[str, xr.Variable]:
    """Columns of the tables (later ones win) as coordinates along ``subject``."""
    keys = [_key(s) for s in subjects]
    coords: dict[str, xr.Variable] = {}
    for table in tables:
        for column in table.columns:
            name = str(column)
            if name in taken:
                raise CollectionError(
                    f"metadata column {name!r} clashes with a dim or coordinate of the "
                    f"recordings; rename it"
                )
            series = table[column].reindex(keys)
            coords[name] = _column_variable(series)
    return coords


def _column_variable(series: pd.Series) -> xr.Variable:
    values = series.to_numpy()
    if series.dtype.kind in "biuf" and not series.isna().any():
        return xr.Variable("subject", values)
    if series.dtype.kind in "biuf" or pd.api.types.is_numeric_dtype(series.dropna()):
        return xr.Variable("subject", pd.to_numeric(series, errors="coerce").to_numpy(float))
    if series.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all() and series.notna().all():
        return xr.Variable("subject", values.astype(bool))
    text = np.array(["n/a" if pd.isna(v) else str(v) for v in values], dtype=object)
    return xr.Variable("subject", text)


# --------------------------------------------------------------------------------------
# comparing recordings
# --------------------------------------------------------------------------------------


def _sfreq(ds: xr.Dataset) -> float | None:
    if "sfreq" in ds.attrs:
        return float(ds.attrs["sfreq"])
    for var in ds.data_vars.values():
        if "time" in var.dims and "sfreq" in var.attrs:
            return float(var.attrs["sfreq"])
    return None


def _structure(ds: xr.Dataset) -> tuple:
    return tuple(sorted((str(n), tuple(map(str, v.dims))) for n, v in ds.data_vars.items()))


def _mismatch(items: list[tuple[str, Path, xr.Dataset]]) -> str | None:
    """Why these recordings cannot be stacked as they are (None when they can)."""
    _, first_path, first = items[0]
    rate = _sfreq(first)
    for _, path, ds in items[1:]:
        if _structure(ds) != _structure(first):
            return (
                f"{path}: variables {dict(_structure(ds))} differ from {first_path.name}'s "
                f"{dict(_structure(first))}"
            )
        if _sfreq(ds) != rate:
            return f"{path}: sampling rate {_sfreq(ds)} Hz; {first_path.name} has {rate} Hz"
        for dim in first.dims:
            if dim in RAGGED_DIMS:
                continue
            if ds.sizes.get(dim) != first.sizes[dim]:
                return (
                    f"{path}: dim {dim!r} has {ds.sizes.get(dim)} elements; "
                    f"{first_path.name} has {first.sizes[dim]}"
                )
            if dim in first.indexes and dim in ds.indexes:
                a, b = set(first.indexes[dim]), set(ds.indexes[dim])
                if a != b:  # the same labels in another order are aligned, not a mismatch
                    only, missing = sorted(map(str, b - a))[:5], sorted(map(str, a - b))[:5]
                    return (
                        f"{path}: {dim!r} labels differ from {first_path.name}'s "
                        f"(has {only} and lacks {missing})"
                    )
    return None


def _hard_mismatch(items: list[tuple[str, Path, xr.Dataset]]) -> str | None:
    """Differences no join can reconcile: variables/dims, sampling rate, unlabelled sizes."""
    _, first_path, first = items[0]
    for _, path, ds in items[1:]:
        if _structure(ds) != _structure(first):
            return (
                f"{path}: variables {dict(_structure(ds))} differ from {first_path.name}'s "
                f"{dict(_structure(first))}"
            )
        if _sfreq(ds) != _sfreq(first):
            return (
                f"{path}: sampling rate {_sfreq(ds)} Hz; {first_path.name} has {_sfreq(first)} Hz "
                "(neurodata does not resample silently: resample first, or use join='tree')"
            )
        for dim in first.dims:
            unlabelled = dim not in first.indexes or dim not in ds.indexes
            if dim in RAGGED_DIMS or dim == "time" or not unlabelled:
                continue
            if ds.sizes[dim] != first.sizes[dim]:
                return (
                    f"{path}: unlabelled dim {dim!r} has {ds.sizes[dim]} elements; "
                    f"{first_path.name} has {first.sizes[dim]} (no labels to align on)"
                )
    return None


# --------------------------------------------------------------------------------------
# aligning and stacking
# --------------------------------------------------------------------------------------


def _target_labels(items: list[tuple[str, Path, xr.Dataset]], dim: str, join: str) -> pd.Index:
    indexes = [ds.indexes[dim] for _, _, ds in items]
    target = indexes[0]
    for index in indexes[1:]:
        if join == "outer":
            target = target.append(index[~index.isin(target)])
        elif join == "inner":
            target = target[target.isin(index)]
        elif set(index) != set(target):  # exact: same labels, any order (first order kept)
            raise MismatchError(_mismatch(items) or f"{dim!r} labels differ")
    if len(target) == 0:
        raise MismatchError(f"the recordings have no {dim!r} label in common (join={join!r})")
    return target


def _time_target(items: list[tuple[str, Path, xr.Dataset]], join: str) -> np.ndarray:
    times = [np.asarray(ds["time"].values) for _, _, ds in items]
    lengths = [t.size for t in times]
    if join == "exact" and len(set(lengths)) > 1:
        raise MismatchError(_mismatch(items) or "durations differ")
    longest = times[int(np.argmax(lengths))] if join == "outer" else times[int(np.argmin(lengths))]
    rate = _sfreq(items[0][2])
    tol = 0.5 / rate if rate else 0.0
    for (_, path, _), t in zip(items, times):
        n = min(t.size, longest.size)
        if not np.allclose(t[:n], longest[:n], rtol=0, atol=tol):
            raise MismatchError(
                f"{path}: time axis starts at {t[0]:g} s or is sampled differently from the "
                f"others (first {longest[0]:g} s); cannot align by sample"
            )
    return longest


def _fill(dtype: np.dtype) -> tuple[np.dtype, Any]:
    if dtype.kind in "OUS":
        return np.dtype(object), ""
    if dtype.kind == "b":
        return np.dtype(bool), False
    if dtype.kind == "c":
        return dtype, np.nan
    return np.result_type(dtype, np.float32), np.nan


def _conform(ds: xr.Dataset, targets: dict[str, Any], ragged: dict[str, int]) -> xr.Dataset:
    """Reindex/pad/crop one recording to the target labels and lengths (lazily)."""
    if "time" in targets:
        n = ds.sizes["time"]
        want = targets["time"].size
        if n > want:
            ds = ds.isel(time=slice(0, want))
        elif n < want:
            ds = _pad(ds, "time", want - n)
        ds = ds.assign_coords(time=("time", targets["time"], ds["time"].attrs))
    for dim, labels in targets.items():
        if dim == "time":
            continue
        if not ds.indexes[dim].equals(labels):
            ds = ds.reindex({dim: labels}, fill_value=_fill_values(ds, dim))
    for dim, size in ragged.items():
        if dim in ds.dims and ds.sizes[dim] < size:
            ds = _pad(ds, dim, size - ds.sizes[dim])
    return ds


def _fill_values(ds: xr.Dataset, dim: str) -> dict[str, Any]:
    return {name: _fill(v.dtype)[1] for name, v in ds.variables.items() if dim in v.dims}


def _pad(ds: xr.Dataset, dim: str, extra: int) -> xr.Dataset:
    out = {}
    for name, var in ds.variables.items():
        if dim not in var.dims or name == dim:
            out[name] = var
            continue
        dtype, fill = _fill(var.dtype)
        var = var.astype(dtype) if dtype != var.dtype else var
        out[name] = var.pad({dim: (0, extra)}, mode="constant", constant_values=fill)
    coords = {k: v for k, v in out.items() if k in ds.coords and k != dim}
    data = {k: v for k, v in out.items() if k in ds.data_vars}
    return xr.Dataset(data, coords=coords, attrs=ds.attrs)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool | int | float | np.generic) and np.ndim(value) == 0


def _same(values: list[Any]) -> bool:
    first = values[0]
    for value in values[1:]:
        if type(value) is not type(first):
            return False
        if isinstance(first, np.ndarray):
            nan = first.dtype.kind in "fc"
            if first.shape != value.shape or not np.array_equal(first, value, equal_nan=nan):
                return False
        elif not (value == first or (_scalar(first) and pd.isna(first) and pd.isna(value))):
            return False
    return True


def _stack(items: list[tuple[str, Path, xr.Dataset]], join: str) -> xr.Dataset:
    import dask.array as da

    first = items[0][2]
    targets: dict[str, Any] = {}
    for dim in first.dims:
        if dim in RAGGED_DIMS:
            continue
        if dim == "time" and _sfreq(first) is not None:
            targets["time"] = _time_target(items, join)
        elif dim in first.indexes:
            targets[dim] = _target_labels(items, str(dim), join)
    ragged = {d: max(ds.sizes.get(d, 0) for _, _, ds in items) for d in RAGGED_DIMS}
    ragged = {d: n for d, n in ragged.items() if d in first.dims}
    conformed = [_conform(ds, targets, ragged) for _, _, ds in items]
    subjects = [s for s, _, _ in items]
    ref = conformed[0]
    data_vars = {}
    for name, var in ref.data_vars.items():
        arrays = [c[name].variable.transpose(*var.dims).data for c in conformed]
        if any(isinstance(a, da.Array) for a in arrays):
            stacked = da.stack([_as_dask(a) for a in arrays])
        else:  # small in-memory variables (annotations) stay in memory
            stacked = np.stack([np.asarray(a) for a in arrays])
        attrs = _common({k: v for k, v in c[name].attrs.items()} for c in conformed)
        data_vars[name] = xr.Variable(("subject", *var.dims), stacked, attrs)
    coords: dict[str, Any] = {"subject": ("subject", np.array(subjects, dtype=object))}
    for name, coord in ref.coords.items():
        if name in ref.dims:
            coords[name] = coord.variable
            continue
        values = [np.asarray(c[name].values) for c in conformed]
        if _same(values):
            coords[name] = coord.variable
        else:
            coords[name] = xr.Variable(("subject", *coord.dims), np.stack(values), coord.attrs)
    if "time" in targets:
        coords["n_time"] = ("subject", np.array([ds.sizes["time"] for _, _, ds in items]))
    for dim in ragged:
        coords[f"n_{dim}"] = ("subject", np.array([ds.sizes.get(dim, 0) for _, _, ds in items]))
    attrs = _common(ds.attrs for _, _, ds in items)
    for key in sorted({k for _, _, ds in items for k in ds.attrs} - set(attrs)):
        values = [ds.attrs.get(key) for _, _, ds in items]
        if all(_scalar(v) for v in values) and key not in coords:
            coords[key] = ("subject", np.array(values, dtype=object if _is_text(values) else None))
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _as_dask(array: Any) -> Any:
    import dask.array as da

    if isinstance(array, da.Array):
        return array
    return da.from_array(array, chunks=-1) if array.dtype == object else da.asarray(array)


def _is_text(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _common(attr_dicts: Any) -> dict[str, Any]:
    dicts = list(attr_dicts)
    keys = set(dicts[0]).intersection(*dicts[1:]) if dicts else set()
    return {k: dicts[0][k] for k in dicts[0] if k in keys and _same([d[k] for d in dicts])}


def _tree(
    items: list[tuple[str, Path, xr.Dataset]], meta: dict[str, xr.Variable], reason: str | None
) -> xr.DataTree:
    subjects = [s for s, _, _ in items]
    root = xr.Dataset(
        coords={"subject": ("subject", np.array(subjects, dtype=object)), **meta},
        attrs={"collection_join": "tree"} | ({"collection_mismatch": reason} if reason else {}),
    )
    nodes: dict[str, Any] = {"/": root}
    for i, (subject, _, ds) in enumerate(items):
        node = ds.copy(deep=False)
        node.attrs = dict(ds.attrs) | {
            k: v.values[i].item() if hasattr(v.values[i], "item") else v.values[i]
            for k, v in meta.items()
        }
        nodes[subject] = node
    return xr.DataTree.from_dict(nodes)


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------


def _is_collection_store(path: Path) -> bool:
    return path.is_dir() and (path / "zarr.json").is_file() and (path / "subject").is_dir()


def _recordings(
    source: PathLike | Sequence[PathLike], entities: Mapping[str, str] | None
) -> tuple[list[Path], Path | None]:
    if isinstance(source, str | os.PathLike):
        root = Path(source)
        if not root.exists():
            raise NotFoundError(f"{root}: no such file or directory")
        if not root.is_dir():
            raise CollectionError(
                f"{root}: one file is not a collection; pass a list of recordings or a BIDS root"
            )
        paths = _bids_recordings(root, entities)
        if not paths:
            raise CollectionError(
                f"{root}: no BIDS recordings found (sub-*/[ses-*/]<datatype>/sub-*_<datatype>.<ext>"
                f"{f' with entities {dict(entities)}' if entities else ''}); "
                "pass a list of files instead"
            )
        return paths, root
    paths = [Path(p) for p in source]
    if not paths:
        raise CollectionError(
            "`paths_or_bids_root` is an empty list; a collection needs recordings"
        )
    return paths, None


def open_collection(
    paths_or_bids_root: PathLike | Sequence[PathLike],
    *,
    format: str | None = None,
    join: str = "auto",
    subjects: Sequence[str] | None = None,
    subject_from: str | Callable[[Path], str] = "auto",
    entities: Mapping[str, str] | None = None,
    metadata: pd.DataFrame | Mapping[str, Mapping[str, Any]] | PathLike | None = None,
    progress: bool = False,
    **options: Any,
) -> xr.Dataset | xr.DataTree:
    """Open many recordings as one lazy collection along ``subject``.

    Nothing but headers is read: each recording is opened through its loader's
    lazy path and the signals stay dask arrays until computed.

    Parameters
    ----------
    paths_or_bids_root : path or sequence of paths
        A BIDS root (recordings ``sub-*/[ses-*/]<eeg|ieeg|meg>/sub-*_..._<eeg|ieeg|meg>.<ext>``
        and, if present, ``participants.tsv``), a list of recordings in any
        format :func:`neurodata.load` reads, or a store written by
        :func:`write_collection` (opened lazily as it is).
    format : str, optional
        Force one format for every recording (default: detected per file).
    join : {"auto", "exact", "inner", "outer", "tree"}
        What to do when recordings differ in duration or labels (channels):
        "auto" (default) stacks them when they agree and returns a DataTree
        with one node per subject when they do not; "exact" raises
        :class:`MismatchError`; "inner" cuts to the common part; "outer" pads
        with NaN (never zeros); "tree" always returns a DataTree.
    subjects : sequence of str, optional
        Keep only these subjects (``"sub-01"`` and ``"01"`` both match), in this order.
    subject_from : "auto", "stem", "parent", regex or callable
        How a recording's subject id is found: "auto" takes the BIDS
        ``sub-<label>`` of the path, else the file name without extensions;
        "stem"/"parent" the file/folder name; a regex's first group; or a
        function ``path -> str``.
    entities : mapping, optional
        BIDS entities a recording of a BIDS root must have, e.g.
        ``{"task": "rest", "ses": "01"}`` (one recording per subject).
    metadata : DataFrame, mapping or path, optional
        Per-subject fields (index or a ``participant_id``/``subject`` column =
        subject ids; or ``{subject: {field: value}}``; or a TSV/CSV file). Merged
        over ``participants.tsv`` (these win). Missing numbers are NaN, missing
        text ``"n/a"``.
    progress : bool
        Show a progress bar while opening the recordings.
    **options
        Passed to every reader (e.g. ``chunk_seconds=30`` for EEG). Readers that
        take ``lazy`` get ``lazy=True`` unless you pass it.

    Returns
    -------
    xarray.Dataset or xarray.DataTree
        A Dataset whose variables have dims ``(subject, ...)`` (e.g.
        ``signal(subject, time, channel)``) with metadata coordinates along
        ``subject``: the metadata columns, attrs that differ between recordings
        (``source``, ``start_time``, ...), ``n_time`` (samples before padding or
        cutting) and ``n_event`` (annotations per subject, padded with NaN/"");
        channel coordinates that differ between subjects (``bad``, positions)
        become ``(subject, channel)``. Or, when shapes differ and ``join`` is
        "auto" or "tree", a DataTree whose root holds ``subject`` and the
        metadata (and ``attrs["collection_mismatch"]``: what differs) and whose
        child ``"<subject>"`` is that subject's recording, metadata in its attrs.

    Raises
    ------
    MismatchError
        When the recordings do not fit together for ``join`` (names the file and
        what differs): other variables or dims, another sampling rate, other
        labels or durations with ``join="exact"``.
    CollectionError
        Two recordings for one subject, nothing found, bad metadata.
    NotFoundError, FormatError
        A recording is missing or cannot be read (from :func:`neurodata.load`).
    """
    if join not in JOINS:
        raise ValueError(f"`join` must be one of {list(JOINS)}; got {join!r}")
    if isinstance(paths_or_bids_root, str | os.PathLike) and _is_collection_store(
        Path(paths_or_bids_root)
    ):
        return _open_store(Path(paths_or_bids_root), subjects)
    paths, root = _recordings(paths_or_bids_root, entities)
    named: dict[str, tuple[str, Path]] = {}
    for path in paths:
        subject = _subject_of(path, subject_from)
        if _key(subject) in named:
            raise CollectionError(
                f"{path}: subject {subject!r} already comes from {named[_key(subject)][1]}; a "
                "collection holds one recording per subject (filter with `entities`, e.g. "
                "{'task': ...}, or name subjects with `subject_from`)"
            )
        named[_key(subject)] = (subject, path)
    if subjects is not None:
        unknown = [s for s in subjects if _key(str(s)) not in named]
        if unknown:
            raise CollectionError(
                f"`subjects` names {unknown}, which have no recording; found {_few(named)}"
            )
        chosen = [named[_key(str(s))] for s in subjects]
    else:
        chosen = list(named.values())
    tables = []
    if root is not None and (root / "participants.tsv").is_file():
        tables.append(_as_table(root / "participants.tsv", "participants.tsv"))
    if metadata is not None:
        tables.append(_as_table(metadata, "metadata"))
    items = [
        (subject, path, _open_one(path, format, options))
        for subject, path in _progress(chosen, desc="opening recordings", enabled=progress)
    ]
    taken = {"subject", "n_time", "n_event"} | {str(n) for _, _, ds in items for n in ds.variables}
    meta = _metadata_coords([s for s, _, _ in items], tables, taken)
    if join == "tree":
        return _tree(items, meta, None)
    hard = _hard_mismatch(items)
    soft = hard or _mismatch(items)
    if join == "auto" and soft is not None:
        return _tree(items, meta, soft)
    if hard is not None:
        raise MismatchError(f"{hard}; join={join!r} cannot stack them (join='tree' can)")
    if join == "auto":
        join = "exact"
    stacked = _stack(items, join)
    stacked = stacked.assign_coords(meta)
    return stacked


def _few(named: Mapping[str, tuple[str, Path]]) -> str:
    names = [s for s, _ in named.values()]
    return f"{names[:8]}{' ...' if len(names) > 8 else ''} ({len(names)} subjects)"


def _open_store(path: Path, subjects: Sequence[str] | None) -> xr.Dataset:
    ds = open_store(path)
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name if ds.name is not None else "data")
    small = [n for n, c in ds.coords.items() if n not in ds.dims and c.size <= 1 << 16]
    ds = ds.assign_coords({n: ds.coords[n].load() for n in small})  # metadata: in memory
    if subjects is not None:
        keys = {_key(str(s)): i for i, s in enumerate(ds["subject"].values)}
        missing = [s for s in subjects if _key(str(s)) not in keys]
        if missing:
            raise CollectionError(f"{path}: `subjects` names {missing}, not in the store")
        ds = ds.isel(subject=[keys[_key(str(s))] for s in subjects])
    return ds


def _inner_chunk(var: xr.Variable, time_chunk: int | None, target: int) -> tuple[int, ...]:
    sizes = dict(zip(var.dims, var.shape))
    chunks = [1 if d == "subject" else max(1, n) for d, n in sizes.items()]
    if "time" in sizes:
        others = math.prod(max(1, n) for d, n in sizes.items() if d not in ("subject", "time"))
        step = time_chunk or max(1, target // others)
        chunks[list(sizes).index("time")] = max(1, min(step, sizes["time"]))
    return tuple(chunks)


def write_collection(
    collection: xr.Dataset,
    path: PathLike,
    *,
    overwrite: bool = False,
    time_chunk: int | None = None,
    dtype: str | np.dtype | None = None,
    progress: bool = False,
) -> Path:
    """Write a collection to one zarr v3 store, one shard per subject.

    Every numeric variable with a ``subject`` dim is stored with the zarr v3
    sharding codec: a shard is one subject (the whole ``(time, channel, ...)``
    block), split inside into chunks along ``time``. The data are computed one
    subject per dask task and written shard by shard, so memory holds a few
    subjects at a time whatever the number of subjects, with the current dask
    scheduler (a ``dask.distributed.Client`` if one is active: its workers then
    read the recordings and write the shards). The write is atomic (a temporary
    sibling renamed into place: a failure leaves no partial store).

    Parameters
    ----------
    collection : xarray.Dataset
        From :func:`open_collection` (or any Dataset with a ``subject`` dim):
        variables ``(subject, ...)``, coordinates along ``subject`` and others.
    path : str or os.PathLike
        Output ``.zarr`` directory.
    overwrite : bool
        Replace an existing store (default False: :class:`OutputExistsError`).
    time_chunk : int, optional
        Samples per inner chunk along ``time`` (default: about 1 Mi values per chunk).
    dtype : str or numpy.dtype, optional
        Store floating-point variables with this dtype (e.g. ``"float32"``: half
        the disk, exact for EEG formats that hold <= 24-bit integers or float32).
        Default: as they are.
    progress : bool
        Show a progress bar over the write tasks.

    Returns
    -------
    pathlib.Path
        The store; read it back lazily with :func:`neurodata.io.open` or
        :func:`open_collection`.

    Raises
    ------
    SchemaError
        If ``collection`` is a DataTree or has no ``subject`` dim.
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    if isinstance(collection, xr.DataTree):
        reason = collection.attrs.get("collection_mismatch", "its recordings differ in shape")
        raise SchemaError(
            f"write_collection needs one (subject, ...) Dataset; got a DataTree ({reason}). "
            "Open the collection with join='outer' (NaN padding) or join='inner' (common part)"
        )
    if not isinstance(collection, xr.Dataset) or "subject" not in collection.dims:
        raise SchemaError(
            f"write_collection needs a Dataset with a 'subject' dim; got "
            f"{type(collection).__name__} with dims {tuple(getattr(collection, 'dims', ()))}"
        )
    ds = collection.copy(deep=False)
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        if "subject" not in var.dims or var.dtype.kind not in "biufc":
            continue
        if var.dims[0] != "subject":
            ds[name] = var.transpose("subject", ...)
            var = ds[name]
        if dtype is not None and var.dtype.kind == "f":
            ds[name] = var = var.astype(dtype)
        target = 1 << 20
        whole = {d: -1 for d in var.dims if d != "subject"}
        ds[name] = var = var.chunk({"subject": 1, **whole})
        inner = _inner_chunk(var.variable, time_chunk, target)
        # a shard holds whole inner chunks: the last one may reach past the end of the data
        shard = tuple(
            -(-n // c) * c if d != "subject" else 1 for d, n, c in zip(var.dims, var.shape, inner)
        )
        encoding[str(name)] = {"shards": shard, "chunks": inner}
    return save(
        ds, Path(path), format="zarr", overwrite=overwrite, progress=progress, encoding=encoding
    )
