"""neurodata's own stores (zarr v3, netCDF) and the format registry behind [`load`][].

- [`save`][] writes a Dataset or DataArray to a zarr v3 directory or a netCDF
  (HDF5) file, atomically (a temporary sibling, then a rename), refusing to
  replace an existing output unless ``overwrite=True``.
- [`open`][] opens such a store lazily (dask-backed) and gives back exactly
  what was saved: values, dtypes (including fixed-width strings and booleans),
  coordinates, NaN, and attrs of any JSON-able type.
- [`load`][] is the one entry point for every format: it dispatches on the
  extension and, where that is ambiguous or missing, on the file's content.
  Readers live in [`neurodata.loaders`][] and are listed by *name* in
  [`FORMATS`][], so nothing is imported before it is needed.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from ._atomic import atomic_output, warnings_name_output
from ._bounds import check_zarr
from ._codec import _decode, _encode
from ._config import resolve
from ._hdf5guard import check_hdf5
from ._inputs import check_regular, check_tree
from ._lazyguard import StoreIdentity, guard
from ._progress import dask_progress
from ._settle import compute_settled
from .errors import FormatError, NeurodataError

__all__ = ["FORMATS", "FormatSpec", "detect_format", "load", "open", "save", "supported_formats"]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class FormatSpec:
    """One file format neurodata can read and/or write.

    Attributes
    ----------
    name : str
        Short name used by ``format=`` and the CLI's ``--to``.
    description : str
        What the format is, for messages and ``neurodata sys-info``.
    extensions : tuple of str
        Lower-case suffixes, longest first where they nest (``.nii.gz``).
    reader, writer : str or None
        ``"module:function"`` of the reader (``path, **options -> xarray``) and
        writer (``obj, path, **options``); imported only when used.
    sniff : str or None
        ``"module:function"`` of a cheap content check (``path -> bool``) used
        when the extension is missing or shared by several formats.
    extra : str or None
        The neurodata extra that provides the reader's dependencies.
    directory : bool
        Whether the format is a directory (zarr) rather than a file.
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    reader: str | None = None
    writer: str | None = None
    sniff: str | None = None
    extra: str | None = None
    directory: bool = False


