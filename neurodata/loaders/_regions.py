"""Voxel selections of NIfTI images: brain masks and labels atlases (with their name tables).

Private helpers of [`neurodata.loaders.fmri`][]; nibabel/nilearn are imported lazily.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._compat import require
from .._registry import pick as _pick
from ..errors import FormatError
from ._tables import read_table

__all__ = ["MASK_STRATEGIES", "REDUCTIONS", "read_labels_table"]


def _nib():
    return require("nibabel", "fmri", purpose="reading NIfTI")


def _name(obj: Any) -> str:
    if isinstance(obj, str | os.PathLike):
        return Path(obj).name
    return type(obj).__name__


def _load_image(obj: Any, what: str):
    """A nibabel image from a path or an image (3D/4D), with a FormatError on failure."""
    nib = _nib()
    if isinstance(obj, str | os.PathLike):
        path = Path(obj)
        if not path.exists():
            raise FormatError(f"{path}: {what} file does not exist")
        try:
            return nib.load(path)
        except Exception as exc:
            raise FormatError(f"{path}: cannot read {what} as NIfTI: {exc}") from exc
    if hasattr(obj, "affine") and hasattr(obj, "dataobj"):
        return obj
    raise TypeError(f"`{what}` must be a path or a nibabel image; got {type(obj).__name__}")


# --------------------------------------------------------------------------------------
# masks
# --------------------------------------------------------------------------------------


def _masking():
    return require("nilearn.masking", "fmri", purpose="computing a brain mask")


def _mask_background(img):
    return _masking().compute_background_mask(img)


def _mask_epi(img):
    return _masking().compute_epi_mask(img)


def _mask_all(img):
    nib = _nib()
    return nib.Nifti1Image(np.ones(img.shape[:3], dtype=np.int8), img.affine)


#: How a brain mask is computed when none is given (nilearn's functions).
MASK_STRATEGIES: Mapping[str, Callable[[Any], Any]] = {
    "background": _mask_background,
    "epi": _mask_epi,
    "all": _mask_all,
}


def _spatial_match(img, other, what: str, where: str) -> None:
    if other.shape[:3] != img.shape[:3] or (len(other.shape) > 3 and other.shape[3] != 1):
        raise FormatError(
            f"{where}: {what} has shape {other.shape}; expected the image's spatial shape "
            f"{img.shape[:3]} (resample it first, e.g. nilearn.image.resample_to_img "
            "with interpolation='nearest')"
        )
    if not np.allclose(other.affine, img.affine, atol=1e-4):
        raise FormatError(
            f"{where}: {what} affine differs from the image's "
            f"(max difference {np.max(np.abs(other.affine - img.affine)):.3g}); "
            "resample it first (nilearn.image.resample_to_img, interpolation='nearest')"
        )


def _spatial_data(img) -> np.ndarray:
    data = np.asanyarray(img.dataobj)
    return data.reshape(data.shape[:3])


def _mask_array(mask: Any, img, where: str) -> np.ndarray:
    if isinstance(mask, str) and mask in MASK_STRATEGIES:
        mask_img = MASK_STRATEGIES[mask](img)
    elif isinstance(mask, str) and not Path(mask).suffix:
        _pick(MASK_STRATEGIES, mask, "mask")  # raises the listing error
    elif isinstance(mask, np.ndarray):
        if mask.shape != img.shape[:3]:
            raise FormatError(
                f"{where}: mask array has shape {mask.shape}; expected {img.shape[:3]}"
            )
        return mask.astype(bool)
    else:
        mask_img = _load_image(mask, "mask")
        _spatial_match(img, mask_img, f"mask {_name(mask)}", where)
    values = _spatial_data(mask_img)
    if not np.isin(np.unique(values), (0, 1)).all() and values.dtype.kind != "b":
        raise FormatError(
            f"{where}: mask {_name(mask)} holds values {np.unique(values)[:5].tolist()}...; "
            "expected a binary image (0/1)"
        )
    out = values.astype(bool)
    if not out.any():
        raise FormatError(f"{where}: mask {_name(mask)} selects no voxel")
    return out


# --------------------------------------------------------------------------------------
# labels atlas
# --------------------------------------------------------------------------------------

_VALUE_COLUMNS = ("index", "value", "label_value", "id", "idx", "label_id", "roi", "number")
_NAME_COLUMNS = ("name", "label_name", "region", "roi_name", "label", "region_name", "names")


def read_labels_table(labels: Any, *, where: str = "labels") -> dict[int, str]:
    """Map atlas values to region names, from a table file, DataFrame, mapping or list.

    Parameters
    ----------
    labels : str, os.PathLike, pandas.DataFrame, mapping or sequence of str
        - a CSV/TSV/text table with a value column (``index``, ``value``, ``id``, ...)
          and a name column (``name``, ``label``, ``region``, ...), in any row order;
          a headerless two-column table is read as (value, name);
        - a mapping ``{value: name}``;
        - a sequence of names, ``names[v]`` naming value ``v`` (nilearn's convention,
          ``names[0]`` being the background).

    Returns
    -------
    dict of int to str
    """
    if isinstance(labels, Mapping):
        return {int(k): str(v) for k, v in labels.items()}
    if isinstance(labels, list | tuple):
        return {i: str(n) for i, n in enumerate(labels)}
    if isinstance(labels, str | os.PathLike):
        path = Path(labels)
        where = path.name
        if not path.is_file():
            raise FormatError(f"{path}: labels table does not exist")
        frame = read_table(path, dtype=str, header=None, comment="#")
        first = frame.iloc[0].str.strip().str.lower().tolist()
        if any(c in _VALUE_COLUMNS + _NAME_COLUMNS for c in first):
            frame = frame.iloc[1:].set_axis(first, axis=1)
        elif frame.shape[1] >= 2 and str(frame.iloc[0, 0]).strip().lstrip("-").isdigit():
            # headerless (value, name, ...), e.g. a FreeSurfer colour LUT
            frame = frame.iloc[:, :2].set_axis(["index", "name"], axis=1)
        else:
            frame = frame.iloc[1:].set_axis(first, axis=1)
        labels = frame
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(
            f"`labels` must be a path, DataFrame, mapping or list of names; "
            f"got {type(labels).__name__}"
        )
    columns = {str(c).strip().lower(): c for c in labels.columns}
    value_col = next((columns[c] for c in _VALUE_COLUMNS if c in columns), None)
    name_col = next(
        (columns[c] for c in _NAME_COLUMNS if c in columns and columns[c] != value_col), None
    )
    if value_col is None or name_col is None:
        raise FormatError(
            f"{where}: labels table needs a value column (one of {list(_VALUE_COLUMNS)}) and a "
            f"name column (one of {list(_NAME_COLUMNS)}); got columns {list(labels.columns)}"
        )
    try:
        values = pd.to_numeric(labels[value_col]).to_numpy()
    except ValueError as exc:
        raise FormatError(f"{where}: column {value_col!r} is not numeric: {exc}") from None
    if np.any(values != np.round(values)):
        raise FormatError(f"{where}: column {value_col!r} holds non-integer label values")
    out = {int(v): str(n).strip() for v, n in zip(values, labels[name_col])}
    if len(out) != len(values):
        dup = pd.Series(values)[pd.Series(values).duplicated()].unique()[:5].tolist()
        raise FormatError(f"{where}: labels table repeats value(s) {dup}")
    return out


def _atlas_index(
    atlas: Any, labels: Any, img, mask: np.ndarray | None, background: int, where: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(label of each voxel, label values present, names) after masking."""
    atlas_img = _load_image(atlas, "atlas")
    _spatial_match(img, atlas_img, f"atlas {_name(atlas)}", where)
    data = _spatial_data(atlas_img)
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise FormatError(
                f"{where}: atlas {_name(atlas)} holds non-integer values; expected a labels "
                "image (one integer per region)"
            )
    voxel_labels = np.round(data).astype(np.int64)
    if mask is not None:
        voxel_labels = np.where(mask, voxel_labels, background)
    present = np.unique(voxel_labels)
    present = present[present != background]
    if present.size == 0:
        raise FormatError(f"{where}: atlas {_name(atlas)} has no region inside the mask")
    if labels is None:
        return voxel_labels, present, [str(v) for v in present]
    table = read_labels_table(labels, where=_name(labels))
    table.pop(background, None)
    unnamed = sorted(set(present.tolist()) - set(table))
    if unnamed:
        raise FormatError(
            f"{where}: atlas {_name(atlas)} has region value(s) {unnamed[:10]} that the labels "
            f"table {_name(labels)} does not name; expected a name for every value"
        )
    absent = sorted(set(table) - set(present.tolist()))
    if absent:
        warnings.warn(
            f"{where}: labels table {_name(labels)} names {len(absent)} region(s) with no voxel "
            f"in the atlas{' inside the mask' if mask is not None else ''} "
            f"(e.g. {[table[v] for v in absent[:5]]}); they are left out",
            stacklevel=3,
        )
    names = [table[int(v)] for v in present]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[:5]
        raise FormatError(f"{where}: labels table gives the same name to several values: {dup}")
    return voxel_labels, present, names


