"""suite2p output folders (``plane0/``: F.npy, Fneu.npy, spks.npy, iscell.npy) -> ``(time, roi)``.

The frame rate is never guessed: it comes from ``ops.npy`` (``ops["fs"]``, read
only with ``allow_pickle=True`` because ``ops.npy`` is a pickled dict) or from
``sfreq``; without either the folder is refused. ``F`` is suite2p's raw
fluorescence: neuropil is *not* subtracted (suite2p's own convention is
``F - 0.7 * Fneu``; do it yourself with the coefficient you trust).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FormatError, NotFoundError, SchemaError
from ..schema import append_history, with_provenance
from .arrays import read_npy

__all__ = ["read_suite2p", "sniff_suite2p"]

_TRACES = {
    "F": "suite2p F: raw ROI fluorescence (a.u., neuropil not subtracted)",
    "Fneu": "suite2p Fneu: neuropil fluorescence around each ROI (a.u.)",
    "spks": "suite2p spks: deconvolved activity (a.u.)",
}


def sniff_suite2p(path: Path) -> bool:
    """Whether ``path`` is a suite2p plane folder (``F.npy`` beside ``iscell.npy`` or ``Fneu.npy``)."""
    path = Path(path)
    return (
        path.is_dir()
        and (path / "F.npy").is_file()
        and any((path / name).is_file() for name in ("iscell.npy", "Fneu.npy"))
    )


def _load(path: Path, *, allow_pickle: bool = False) -> Any:
    """The array, through read_npy's header checks (object arrays refused unless allowed)."""
    return np.asarray(read_npy(path, allow_pickle=allow_pickle).values)


def _roi_positions(folder: Path, n_rois: int, allow_pickle: bool) -> tuple[dict[str, Any], str]:
    """ROI centres and sizes from ``stat.npy`` as coords, and what was done, in words."""
    stat = folder / "stat.npy"
    if not stat.is_file():
        return {}, ""
    if not allow_pickle:
        return {}, "stat.npy (ROI positions) not read: it is pickled; allow_pickle=True reads it"
    rois = _load(stat, allow_pickle=True)
    if rois.shape != (n_rois,) or not all(isinstance(r, dict) and "med" in r for r in rois):
        raise FormatError(f"{stat}: expected {n_rois} ROI dicts with 'med'; got shape {rois.shape}")
    med = np.array([r["med"] for r in rois], dtype=float)
    pixel = {"units": "pixel"}
    coords = {
        "roi_y": ("roi", med[:, 0], {**pixel, "long_name": "ROI centre (median) row"}),
        "roi_x": ("roi", med[:, 1], {**pixel, "long_name": "ROI centre (median) column"}),
        "npix": ("roi", np.array([int(r.get("npix", -1)) for r in rois])),
    }
    return coords, "ROI centres (roi_y, roi_x) and npix from stat.npy"


def _frame_rate(folder: Path, sfreq: float | None, allow_pickle: bool) -> tuple[float, str]:
    ops = folder / "ops.npy"
    from_ops = None
    if ops.is_file() and allow_pickle:
        from_ops = float(_load(ops, allow_pickle=True).item()["fs"])
    if sfreq is not None:
        sfreq = float(sfreq)
        if not (np.isfinite(sfreq) and sfreq > 0):
            raise SchemaError(
                f"`sfreq` must be a positive number of frames per second; got {sfreq!r}"
            )
        if from_ops is not None and not np.isclose(from_ops, sfreq):
            raise FormatError(f"{ops}: fs is {from_ops:g} Hz; `sfreq` says {sfreq:g} Hz")
        return sfreq, "the sfreq argument"
    if from_ops is not None:
        return from_ops, "ops.npy fs"
    why = "ops.npy is not read without allow_pickle=True" if ops.is_file() else "no ops.npy"
    raise FormatError(
        f"{folder}: the frame rate is unknown ({why}); pass sfreq=<frames per second> "
        "(CLI: -o sfreq=30)"
    )


