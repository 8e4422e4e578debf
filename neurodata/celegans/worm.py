"""One worm's ROI traces placed on the canonical neuron axis (shared by every worm loader).

[`build_worm`][] is the single place where identities are decided: a ROI goes
into a neuron slot only when its label is a canonical name, is unique in that
worm, and passes the ``uncertain`` and ``min_confidence`` choices; every other
ROI stays in ``activity_roi`` with its label and the reason (``roi_status``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._registry import pick
from ..errors import FormatError
from .neurons import N_NEURONS, is_neuron, neuron_coords, neurons, normalize_name

__all__ = ["build_worm"]

_UNCERTAIN = ("include", "exclude")
_DUPLICATES = ("drop", "raise")


def build_worm(
    traces: np.ndarray,
    times: np.ndarray,
    *,
    worm: str,
    roi: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
    confidence: Sequence[float] | None = None,
    uncertain: str = "include",
    min_confidence: float | None = None,
    duplicates: str = "drop",
    long_name: str = "calcium activity, dimensionless",
    name: str | None = None,
) -> xr.Dataset:
    """Place one worm's ROI traces on the canonical neuron axis.

    Parameters
    ----------
    traces : array of shape (time, roi)
        One column per ROI.
    times : array of shape (time,)
        Seconds of each frame; shifted so that the first frame is at 0.
    worm : str
        Worm id (coordinate of the ``worm`` dim).
    roi : sequence of int, optional
        ROI numbers of the columns (default 1..n, as the Flavell lab numbers them).
    labels : sequence of str, optional
        Label of each column (``""`` when unlabelled); a trailing ``?`` marks an
        uncertain label; several candidate names joined by ``|`` are ambiguous.
        Names are normalised (``VB02`` -> ``VB2``).
    confidence : sequence of float, optional
        Identity confidence of each column (NaN when unknown).
    uncertain : {"include", "exclude"}
        Whether labels ending in ``?`` that name a neuron fill its slot (marked in
        ``neuron_uncertain``) or stay in ``activity_roi``.
    min_confidence : float, optional
        Labels with a lower confidence stay in ``activity_roi``.
    duplicates : {"drop", "raise"}
        When several ROIs of one worm carry the same neuron label: ``"drop"``
        leaves the slot NaN, keeps every such ROI in ``activity_roi``
        (``roi_status="duplicate"``), flags ``neuron_duplicate`` and warns;
        ``"raise"`` raises [`FormatError`][]. Never resolved silently.
    long_name : str
        Description of the signal.
    name : str, optional
        Source name for messages.

    Returns
    -------
    xarray.Dataset
        ``activity(worm, time, neuron)`` on the 302 canonical neurons (NaN where
        not identified), ``activity_roi(worm, time, roi)`` for the other ROIs,
        ``timestamps(worm, time)`` in seconds, and per-slot / per-ROI coordinates:
        ``neuron_roi``, ``neuron_label``, ``neuron_confidence``,
        ``neuron_uncertain``, ``neuron_duplicate`` along (worm, neuron);
        ``roi_label``, ``roi_confidence``, ``roi_uncertain``, ``roi_status``
        along (worm, roi). ``attrs["n_identified"]`` counts the filled slots.
    """
    pick(_UNCERTAIN, uncertain, "uncertain")
    pick(_DUPLICATES, duplicates, "duplicates")
    where = name or worm
    traces = np.asarray(traces, dtype=float)
    times = np.asarray(times, dtype=float)
    if traces.ndim != 2 or times.shape != (traces.shape[0],):
        raise FormatError(
            f"{where}: traces must be (time, roi) with one time per row; got traces "
            f"{traces.shape} and times {times.shape}"
        )
    n_t, n_roi = traces.shape
    roi = np.arange(1, n_roi + 1) if roi is None else np.asarray(roi, dtype=int)
    labels = [""] * n_roi if labels is None else ["" if _missing(x) else str(x) for x in labels]
    conf = np.full(n_roi, np.nan) if confidence is None else np.asarray(confidence, dtype=float)
    if not (len(roi) == len(labels) == len(conf) == n_roi):
        raise FormatError(f"{where}: {n_roi} trace columns but {len(labels)} labels / ROI numbers")

    status = np.array(["unlabelled"] * n_roi, dtype=object)
    norm = [normalize_name(x) if x else "" for x in labels]
    is_uncertain = np.array([x.endswith("?") for x in norm])
    wanted: dict[str, list[int]] = {}
    for i, label in enumerate(norm):
        if not label:
            continue
        core = label.rstrip("?")
        if not is_neuron(core):
            status[i] = "ambiguous" if is_uncertain[i] or "|" in label else "not-a-neuron"
        elif is_uncertain[i] and uncertain == "exclude":
            status[i] = "uncertain-excluded"
        elif min_confidence is not None and not conf[i] >= min_confidence:
            status[i] = "low-confidence"
        else:
            wanted.setdefault(core, []).append(i)

    slot_of = {n: k for k, n in enumerate(neurons())}
    activity = np.full((1, n_t, N_NEURONS), np.nan)
    n_roi_of = np.full(N_NEURONS, np.nan)
    n_label = np.full(N_NEURONS, "", dtype=object)
    n_conf = np.full(N_NEURONS, np.nan)
    n_unc = np.zeros(N_NEURONS, dtype=bool)
    n_dup = np.zeros(N_NEURONS, dtype=bool)
    placed = np.zeros(n_roi, dtype=bool)
    dups = {}
    for neuron, cols in wanted.items():
        k = slot_of[neuron]
        if len(cols) > 1:
            dups[neuron] = [int(roi[c]) for c in cols]
            n_dup[k] = True
            status[cols] = "duplicate"
            continue
        (c,) = cols
        activity[0, :, k] = traces[:, c]
        n_roi_of[k], n_label[k], n_conf[k], n_unc[k] = roi[c], labels[c], conf[c], is_uncertain[c]
        placed[c] = True
        status[c] = "identified"
    if dups:
        text = ", ".join(f"{n} (ROIs {r})" for n, r in sorted(dups.items()))
        if duplicates == "raise":
            raise FormatError(f"{where}: several ROIs carry the same label: {text}")
        warnings.warn(
            f"{where}: several ROIs carry the same label, their slots are left NaN and the "
            f"ROIs kept in activity_roi (roi_status='duplicate'): {text}",
            UserWarning,
            stacklevel=3,
        )

    rest = ~placed
    coords = neuron_coords("neuron")
    ds = xr.Dataset(
        {
            "activity": (("worm", "time", "neuron"), activity, {"long_name": long_name}),
            "activity_roi": (
                ("worm", "time", "roi"),
                traces[None][:, :, rest],
                {"long_name": f"{long_name}; ROIs not placed in a neuron slot"},
            ),
        },
        coords={
            **coords,
            "worm": [str(worm)],
            "roi": roi[rest],
            "timestamps": (("worm", "time"), (times - times[0])[None], {"units": "s"}),
            "neuron_roi": (("worm", "neuron"), n_roi_of[None], {"long_name": "source ROI number"}),
            "neuron_label": (("worm", "neuron"), n_label[None]),
            "neuron_confidence": (("worm", "neuron"), n_conf[None]),
            "neuron_uncertain": (("worm", "neuron"), n_unc[None]),
            "neuron_duplicate": (("worm", "neuron"), n_dup[None]),
            "roi_label": (("worm", "roi"), np.array(labels, dtype=object)[rest][None]),
            "roi_confidence": (("worm", "roi"), conf[rest][None]),
            "roi_uncertain": (("worm", "roi"), is_uncertain[rest][None]),
            "roi_status": (("worm", "roi"), status[rest][None]),
        },
        attrs={
            "n_identified": int(placed.sum()),
            "uncertain": uncertain,
            "duplicates": duplicates,
            "min_confidence": _none_to_nan(min_confidence),
        },
    )
    return ds


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _none_to_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