def _reduce_sums(data: np.ndarray, labels: np.ndarray, index: np.ndarray, *, mean: bool):
    """Sums (means) per parcel of ``data`` (time, voxel) whose columns are sorted by label."""
    starts = np.searchsorted(labels, index)
    out = np.add.reduceat(data, starts, axis=1, dtype=np.float64)  # (time, parcel)
    if mean:
        out /= np.diff(np.append(starts, labels.size))
    return out


def _reduce_ndimage(name: str):
    def reduce(data: np.ndarray, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
        from scipy import ndimage

        func = getattr(ndimage, name)
        return np.stack([func(vol, labels=labels, index=index) for vol in data]).astype(float)

    return reduce


#: Reductions of the voxels of each parcel, as nilearn/scipy.ndimage define them:
#: ``f(data (time, voxel) with voxels sorted by label, labels (voxel,), index (parcel,)) -> (time, parcel)``.
REDUCTIONS: Mapping[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "mean": lambda d, lab, idx: _reduce_sums(d, lab, idx, mean=True),
    "sum": lambda d, lab, idx: _reduce_sums(d, lab, idx, mean=False),
    "median": _reduce_ndimage("median"),
    "minimum": _reduce_ndimage("minimum"),
    "maximum": _reduce_ndimage("maximum"),
    "standard_deviation": _reduce_ndimage("standard_deviation"),
    "variance": _reduce_ndimage("variance"),
}
