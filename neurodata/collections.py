"""Many recordings as one lazy labelled collection along ``subject``.

[`open_collection`][] opens a BIDS root, a list of files, or a store written
by [`write_collection`][] as one ``(subject, ...)`` view *without reading the
signals*: every recording is opened through its loader's lazy path (MNE's
``get_data`` chunks for EEG, dask-backed zarr for neurodata stores) and the
per-subject arrays are stacked as dask arrays. Per-subject metadata
(``participants.tsv``, a table you pass, attrs that differ between recordings)
become coordinates along ``subject``.

Recordings rarely have exactly the same shape. ``join`` says what to do:

========  ======================================================================
"auto"    one Dataset if every recording has the same dims, sizes and labels;
          otherwise an `xarray.DataTree` with one node per subject
          (default: nothing is padded or cut unless you ask).
"exact"   one Dataset, or `MismatchError` naming the file that differs.
"inner"   one Dataset cut to what every recording has (shortest duration,
          common channels).
"outer"   one Dataset padded to the union (longest duration, all channels) with
          NaN, never zeros; ``n_time`` along ``subject`` gives the real length.
"tree"    always an `xarray.DataTree`, one node per subject.
========  ======================================================================

Sampling rates are never reconciled: recordings at different rates only go
into a DataTree. Annotations along ``event`` are ragged by nature: they are
always padded at the end (NaN onsets/durations, ``""`` labels) and ``n_event``
gives each subject's count.

[`write_collection`][] writes a collection to one zarr v3 store in which each
variable along ``subject`` is sharded so that one shard holds one subject
(inner chunks along ``time``): written subject by subject through dask, so
memory stays bounded by a few subjects, atomically ([`neurodata.io.save`][]),
and readable lazily by any process or dask worker with [`neurodata.io.open`][]
or [`open_collection`][].
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

from ._config import resolve
from ._progress import progress as _progress
from ._registry import pick
from ._stacking import (
    RAGGED_DIMS,
    CollectionError,
    MismatchError,
    hard_mismatch,
    mismatch,
    share_time,
    stack,
    tree,
)
from .errors import NotFoundError, SchemaError
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

#: Recording files of a BIDS root: ``sub-<label>[_<key>-<value>...]_<datatype>.<ext>``.
_BIDS_NAME = re.compile(r"^(sub-[A-Za-z0-9]+)((?:_[A-Za-z0-9]+-[A-Za-z0-9]+)*)_(eeg|ieeg|meg)\.")
#: Data/marker files that sit beside the header that is the recording.
_COMPANIONS = {".eeg": ".vhdr", ".vmrk": ".vhdr", ".fdt": ".set"}
_SUB = re.compile(r"(sub-[A-Za-z0-9]+)(?=[_.]|$)")


# --------------------------------------------------------------------------------------
# finding recordings and naming subjects
# --------------------------------------------------------------------------------------


def _bids_recordings(root: Path, entities: Mapping[str, str] | None) -> list[Path]:
    found = []
    for path in sorted(root.glob("sub-*/**/*")):
        match = _BIDS_NAME.match(path.name)
        if match is None or path.name.endswith((".json", ".tsv")):
            continue
        header = _COMPANIONS.get(path.suffix.lower())
        if header is not None and path.with_suffix(header).exists():
            continue  # BrainVision .eeg/.vmrk, EEGLAB .fdt: the header file is the recording
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


def _open_one(
    path: Path, format: str | None, options: Mapping[str, Any], cache: dict[tuple, Any]
) -> xr.Dataset:
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
    obj = obj.assign({n: obj[n].load() for n in small if n in obj.data_vars}).assign_coords(
        {n: obj.coords[n].load() for n in small if n in obj.coords}
    )
    return share_time(obj, cache)


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
    progress: bool | None = None,
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
        format [`neurodata.load`][] reads, or a store written by
        [`write_collection`][] (opened lazily as it is).
    format : str, optional
        Force one format for every recording (default: detected per file).
    join : {"auto", "exact", "inner", "outer", "tree"}
        What to do when recordings differ in duration or labels (channels):
        "auto" (default) stacks them when they agree and returns a DataTree
        with one node per subject when they do not; "exact" raises
        `MismatchError`; "inner" cuts to the common part; "outer" pads
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
        over ``participants.tsv`` or a store's coordinates (these win). Missing
        numbers are NaN, missing text ``"n/a"``.
    progress : bool, optional
        Show a progress bar while opening the recordings (after 2 s). None:
        ``neurodata.config`` (on by default).
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
        A recording is missing or cannot be read (from [`neurodata.load`][]).
    """
    if join not in JOINS:
        pick(JOINS, join, "join")
    if isinstance(paths_or_bids_root, str | os.PathLike) and _is_collection_store(
        Path(paths_or_bids_root)
    ):
        ds = _open_store(Path(paths_or_bids_root), subjects)
        if metadata is None:
            return ds
        taken = {str(n) for n in (*ds.dims, *ds.data_vars)}
        subjects_in = [str(s) for s in ds["subject"].values]
        return ds.assign_coords(
            _metadata_coords(subjects_in, [_as_table(metadata, "metadata")], taken)
        )
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
    time_axes: dict[tuple, Any] = {}  # one shared time coordinate per distinct length
    items = [
        (subject, path, _open_one(path, format, options, time_axes))
        for subject, path in _progress(
            chosen, desc="opening recordings", enabled=resolve("progress", progress)
        )
    ]
    taken = {"subject", "n_time", "n_event"} | {str(n) for _, _, ds in items for n in ds.variables}
    meta = _metadata_coords([s for s, _, _ in items], tables, taken)
    if join == "tree":
        return tree(items, meta, None)
    hard = hard_mismatch(items)
    soft = hard or mismatch(items)
    if join == "auto" and soft is not None:
        return tree(items, meta, soft)
    if hard is not None:
        raise MismatchError(f"{hard}; join={join!r} cannot stack them (join='tree' can)")
    if join == "auto":
        join = "exact"
    stacked = stack(items, join)
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
    progress: bool | None = None,
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
        From [`open_collection`][] (or any Dataset with a ``subject`` dim):
        variables ``(subject, ...)``, coordinates along ``subject`` and others.
    path : str or os.PathLike
        Output ``.zarr`` directory.
    overwrite : bool
        Replace an existing store (default False: [`OutputExistsError`][]).
    time_chunk : int, optional
        Samples per inner chunk along ``time`` (default: about 1 Mi values per chunk).
    dtype : str or numpy.dtype, optional
        Store floating-point variables with this dtype (e.g. ``"float32"``: half
        the disk, exact for EEG formats that hold <= 24-bit integers or float32).
        Default: as they are.
    progress : bool, optional
        Show a progress bar over the write tasks (after 2 s). None: ``neurodata.config``.

    Returns
    -------
    pathlib.Path
        The store; read it back lazily with [`neurodata.io.open`][] or
        [`open_collection`][].

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