#: Every format neurodata knows, in sniffing order. Format issues add rows here.
FORMATS: tuple[FormatSpec, ...] = (
    FormatSpec(
        "zarr",
        "neurodata/xarray zarr v3 store",
        (".zarr",),
        reader="neurodata.io:open",
        writer="neurodata.io:_write_zarr",
        sniff="neurodata.io:_sniff_zarr",
        directory=True,
    ),
    FormatSpec(
        "netcdf",
        "netCDF-4/HDF5 file written by xarray",
        (".nc", ".nc4", ".netcdf", ".cdf"),
        reader="neurodata.io:open",
        writer="neurodata.io:_write_netcdf",
        sniff="neurodata.io:_sniff_netcdf",
    ),
    FormatSpec(
        "flavell",
        "Flavell-lab C. elegans whole-brain imaging HDF5 (gcamp/trace_array); labels= NeuroPAL CSV",
        (".h5", ".hdf5"),
        reader="neurodata.loaders.celegans:read_flavell",
        sniff="neurodata.loaders.celegans:sniff_flavell",
    ),
    FormatSpec(
        "connectome-edgelist",
        "C. elegans connectome edge list (pre/post/type/synapses CSV or TSV)",
        (".csv", ".tsv"),
        reader="neurodata.loaders.connectome:read_edgelist",
        sniff="neurodata.loaders.connectome:sniff_edgelist",
    ),
    FormatSpec(
        "celegans-nwb",
        "NWB file with one TimeSeries per C. elegans neuron (acquisition/Activity_NNNN)",
        (".nwb",),
        reader="neurodata.loaders.celegans:read_nwb_timeseries",
        sniff="neurodata.loaders.celegans:sniff_nwb_timeseries",
    ),
    FormatSpec(
        "celegans-homogenized",
        "homogenized C. elegans activity table (worm-graph parquet: worm, neuron, calcium_data)",
        (".parquet",),
        reader="neurodata.loaders.celegans:read_homogenized_stacked",
        sniff="neurodata.loaders.celegans:sniff_homogenized",
        extra="celegans",
    ),
    FormatSpec(
        "nifti",
        "NIfTI-1/2 4D fMRI image (options: mask, atlas, labels, tr, confounds)",
        (".nii.gz", ".nii"),
        reader="neurodata.loaders.fmri:read_nifti",
        sniff="neurodata.loaders.fmri:sniff_nifti",
        extra="fmri",
    ),
    FormatSpec(
        "parcellated-table",
        "region time series table, CSV/TSV/text (explicit format only; options: tr, orientation)",
        (),
        reader="neurodata.loaders.fmri:read_parcellated_table",
    ),
    FormatSpec(
        "textgrid",
        "Praat TextGrid word/phone alignment (long or short text format)",
        (".textgrid",),
        reader="neurodata.loaders.stimuli:read_textgrid",
        sniff="neurodata.loaders.stimuli:sniff_textgrid",
    ),
    FormatSpec(
        "word-timings",
        "word onset/offset table, CSV/TSV or BIDS events.tsv (explicit format only)",
        (),
        reader="neurodata.loaders.stimuli:read_word_timings",
    ),
    # --- EEG / iEEG through MNE (neurodata.loaders.eeg) ---
    FormatSpec(
        "edf",
        "European Data Format (EDF/EDF+) EEG/iEEG recording",
        (".edf",),
        reader="neurodata.loaders.eeg:read_eeg",
        writer="neurodata.loaders.eeg_export:write_edf",
        extra="eeg",
    ),
    FormatSpec(
        "bdf",
        "BioSemi BDF recording",
        (".bdf",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "gdf",
        "General Data Format (GDF) recording",
        (".gdf",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "brainvision",
        "BrainVision recording (.vhdr header + .vmrk markers + .eeg data)",
        (".vhdr", ".ahdr"),
        reader="neurodata.loaders.eeg:read_eeg",
        writer="neurodata.loaders.eeg_export:write_brainvision",
        extra="eeg",
    ),
    FormatSpec(
        "eeglab",
        "EEGLAB dataset (.set, with or without .fdt)",
        (".set",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "fif",
        "MNE/Neuromag FIF raw recording",
        (".fif.gz", ".fif"),
        reader="neurodata.loaders.eeg:read_eeg",
        writer="neurodata.loaders.eeg_export:write_fif",
        extra="eeg",
    ),
    FormatSpec(
        "persyst",
        "Persyst recording (.lay + .dat)",
        (".lay",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "nihon_kohden",
        "Nihon Kohden EEG recording (.EEG + .PNT/.LOG/.21E)",
        (".eeg",),
        reader="neurodata.loaders.eeg:read_eeg",
        sniff="neurodata.loaders.eeg:sniff_nihon_kohden",
        extra="eeg",
    ),
    FormatSpec(
        "cnt",
        "Neuroscan CNT recording",
        (".cnt",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "egi",
        "EGI MFF recording (directory)",
        (".mff",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
        directory=True,
    ),
    FormatSpec(
        "curry",
        "Curry recording (.cdt)",
        (".cdt",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    FormatSpec(
        "eximia",
        "eXimia EEG recording (.nxe)",
        (".nxe",),
        reader="neurodata.loaders.eeg:read_eeg",
        extra="eeg",
    ),
    # --- NWB (neurodata.loaders.nwb) ---
    FormatSpec(
        "nwb",
        "Neurodata Without Borders 2.x (HDF5; writes EEG/iEEG: ElectricalSeries, electrodes, annotations)",
        (".nwb",),
        reader="neurodata.loaders.nwb:read_nwb",
        writer="neurodata.loaders.nwb_write:write_nwb",
        sniff="neurodata.loaders.nwb:sniff_nwb",
        extra="nwb",
    ),
    FormatSpec(
        "suite2p",
        "suite2p plane folder (F.npy, Fneu.npy, spks.npy, iscell.npy; options: sfreq, cells_only)",
        (),
        reader="neurodata.loaders.suite2p:read_suite2p",
        sniff="neurodata.loaders.suite2p:sniff_suite2p",
        directory=True,
    ),
    # --- arrays and pickles, refused unless allow_pickle=True (neurodata.loaders.arrays) ---
    FormatSpec(
        "numpy",
        "NumPy .npy array or .npz archive (object arrays refused unless allow_pickle=True)",
        (".npy", ".npz"),
        reader="neurodata.loaders.arrays:read_npy",
        sniff="neurodata.loaders.arrays:sniff_npy",
    ),
    FormatSpec(
        "rsatoolbox-mat",
        "MATLAB RSA-toolbox RDMs (.mat struct arrays with name and RDM)",
        (".mat",),
        reader="neurodata.loaders.rdms:read_rdms",
        sniff="neurodata.loaders.rdms:sniff_rdm_mat",
    ),
    FormatSpec(
        "pickle",
        "pickled xarray object (refused unless allow_pickle=True: unpickling runs code)",
        (".pkl", ".pickle"),
        reader="neurodata.loaders.arrays:read_pickle",
        sniff="neurodata.loaders.arrays:sniff_pickle",
    ),
)


def supported_formats(*, writable: bool = False) -> list[FormatSpec]:
    """The formats [`load`][] can read (or [`save`][] can write)."""
    return [f for f in FORMATS if (f.writer if writable else f.reader)]


def _resolve(target: str) -> Callable[..., Any]:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def _suffix_matches(path: Path, spec: FormatSpec) -> bool:
    name = path.name.lower()
    return any(name.endswith(ext) for ext in spec.extensions)


def _supported_list(writable: bool = False) -> str:
    return "; ".join(
        f"{f.name} ({', '.join(f.extensions)})" for f in supported_formats(writable=writable)
    )


# --------------------------------------------------------------------------------------
# load: format dispatch
# --------------------------------------------------------------------------------------


def _check_exists(path: Path) -> None:
    check_regular(path)  # missing -> NotFoundError; a FIFO or device -> FormatError
    if path.stat().st_size == 0 and path.is_file():  # said plainly, not as a reader's puzzle
        raise FormatError(f"{path}: the file is empty (0 bytes)")


def _by_name(name: str, *, writable: bool = False) -> FormatSpec:
    choices = {f.name: f for f in supported_formats(writable=writable)}
    if name not in choices:
        raise FormatError(f"`format` must be one of {sorted(choices)}; got {name!r}")
    return choices[name]


def _sniffs(spec: FormatSpec, path: Path) -> bool:
    if spec.sniff is None:
        return False
    try:
        return bool(_resolve(spec.sniff)(path))
    except Exception:  # a content check says no, whatever a broken file makes it raise
        return False


#: Spreadsheet extensions: refused with a way out, not mistaken for another zip format.
_SPREADSHEETS = {".xlsx": "Excel", ".xlsm": "Excel", ".xls": "Excel", ".ods": "OpenDocument"}


def _detect(path: Path) -> FormatSpec:
    by_extension = [f for f in supported_formats() if _suffix_matches(path, f)]
    if len(by_extension) == 1:  # its reader says best what is wrong with a broken file
        return by_extension[0]
    # a positive content check wins; then a format that has no content check at all
    for spec in by_extension or supported_formats():
        if _sniffs(spec, path):
            return spec
    unchecked = [f for f in by_extension if f.sniff is None]
    if unchecked:
        return unchecked[0]
    if by_extension:
        names = [f.name for f in by_extension]
        raise FormatError(
            f"{path}: extension matches formats {names} but the content matches none of them "
            f"(truncated or damaged?); pass `format` (one of {names}) for its reader's diagnosis"
        )
    if path.suffix.lower() in _SPREADSHEETS:
        raise FormatError(
            f"{path}: {_SPREADSHEETS[path.suffix.lower()]} workbooks are not read; export the "
            "sheet as CSV or TSV (e.g. pandas.read_excel(path).to_csv(...)) and load that. The "
            "published C. elegans connectome workbooks load by name: "
            "neurodata.celegans.load_connectome('cook2019', data_dir=<folder>)"
        )
    kind = "directory" if path.is_dir() else f"extension {''.join(path.suffixes) or '(none)'!r}"
    raise FormatError(f"{path}: unknown format ({kind}); supported: {_supported_list()}")


def detect_format(path: PathLike) -> FormatSpec:
    """The format [`load`][] would use for ``path`` (by extension, then content)."""
    path = Path(path)
    _check_exists(path)
    return _detect(path)


def load(path: PathLike, *, format: str | None = None, **options: Any) -> xr.Dataset | xr.DataArray:
    """Read any supported file or store into neurodata's labelled data model.

    Parameters
    ----------
    path : str or os.PathLike
        File or directory (zarr store, BIDS file, ...).
    format : str, optional
        Force a format by name (see `supported_formats`); by default it is
        chosen from the extension and, when needed, the file's content.
    **options
        Passed to the format's reader (e.g. ``labels=`` for a C. elegans worm).

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        Labelled data following neurodata's conventions (see `neurodata.schema`).

    Raises
    ------
    NotFoundError
        If ``path`` does not exist.
    FormatError
        If the format is unknown (the message lists the supported ones), an
        option is not accepted by the reader, or the file is broken.
    DependencyError
        If the reader needs an extra that is not installed.
    """
    path = Path(path)
    _check_exists(path)
    spec = _by_name(format) if format is not None else _detect(path)
    reader = _resolve(spec.reader)  # may raise DependencyError from the loader module
    _check_options(reader, options, spec, path)
    try:
        result = reader(path, **options)
    except NeurodataError:
        raise
    except Exception as exc:  # third-party readers raise anything on broken input
        raise FormatError(
            f"{path}: could not read as {spec.description}: {type(exc).__name__}: "
            + (" ".join(str(exc).split()) or "no message")
        ) from exc
    empty = isinstance(result, xr.Dataset) and not result.data_vars and not result.sizes
    if empty and spec.reader != "neurodata.io:open":
        raise FormatError(  # never an empty answer for a file that holds something
            f"{path}: the {spec.name} reader found nothing to read (no data variables); "
            "the file may hold a kind of data neurodata does not read yet"
        )
    return guard(result, path)  # errors of lazy reads, at compute time, name the file


def _check_options(
    reader: Callable, options: Mapping[str, Any], spec: FormatSpec, path: Path
) -> None:
    params = inspect.signature(reader).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = sorted(k for k, p in params.items() if p.kind is p.KEYWORD_ONLY or k != "path")
    accepted = [k for k in accepted if k not in ("path", "obj")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise FormatError(
            f"{path}: the {spec.name} reader does not take option(s) {unknown}; it takes {accepted}"
        )


# --------------------------------------------------------------------------------------
# open / save of neurodata's own stores
# --------------------------------------------------------------------------------------


def _sniff_zarr(path: Path) -> bool:
    return path.is_dir() and ((path / "zarr.json").is_file() or (path / ".zgroup").is_file())


def _sniff_netcdf(path: Path) -> bool:
    if not path.is_file():
        return False
    with builtins.open(path, "rb") as fh:
        head = fh.read(8)
    return head.startswith(b"\x89HDF\r\n\x1a\n") or head[:3] == b"CDF"


def open(path: PathLike, *, chunks: Any = "store") -> xr.Dataset | xr.DataArray:
    """Open a zarr v3 store or netCDF file written by [`save`][], lazily.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.zarr`` directory or a netCDF file.
    chunks : "store", dict, or None
        ``"store"`` (default): dask chunks follow the store's own chunks; a dict
        maps dims to chunk sizes; ``None`` reads everything into memory.

    Returns
    -------
    xarray.Dataset or xarray.DataArray
        What was saved (a DataArray if a DataArray was saved), dask-backed.
    """
    path = Path(path)
    _check_exists(path)
    dask_chunks = {} if chunks == "store" else chunks
    if path.is_dir():
        if not _sniff_zarr(path):
            raise FormatError(
                f"{path}: directory is not a zarr store (no zarr.json); "
                f"neurodata reads: {_supported_list()}"
            )
        check_tree(path)  # a FIFO chunk would block the reader forever
        stored = check_zarr(path)  # metadata, array and chunk sizes against what is stored
        opener = {"engine": "zarr", "consolidated": False}
    elif _sniff_netcdf(path):
        stored = path.stat().st_size
        opener = {"engine": "h5netcdf"} if _is_hdf5(path) else {"engine": "scipy"}
        if _is_hdf5(path):
            check_hdf5(path)  # external storage, links out of the folder, declared sizes
    else:
        raise FormatError(f"{path}: not a netCDF/HDF5 file (unrecognised header bytes)")
    identity = StoreIdentity(path)
    try:
        opened = _decode(xr.open_dataset(path, chunks=dask_chunks, **opener), str(path), stored)
        return guard(opened, path, check=identity)  # replaced store: an error, not a mix
    except NeurodataError:
        raise
    except (Exception, RecursionError) as exc:  # attrs too: JSON, dtypes, nesting
        raise FormatError(f"{path}: could not open store: {type(exc).__name__}: {exc}") from exc


def _is_hdf5(path: Path) -> bool:
    with builtins.open(path, "rb") as fh:
        return fh.read(8) == b"\x89HDF\r\n\x1a\n"


def _write_zarr(obj: xr.Dataset | xr.DataArray, path: Path, **options: Any) -> Any:
    ds = _encode(obj)
    return ds.to_zarr(path, mode="w-", zarr_format=3, consolidated=False, compute=False, **options)


def _write_netcdf(obj: xr.Dataset | xr.DataArray, path: Path, **options: Any) -> Any:
    ds = _encode(obj)
    invalid = any(v.dtype.kind == "c" for v in ds.variables.values())
    return ds.to_netcdf(path, engine="h5netcdf", compute=False, invalid_netcdf=invalid, **options)


def save(
    obj: xr.Dataset | xr.DataArray,
    path: PathLike,
    *,
    format: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> Path:
    """Write ``obj`` to ``path`` atomically.

    The data are written to a temporary sibling of ``path`` and renamed into
    place only once complete, so an interrupted or failed write leaves nothing
    behind (and leaves an existing output intact); a lock file beside ``path``
    stops a second process writing the same output (see
    `neurodata._atomic.atomic_output` and ``docs/guarantees.md``).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Labelled data with any dims; dask-backed data are written chunk by chunk.
    path : str or os.PathLike
        Output path; its extension chooses the format unless ``format`` is given
        (``.zarr`` -> zarr v3 directory, ``.nc`` -> netCDF-4).
    format : str, optional
        A writable format name (see `supported_formats`).
    overwrite : bool
        Replace an existing output. Default False: raise [`OutputExistsError`][].
    progress : bool, optional
        Show a progress bar while computing/writing dask-backed data (after 2 s).
        None: ``neurodata.config`` (on by default).
    **options
        Passed to the format's writer.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    ConcurrentWriteError
        If another process is writing ``path`` right now.
    """
    path = Path(path)
    if format is not None:
        spec = _by_name(format, writable=True)
    else:
        matches = [f for f in supported_formats(writable=True) if _suffix_matches(path, f)]
        if not matches:
            raise FormatError(
                f"{path}: cannot tell the output format from extension "
                f"{''.join(path.suffixes) or '(none)'!r}; writable: {_supported_list(True)}"
            )
        spec = matches[0]
    with atomic_output(path, overwrite=overwrite) as tmp, warnings_name_output(tmp, path):
        pending = _resolve(spec.writer)(obj, tmp, **options)
        if pending is not None and hasattr(pending, "compute"):
            with dask_progress(resolve("progress", progress), f"writing {path.name}"):
                compute_settled(pending)
    return path