def read_suite2p(
    folder: str | os.PathLike,
    *,
    sfreq: float | None = None,
    cells_only: bool = False,
    allow_pickle: bool = False,
) -> xr.Dataset:
    """Read a suite2p plane folder into ``F``, ``Fneu`` and ``spks`` ``(time, roi)``.

    suite2p stores each trace as (ROI, frame); they are transposed to ``(time, roi)``
    and must all have the shape of ``F.npy``. ``time`` is the frame index divided by
    the frame rate, which comes from ``sfreq`` or ``ops.npy`` and is never guessed.
    The values are as suite2p wrote them: no neuropil subtraction, no dF/F.

    Parameters
    ----------
    folder : str or os.PathLike
        A suite2p output folder (``suite2p/plane0``) holding at least ``F.npy``.
    sfreq : float, optional
        Frame rate in Hz. Required unless ``ops.npy`` is read (``allow_pickle=True``);
        when both are given they must agree.
    cells_only : bool
        Keep only the ROIs the classifier calls cells (``iscell[:, 0] == 1``).
    allow_pickle : bool
        Read ``ops.npy`` and ``stat.npy`` (pickled; unpickling can run code: only for
        folders you trust).

    Returns
    -------
    xarray.Dataset
        ``F``, ``Fneu``, ``spks`` with dims ``(time, roi)`` (those present);
        ``roi`` is suite2p's ROI index (row of ``F.npy``); coords ``iscell``
        (bool) and ``iscell_prob`` when ``iscell.npy`` is there, ``roi_y``/``roi_x``
        (pixels) and ``npix`` from ``stat.npy`` with ``allow_pickle=True``; ``time`` in s
        from the first frame; ``attrs["sfreq_source"]`` says where the rate came from.
    """
    folder = Path(folder)
    if not (folder / "F.npy").is_file():
        raise NotFoundError(f"{folder}: not a suite2p folder (no F.npy)")
    rate, origin = _frame_rate(folder, sfreq, allow_pickle)
    traces = {k: _load(folder / f"{k}.npy") for k in _TRACES if (folder / f"{k}.npy").is_file()}
    shape = traces["F"].shape
    for name, values in traces.items():
        if values.ndim != 2 or values.shape != shape:
            raise FormatError(
                f"{folder / (name + '.npy')}: shape {values.shape}; expected (rois, frames) "
                f"= {shape} as F.npy"
            )
    n_rois, n_frames = shape
    coords: dict[str, Any] = {
        "roi": ("roi", np.arange(n_rois)),
        "time": ("time", np.arange(n_frames) / rate, {"units": "s"}),
    }
    if (folder / "iscell.npy").is_file():
        iscell = _load(folder / "iscell.npy")
        if iscell.ndim != 2 or iscell.shape[0] != n_rois:
            raise FormatError(
                f"{folder / 'iscell.npy'}: shape {iscell.shape}; expected ({n_rois}, 2)"
            )
        coords["iscell"] = ("roi", iscell[:, 0] == 1)
        coords["iscell_prob"] = ("roi", iscell[:, 1].astype(float))
    elif cells_only:
        raise FormatError(f"{folder}: cells_only=True needs iscell.npy; there is none")
    positions, stat_note = _roi_positions(folder, n_rois, allow_pickle)
    coords.update(positions)
    data_vars = {
        name: (("time", "roi"), values.T, {"long_name": _TRACES[name], "sfreq": rate})
        for name, values in traces.items()
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs={"sfreq": rate, "sfreq_source": origin})
    ds = with_provenance(ds, source=folder, source_format="suite2p")
    ds = append_history(ds, f"frame rate {rate:g} Hz from {origin}")
    if stat_note:
        ds = append_history(ds, stat_note)
    if cells_only:
        ds = ds.isel(roi=np.flatnonzero(ds["iscell"].values))
        ds = append_history(ds, f"kept the {ds.sizes['roi']} of {n_rois} ROIs with iscell == 1")
    return ds
