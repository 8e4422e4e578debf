"""fMRI: 4D NIfTI images through a mask or a labels atlas, and parcellated time-series tables.

- [`read_nifti`][] reads a 4D NIfTI image into ``bold(time, voxel)`` (through a
  brain mask, given or computed) or ``bold(time, parcel)`` (through a labels
  atlas image and a table of region names matched by *value*). The repetition
  time comes from the header, is sanity-checked (the known bug of a TR stored
  in milliseconds with a "sec" unit is detected and corrected, with a warning)
  and can be overridden. Large images stay lazy (dask, one chunk per block of
  volumes).
- [`read_parcellated_table`][] reads region time series already extracted by
  another tool (CSV/TSV/whitespace text, regions-by-time or time-by-regions).

Both attach confound/regressor tables (one column per variable along ``time``).
nibabel and nilearn (``pip install 'neurodata[fmri]'``) are imported lazily.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._bounds import check_declared
from ..errors import FormatError, SchemaError
from ..schema import append_history, validate, with_provenance
from ._regions import (
    MASK_STRATEGIES,
    REDUCTIONS,
    _atlas_index,
    _load_image,
    _mask_array,
    _name,
    _pick,
    read_labels_table,
)
from ._tables import read_table

__all__ = [
    "MASK_STRATEGIES",
    "REDUCTIONS",
    "attach_confounds",
    "read_labels_table",
    "read_nifti",
    "read_parcellated_table",
    "repetition_time",
    "sniff_nifti",
]

PathLike = str | os.PathLike

#: Plausible repetition times in seconds; outside this range a header TR is suspect.
TR_RANGE = (0.05, 30.0)

#: Bytes of voxels (as float64) read at once by eager reads of uncompressed images.
EAGER_BLOCK_BYTES = 64 * 2**20

_TIME_UNIT_SCALE = {"sec": 1.0, "msec": 1e-3, "usec": 1e-6}

_BOLD_ATTRS = {"long_name": "BOLD signal (scanner intensity, dimensionless)"}


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def _shortest(value: Any) -> float:
    """A float32 header field as the decimal it was written as (1.35, not 1.3500000238)."""
    value = np.float32(value)
    return (
        float(np.format_float_positional(value, unique=True))
        if np.isfinite(value)
        else float(value)
    )


def sniff_nifti(path: Path) -> bool:
    """Whether ``path`` starts like a NIfTI-1/2 file (also gzipped, whatever its name)."""
    import gzip

    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as fh:
        head = fh.read(544)
    return head[344:348] in (b"n+1\x00", b"ni1\x00") or head[4:8] == b"n+2\x00"


# --------------------------------------------------------------------------------------
# repetition time
# --------------------------------------------------------------------------------------


def repetition_time(header: Any, *, tr: float | None = None, where: str = "image") -> float:
    """The repetition time in seconds, from ``tr`` or from a NIfTI header, sanity-checked.

    Parameters
    ----------
    header : nibabel header
        A NIfTI-1/2 header (``pixdim[4]`` and the time units of ``xyzt_units``).
    tr : float, optional
        Use this TR (seconds) instead of the header's; a disagreement is warned about.
    where : str
        Name of the image in messages.

    Returns
    -------
    float
        TR in seconds.

    Raises
    ------
    FormatError
        If the header holds no usable TR (0, negative, NaN or implausible) and
        ``tr`` is not given.

    Notes
    -----
    Some converters write the TR in milliseconds while keeping the time unit
    "sec" (``pixdim[4] = 2000`` for a TR of 2 s). A "sec" TR that is
    implausible (> 30 s) but plausible once divided by 1000 is corrected, with
    a warning saying so.
    """
    zooms = header.get_zooms()
    raw = _shortest(zooms[3]) if len(zooms) > 3 else float("nan")
    unit = header.get_xyzt_units()[1]
    scale = _TIME_UNIT_SCALE.get(unit, 1.0)  # "unknown": assume seconds, as nibabel does
    from_header = raw * scale
    low, high = TR_RANGE
    if tr is not None:
        tr = float(tr)
        if not (np.isfinite(tr) and tr > 0):
            raise SchemaError(f"`tr` must be a positive number of seconds; got {tr!r}")
        if np.isfinite(from_header) and from_header > 0 and not np.isclose(from_header, tr):
            warnings.warn(
                f"{where}: header TR is {raw:g} {unit!r} ({from_header:g} s); using tr={tr:g} s",
                stacklevel=3,
            )
        return tr
    if not (np.isfinite(from_header) and from_header > 0):
        raise FormatError(
            f"{where}: header holds no repetition time (pixdim[4] = {raw:g}); pass `tr` (seconds)"
        )
    if low <= from_header <= high:
        return from_header
    if unit in ("sec", "unknown") and low <= from_header / 1000 <= high:
        corrected = from_header / 1000
        warnings.warn(
            f"{where}: header TR is {raw:g} with unit {unit!r}, which is implausible; "
            f"it is a TR in milliseconds stored with a 'sec' unit (a known header bug): "
            f"using {corrected:g} s (pass `tr` to override)",
            stacklevel=3,
        )
        return corrected
    raise FormatError(
        f"{where}: header TR {raw:g} {unit!r} ({from_header:g} s) is outside the plausible "
        f"range {low:g}-{high:g} s; pass `tr` (seconds)"
    )


# --------------------------------------------------------------------------------------
# 4D NIfTI
# --------------------------------------------------------------------------------------


def _value_dtype(img) -> np.dtype:
    """Dtype of the values as nilearn's maskers return them (float32 for integer images)."""
    dtype = np.asanyarray(img.dataobj[..., :1]).dtype  # scaled dtype, reading one volume
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def _chunk_volumes(img, chunks: int | str | None) -> int | None:
    if chunks is None:
        return None
    n_times = img.shape[3]
    if chunks == "auto":
        per_volume = int(np.prod(img.shape[:3])) * 8
        return int(max(1, min(n_times, (128 * 2**20) // per_volume)))
    if isinstance(chunks, int | np.integer) and chunks > 0:
        return int(chunks)
    raise SchemaError(
        f"`chunks` must be 'auto', a positive number of volumes or None; got {chunks!r}"
    )


def _time_by_voxel(block: np.ndarray) -> np.ndarray:
    """(x, y, z, t) -> (t, x*y*z) in Fortran voxel order: a view of NIfTI's on-disk layout."""
    return block.reshape(-1, block.shape[-1], order="F").T


def _series(img, select: Callable[[np.ndarray], np.ndarray], n_out: int, dtype, step: int | None):
    """(time, n_out) values: ``select`` maps a (x, y, z, t) block to (t, n_out).

    Eager reads of uncompressed files go block by block (memory-mapped), so that
    the full 4D array is never in memory at once; gzipped files are read whole
    (each block would decompress the file from its start again).
    """
    n_times = img.shape[3]

    def block(start: int, stop: int) -> np.ndarray:
        return select(np.asanyarray(img.dataobj[..., start:stop])).astype(dtype, copy=False)

    if step is None:
        if str(img.get_filename() or "").lower().endswith(".gz"):
            return block(0, n_times)
        out = np.empty((n_times, n_out), dtype=dtype)
        volume = int(np.prod(img.shape[:3])) * 8
        size = max(1, EAGER_BLOCK_BYTES // volume)
        for start in range(0, n_times, size):
            out[start : start + size] = block(start, min(start + size, n_times))
        return out
    import dask
    import dask.array as da

    parts = [
        da.from_delayed(
            dask.delayed(block)(start, min(start + step, n_times)),
            shape=(min(start + step, n_times) - start, n_out),
            dtype=dtype,
        )
        for start in range(0, n_times, step)
    ]
    return da.concatenate(parts, axis=0)


def _check_data_size(img, path: Path) -> None:
    """An uncompressed image must hold the bytes its header declares (checked before reading)."""
    if not path.is_file():
        return
    offset = int(getattr(img.dataobj, "offset", 0))
    need = int(np.prod(img.shape, dtype=object)) * np.dtype(img.get_data_dtype()).itemsize
    if str(path).lower().endswith(".gz"):  # inflated size against the compressed file
        check_declared(path.name, f"its {img.shape} {img.get_data_dtype()} image once inflated",
                       need, path.stat().st_size)  # fmt: skip
        return
    have = path.stat().st_size - offset
    if need > have:
        raise FormatError(
            f"{path.name}: header declares {img.shape} {img.get_data_dtype()} values "
            f"({need} bytes from byte {offset}); the file holds {have} (truncated or corrupt)"
        )


def read_nifti(
    path: PathLike,
    *,
    mask: Any = None,
    atlas: Any = None,
    labels: Any = None,
    tr: float | None = None,
    strategy: str = "mean",
    background: int = 0,
    confounds: Any = None,
    chunks: int | str | None = "auto",
) -> xr.Dataset:
    """Read a 4D NIfTI image as ``bold(time, voxel)`` or, through an atlas, ``bold(time, parcel)``.

    Parameters
    ----------
    path : str or os.PathLike
        A 4D ``.nii`` / ``.nii.gz`` image (x, y, z, time).
    mask : str, os.PathLike, nibabel image, ndarray or None
        Brain mask with the image's shape and affine (a binary image or a boolean
        array), or the name of a strategy in `MASK_STRATEGIES` to compute
        one with nilearn (``"background"``, ``"epi"``, ``"all"``). Default:
        ``"background"`` without an atlas (as nilearn's ``NiftiMasker``); no
        mask with an atlas (as ``NiftiLabelsMasker``).
    atlas : str, os.PathLike, nibabel image, optional
        A labels image (one integer per region, ``background`` elsewhere) with
        the image's shape and affine; gives ``bold(time, parcel)``.
    labels : path, DataFrame, mapping or list, optional
        Names of the atlas regions, matched by *value* (see
        [`read_labels_table`][]); row order does not matter. Every region of
        the atlas must be named; named regions with no voxel are left out with a
        warning. Without it, parcels are named by their values.
    tr : float, optional
        Repetition time in seconds; overrides the header's (see [`repetition_time`][]).
    strategy : str
        How voxels are reduced within a parcel: one of `REDUCTIONS`.
    background : int
        Atlas value of "no region".
    confounds : path or DataFrame, optional
        A table with one row per volume (e.g. fMRIPrep ``*_desc-confounds_timeseries.tsv``);
        each column becomes a variable along ``time`` ("n/a" -> NaN).
    chunks : "auto", int or None
        Volumes per dask chunk ("auto": about 128 MiB of voxels per chunk);
        ``None`` reads everything now.

    Returns
    -------
    xarray.Dataset
        ``bold`` with dims ``(time, voxel)`` (coords ``i``, ``j``, ``k``; the
        4x4 ``affine`` in attrs) or ``(time, parcel)`` (coords ``parcel`` = names,
        ``label_value``). ``time`` in seconds from the first volume; ``sfreq``
        and ``repetition_time`` in attrs.
    """
    path = Path(path)
    where = path.name
    img = _load_image(path, "image")
    if len(img.shape) != 4:
        raise FormatError(
            f"{where}: image has {len(img.shape)} dimensions {img.shape}; expected a 4D "
            "series (x, y, z, time)"
        )
    _check_data_size(img, path)
    tr = repetition_time(img.header, tr=tr, where=where)
    step = _chunk_volumes(img, chunks)
    dtype = _value_dtype(img)
    history = []
    if atlas is None:
        if labels is not None:
            raise SchemaError("`labels` names atlas regions; pass `atlas` too")
        mask_arr = _mask_array("background" if mask is None else mask, img, where)
        i, j, k = np.nonzero(mask_arr)  # C order of (i, j, k), as nilearn
        flat = np.ravel_multi_index((i, j, k), img.shape[:3], order="F")

        def select(block: np.ndarray) -> np.ndarray:
            return _time_by_voxel(block)[:, flat]

        values = _series(img, select, flat.size, dtype, step)
        bold = xr.DataArray(
            values,
            dims=("time", "voxel"),
            coords={"i": ("voxel", i), "j": ("voxel", j), "k": ("voxel", k)},
            attrs={**_BOLD_ATTRS, "affine": np.asarray(img.affine, dtype=float)},
        )
        history.append(f"masked to {flat.size} voxels (mask: {_describe_mask(mask)})")
    else:
        reduce = _pick(REDUCTIONS, strategy, "strategy")
        mask_arr = None if mask is None else _mask_array(mask, img, where)
        voxel_labels, index, names = _atlas_index(atlas, labels, img, mask_arr, background, where)
        flat_labels = voxel_labels.ravel(order="F")
        inside = np.flatnonzero(np.isin(flat_labels, index))
        inside = inside[np.argsort(flat_labels[inside], kind="stable")]  # grouped by parcel
        labels_in = flat_labels[inside]
        out_dtype = np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)

        def select(block: np.ndarray) -> np.ndarray:
            return reduce(_time_by_voxel(block)[:, inside], labels_in, index)

        values = _series(img, select, index.size, out_dtype, step)
        bold = xr.DataArray(
            values,
            dims=("time", "parcel"),
            coords={"parcel": names, "label_value": ("parcel", index)},
            attrs={**_BOLD_ATTRS, "affine": np.asarray(img.affine, dtype=float)},
        )
        history.append(f"{strategy} over {index.size} parcels of atlas {_name(atlas)}")
    ds = _timeseries_dataset(bold, tr, where)
    ds.attrs["affine"] = bold.attrs["affine"]
    ds.attrs["voxel_size"] = [_shortest(z) for z in img.header.get_zooms()[:3]]
    ds.attrs["voxel_size_units"] = "mm"
    if confounds is not None:
        ds = attach_confounds(ds, confounds, where=where)
    ds = with_provenance(ds, source=path, source_format="nifti")
    for line in history:
        ds = append_history(ds, line)
    return validate(ds, "timeseries", name=where)


def _describe_mask(mask: Any) -> str:
    if mask is None:
        return "computed, 'background'"
    if isinstance(mask, str) and mask in MASK_STRATEGIES:
        return f"computed, {mask!r}"
    return _name(mask)


def _timeseries_dataset(bold: xr.DataArray, tr: float, where: str) -> xr.Dataset:
    n_times = bold.sizes["time"]
    time = xr.Variable("time", np.arange(n_times) * tr, attrs={"units": "s"})
    bold = bold.assign_coords(time=time)
    bold.attrs["sfreq"] = 1.0 / tr
    return xr.Dataset({"bold": bold}, attrs={"sfreq": 1.0 / tr, "repetition_time": tr})


# --------------------------------------------------------------------------------------
# confounds
# --------------------------------------------------------------------------------------


def _read_table(obj: Any, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    path = Path(obj)
    if not path.is_file():
        raise FormatError(f"{path}: {what} file does not exist")
    try:
        return read_table(path, na_values=["n/a", "NA", "nan", "NaN", ""])
    except Exception as exc:
        raise FormatError(f"{path}: cannot read {what} table: {exc}") from exc


def attach_confounds(ds: xr.Dataset, confounds: Any, *, where: str = "dataset") -> xr.Dataset:
    """Add each column of a confound table as a variable along ``time``.

    Parameters
    ----------
    ds : xarray.Dataset
        Has a ``time`` dim.
    confounds : path or pandas.DataFrame
        One row per time point, named numeric columns ("n/a" read as NaN).

    Returns
    -------
    xarray.Dataset
        A copy with one float variable per column (attrs ``role="confound"``).
    """
    frame = _read_table(confounds, "confounds")
    name = _name(confounds)
    if len(frame) != ds.sizes["time"]:
        raise FormatError(
            f"{where}: confounds {name} has {len(frame)} rows; expected one per volume "
            f"({ds.sizes['time']})"
        )
    out = ds.copy()
    for col in frame.columns:
        key = str(col).strip()
        if key in out.variables:
            raise FormatError(f"{where}: confound column {key!r} clashes with an existing variable")
        try:
            values = pd.to_numeric(frame[col]).to_numpy(dtype=float)
        except ValueError:
            raise FormatError(
                f"{where}: confound column {key!r} of {name} is not numeric"
            ) from None
        attrs = {
            "role": "confound",
            "source": name,
            "long_name": f"confound {key!r} of {name} (unit as the table gives it)",
        }
        out[key] = xr.Variable("time", values, attrs=attrs)
    return out


# --------------------------------------------------------------------------------------
# parcellated tables
# --------------------------------------------------------------------------------------

_ORIENTATIONS = ("auto", "time-by-region", "region-by-time")


def _is_number(text: Any) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def read_parcellated_table(
    path: PathLike,
    *,
    tr: float | None = None,
    orientation: str = "auto",
    names: list[str] | None = None,
    confounds: Any = None,
) -> xr.Dataset:
    """Read region time series from a CSV/TSV/whitespace table into ``bold(time, parcel)``.

    Parameters
    ----------
    path : str or os.PathLike
        The table. Region names come from a header row (time-by-region) or a
        first column (region-by-time), or from ``names``.
    tr : float
        Repetition time in seconds (tables carry none): required.
    orientation : {"auto", "time-by-region", "region-by-time"}
        "auto" decides from where the names are: a header row of names means
        columns are regions; a first column of names means rows are regions. A
        table without names needs an explicit orientation.
    names : list of str, optional
        Region names for a table without them (or replacing them).
    confounds : path or DataFrame, optional
        Table with one row per time point; see [`attach_confounds`][].

    Returns
    -------
    xarray.Dataset
        ``bold(time, parcel)`` float64, ``parcel`` = names; ``time`` in seconds.
    """
    path = Path(path)
    where = path.name
    if orientation not in _ORIENTATIONS:
        raise SchemaError(
            f"`orientation` must be one of {list(_ORIENTATIONS)}; got {orientation!r}"
        )
    if tr is None:
        raise FormatError(f"{where}: a parcellated table holds no repetition time; pass `tr` (s)")
    if not (np.isfinite(tr) and tr > 0):
        raise SchemaError(f"`tr` must be a positive number of seconds; got {tr!r}")
    try:
        raw = read_table(path, header=None, dtype=str)
    except Exception as exc:
        raise FormatError(f"{path}: cannot read as a table: {exc}") from exc
    raw = raw.apply(lambda col: col.str.strip()).dropna(axis=1, how="all")
    first_row = raw.iloc[0, 1:] if raw.shape[1] > 1 else raw.iloc[0]
    header_names = not all(_is_number(v) for v in first_row)
    column_names = not all(_is_number(v) for v in raw.iloc[1:, 0])
    if orientation == "auto":
        if header_names and not column_names:
            orientation = "time-by-region"
        elif column_names and not header_names:
            orientation = "region-by-time"
        else:
            raise FormatError(
                f"{where}: cannot tell whether rows or columns are regions "
                f"({'names in both the first row and column' if header_names else 'no names'}); "
                "pass orientation='time-by-region' or 'region-by-time'"
            )
    found: list[str] | None = None
    if orientation == "time-by-region":
        if header_names:
            found, raw = raw.iloc[0].tolist(), raw.iloc[1:]
        matrix = raw
    else:
        if column_names:
            found, raw = raw.iloc[:, 0].tolist(), raw.iloc[:, 1:]
        matrix = raw.T
    try:
        values = matrix.to_numpy(dtype=float)
    except ValueError as exc:
        raise FormatError(f"{where}: table holds non-numeric values: {exc}") from None
    n_regions = values.shape[1]
    names = names if names is not None else found
    if names is None:
        names = [str(i) for i in range(n_regions)]
    if len(names) != n_regions:
        raise FormatError(f"{where}: {len(names)} region names for {n_regions} regions")
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise FormatError(
            f"{where}: region names repeat: {sorted({n for n in names if names.count(n) > 1})}"
        )
    bold = xr.DataArray(
        values, dims=("time", "parcel"), coords={"parcel": names}, attrs=dict(_BOLD_ATTRS)
    )
    ds = _timeseries_dataset(bold, float(tr), where)
    if confounds is not None:
        ds = attach_confounds(ds, confounds, where=where)
    ds = with_provenance(ds, source=path, source_format="parcellated-table")
    return validate(ds, "timeseries", name=where)
