"""EDF/BDF details MNE does not carry: physical units, typed labels, the writer's padding.

- [`header_units`][]: the physical dimension of each signal, read from the
  EDF/BDF header (MNE reports ``"n/a"`` for anything but volts, and marks every
  channel as volts): volts become ``"V"`` (MNE scaled them), others are kept
  (``"%"``, ``"degC"``, ``""`` when the file says nothing).
- [`strip_padding`][]: EDF stores whole data records; MNE's exporter pads the
  last one with edge values and marks the padding ``BAD_ACQ_SKIP``. A
  ``BAD_ACQ_SKIP`` annotation that runs exactly to the end of the file is that
  padding: the samples are cropped and the annotation dropped, so a recording
  written to EDF reads back with its own length.
- [`apply_edf_header`][]: those units on the Dataset, and the placeholder
  start date 1985-01-01 00:00:00 (what writers put when there is none) dropped.
- [`retag`][]: after MNE writes an EDF, edfio rewrites the labels as
  ``"<TYPE> <name>"`` (the EDF+ convention MNE's ``infer_types=True`` reads
  back) and the physical dimension of non-voltage channels.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import numpy as np

from ._dataset import variable

__all__ = ["EDF_TYPE_PREFIX", "header_units", "retag", "strip_padding"]

#: Channel type -> label prefix understood by MNE's EDF reader (infer_types=True).
EDF_TYPE_PREFIX = {
    "eeg": "EEG", "seeg": "SEEG", "ecog": "ECOG", "dbs": "DBS", "eog": "EOG", "ecg": "ECG",
    "emg": "EMG", "bio": "BIO", "resp": "RESP", "temperature": "TEMP", "misc": "MISC",
    "stim": "STIM",
}  # fmt: skip

#: Label prefixes MNE's EDF reader turns into a channel type (its CH_TYPE_MAPPING).
_READ_PREFIXES = frozenset(EDF_TYPE_PREFIX.values()) | {"SAO2"}

_VOLTS = frozenset({"v", "mv", "uv", "µv", "μv", "nv", "kv"})
_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")


def _header_fields(path: Path) -> tuple[list[str], list[str]]:
    """(labels, physical dimensions) of every signal in an EDF/BDF header."""
    with builtins.open(path, "rb") as fh:
        head = fh.read(256)
        count = head[252:256].decode("latin-1").strip()
        n = int(count) if count.isdigit() else 0
        fields = fh.read(n * (16 + 80 + 8))
    text = fields.decode("latin-1")
    labels = [text[16 * i : 16 * (i + 1)].strip() for i in range(n)]
    start = 96 * n
    dims = [text[start + 8 * i : start + 8 * (i + 1)].strip() for i in range(n)]
    return labels, dims


def header_units(path: Path, ch_names: list[str]) -> list[str | None]:
    """The SI-or-original unit of each channel named in ``ch_names`` (None: not found)."""
    labels, dims = _header_fields(path)
    by_name: dict[str, str] = {}
    seen: dict[str, int] = {}
    for label, dim in zip(labels, dims):
        if label in _ANNOTATION_LABELS:
            continue
        names = {label}
        prefix, _, rest = label.partition(" ")
        if rest and prefix.upper() in _READ_PREFIXES:
            names.add(rest.strip())  # the name MNE gives with infer_types=True
        for name in names:
            seen[name] = seen.get(name, 0) + 1
            by_name[name] = "V" if dim.lower() in _VOLTS else dim
    return [by_name.get(n) if seen.get(n) == 1 else None for n in ch_names]


def strip_padding(raw: Any) -> str | None:
    """Crop a trailing ``BAD_ACQ_SKIP`` that ends with the file (an exporter's padding)."""
    ann = raw.annotations
    if not len(ann):
        return None
    sfreq = raw.info["sfreq"]
    onset = np.asarray(ann.onset, dtype=float)
    if ann.orig_time is not None:
        onset = onset - raw.first_time
    ends = onset + np.asarray(ann.duration, dtype=float)
    end_of_file = raw.n_times / sfreq
    hits = [
        i
        for i, label in enumerate(ann.description)
        if label == "BAD_ACQ_SKIP" and abs(ends[i] - end_of_file) < 0.5 / sfreq and onset[i] > 0
    ]
    if not hits:
        return None
    i = hits[-1]
    keep = round(float(onset[i]) * sfreq)
    padded = raw.n_times - keep
    if padded <= 0 or padded >= sfreq * 10:  # a real gap, not one record's padding
        return None
    raw.annotations.delete(i)
    raw.crop(tmax=(keep - 1) / sfreq, include_tmax=True)
    return (
        f"dropped {padded} padding sample(s) ({padded / sfreq:g} s) marked BAD_ACQ_SKIP at the "
        "end of the file (an EDF writer's last-record padding)"
    )


def _exact_codes(values: np.ndarray) -> tuple[tuple[float, float], tuple[int, int]] | None:
    """Physical and digital ranges that store integer codes with gain 1 (exactly)."""
    if not (values.size and np.all(values == np.round(values))):
        return None
    low, high = float(values.min()), float(values.max())
    if high - low > 65534:
        return None
    high = max(high, low + 1)
    shift = int(low) + 32767
    return (low, high), (int(low) - shift, int(high) - shift)


def retag(path: Path, types: list[str], units: list[str], values: Any) -> list[str]:
    """Rewrite ``path`` (an EDF MNE just wrote) with typed labels, non-volt units and
    exact trigger codes.

    ``values(i)`` gives channel ``i``'s samples as the source holds them. A channel
    whose unit is not volts is rewritten from them in its own unit (MNE writes every
    channel of a voltage type as microvolts); a ``stim`` channel of integer codes is
    written with gain 1, so the codes survive exactly (MNE's reader truncates stim
    values to integers, so a 16-bit rounding of 41853 to 41852.99 would read 41852).
    Returns the channel types that could not be written (label too long, or a type
    EDF+ has no prefix for).
    """
    import edfio

    edf = edfio.read_edf(path, lazy_load_data=False)
    lost, signals = [], []
    for i, (signal, ch_type, unit) in enumerate(zip(edf.signals, types, units)):
        prefix = EDF_TYPE_PREFIX.get(ch_type)
        label = f"{prefix} {signal.label}" if prefix else signal.label
        if prefix is None or len(label) > 16:
            lost.append(f"{signal.label} ({ch_type})")
            label = signal.label
        ranges = None
        if unit not in ("V", "") or ch_type == "stim":
            data = np.asarray(values(i), dtype=float)
            data = np.pad(data, (0, len(signal.data) - data.size), mode="edge")
            ranges = _exact_codes(data) if ch_type == "stim" else None
            if ranges is None and unit in ("V", ""):
                signal.label = label
                signals.append(signal)
                continue
            kwargs = {"physical_range": ranges[0], "digital_range": ranges[1]} if ranges else {}
            signal = edfio.EdfSignal(
                data, signal.sampling_frequency, label=label, prefiltering=signal.prefiltering,
                physical_dimension=unit, **kwargs,
            )  # fmt: skip
        signal.label = label
        signals.append(signal)
    edfio.Edf(
        signals, patient=edf.patient, recording=edf.recording, starttime=edf.starttime,
        data_record_duration=edf.data_record_duration, annotations=edf.annotations,
    ).write(path)  # fmt: skip
    return lost


def signal_unit_attrs(units: list[str]) -> dict[str, str]:
    """``units="V"`` when every channel is in volts, else a ``long_name`` pointing to ch_unit."""
    if set(units) == {"V"}:
        return {"units": "V"}
    return {"long_name": "signal in SI units; per-channel units in coordinate ch_unit"}


#: The start date EDF writers put in when the recording has none (EDF's years begin in 1985).
ANONYMOUS_EDF_START = "1985-01-01T00:00:00+00:00"


def apply_edf_header(ds: Any, path: Path) -> Any:
    """``ds`` with ``ch_unit`` (and the signal's units attrs) from the EDF/BDF header;
    the placeholder start 1985-01-01 00:00:00 is dropped (an anonymised date)."""
    if ds.attrs.get("start_time") == ANONYMOUS_EDF_START:
        ds.attrs.pop("start_time")
    found = header_units(path, [str(c) for c in ds["channel"].values])
    # MNE reads a stim channel (a BDF Status/Trigger) as unscaled codes: the header's
    # "uV" does not describe them, MNE's unit (none) does
    stim = [str(t) == "stim" for t in ds["ch_type"].values]
    units = [
        str(old) if new is None or is_stim else new
        for new, old, is_stim in zip(found, ds["ch_unit"].values, stim)
    ]
    if units == [str(u) for u in ds["ch_unit"].values]:
        return ds
    ds = ds.assign_coords(ch_unit=variable("channel", np.array(units, dtype=object)))
    attrs = {k: v for k, v in ds["signal"].attrs.items() if k not in ("units", "long_name")}
    ds["signal"].attrs = {**attrs, **signal_unit_attrs(units)}
    return ds
