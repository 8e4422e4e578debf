"""Write EEG/iEEG Datasets back out to EDF, BrainVision and FIF through MNE's export.

The writers take what [`neurodata.loaders.eeg.read_eeg`][] gives (a Dataset
with ``signal(time, channel)`` in volts, channel coords and annotations along
``event``), rebuild an `mne.io.RawArray` with [`to_raw`][], and let MNE
write the file (``edfio`` for EDF, ``pybv`` for BrainVision, MNE itself for FIF).

Precision of each format: EDF stores 16-bit integers per channel between the
channel's physical minimum and maximum (error <= one step of
``(max - min) / 65535``); BrainVision is written as float32 (relative error
<= 2**-24); FIF raw is written as float64 by default (``fmt="double"``, lossless)
or float32 with ``fmt="single"``.

EDF keeps what the recording is: channel types are written as EDF+ label
prefixes (``"ECG ECG1"``, read back by MNE's ``infer_types=True``), channels in
other units than volts keep their unit (``"%"``, ``"degC"``) and values, and
the padding of the last 1-s record (marked ``BAD_ACQ_SKIP``) is dropped again on
read, so the sample count survives. Non-integer rates are refused (EDF would
change the sample times); a type EDF+ cannot name is said in one warning line.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._sampling import attr_sfreq, sampling_rate
from ..errors import FormatError, SchemaError
from ..schema import as_dataset
from ._edf_fidelity import retag

__all__ = ["to_raw", "write_brainvision", "write_edf", "write_fif"]

#: Channel types MNE knows; others are written as "misc".
_MNE_TYPES = frozenset(
    {
        "eeg", "seeg", "ecog", "dbs", "eog", "ecg", "emg", "stim", "misc", "resp", "bio",
        "temperature", "gsr", "syst", "chpi", "exci", "ias", "mag", "grad", "ref_meg",
        "fnirs_cw_amplitude", "hbo", "hbr", "eyegaze", "pupil",
    }
)  # fmt: skip

_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.tmp$")


def _signal(obj: xr.Dataset | xr.DataArray) -> tuple[xr.DataArray, xr.Dataset | None]:
    if isinstance(obj, xr.DataArray):
        return obj, None
    ds = as_dataset(obj)
    if "signal" in ds.data_vars:
        return ds["signal"], ds
    candidates = [n for n, v in ds.data_vars.items() if set(v.dims) == {"time", "channel"}]
    if len(candidates) != 1:
        raise SchemaError(
            f"{ds.attrs.get('source', 'Dataset')}: expected one variable with dims "
            f"('time', 'channel') (usually 'signal'); found {candidates or list(ds.data_vars)}"
        )
    return ds[candidates[0]], ds


def _sfreq(signal: xr.DataArray, ds: xr.Dataset | None) -> float:
    declared = attr_sfreq(signal) or (attr_sfreq(ds) if ds is not None else None)
    if declared:
        return declared
    return sampling_rate(signal, what="signal (writing EEG formats needs a regular rate)")


def to_raw(obj: xr.Dataset | xr.DataArray) -> Any:
    """Build an `mne.io.RawArray` from neurodata's EEG Dataset.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A Dataset with ``signal(time, channel)`` (SI units, volts for EEG) and
        optionally channel coords ``ch_type``, ``bad``, ``x``/``y``/``z`` (m),
        annotations ``onset``/``duration``/``label`` along ``event`` and
        ``attrs["start_time"]``; or the ``signal`` DataArray alone.

    Returns
    -------
    mne.io.RawArray
    """
    mne = require("mne", "eeg", purpose="exporting EEG")
    signal, ds = _signal(obj)
    if "time" not in signal.dims or "channel" not in signal.dims:
        raise SchemaError(f"signal has dims {signal.dims}; expected ('time', 'channel')")
    units = signal.attrs.get("units")
    if units not in (None, "V"):
        raise SchemaError(
            f"signal has units {units!r}; MNE's writers need SI volts ('V'); convert first"
        )
    sfreq = _sfreq(signal, ds)
    names = [str(c) for c in signal["channel"].values]
    types = (
        [str(t) if str(t) in _MNE_TYPES else "misc" for t in signal["ch_type"].values]
        if "ch_type" in signal.coords
        else ["eeg"] * len(names)
    )
    data = np.asarray(signal.transpose("channel", "time").values, dtype=float)
    info = mne.create_info(names, sfreq, types, verbose="ERROR")
    if all(a in signal.coords for a in "xyz"):
        locs = np.stack([np.asarray(signal[a].values, dtype=float) for a in "xyz"], axis=1)
        for ch, loc in zip(info["chs"], locs):
            if np.isfinite(loc).all():
                ch["loc"][:3] = loc
    if "bad" in signal.coords:
        info["bads"] = [n for n, b in zip(names, signal["bad"].values) if bool(b)]
    attrs = ds.attrs if ds is not None else signal.attrs
    meas_date = _meas_date(attrs.get("start_time"))
    with info._unlock():
        info["meas_date"] = meas_date
        for key in ("highpass", "lowpass", "line_freq"):
            if key in attrs and np.isfinite(attrs[key]):
                info[key] = float(attrs[key])
    raw = mne.io.RawArray(data, info, verbose="ERROR")
    if ds is not None and {"onset", "duration", "label"} <= set(ds.data_vars):
        raw.set_annotations(
            mne.Annotations(
                np.asarray(ds["onset"].values, dtype=float),
                np.asarray(ds["duration"].values, dtype=float),
                [str(x) for x in ds["label"].values],
                orig_time=meas_date,
            )
        )
    return raw


def _losses(kind: str, obj: Any, raw: Any) -> list[str]:
    """What writing ``obj`` as ``kind`` cannot keep (the round-trip table of the docs)."""
    signal, ds = _signal(obj)
    attrs = {**(ds.attrs if ds is not None else {}), **signal.attrs}
    found = []
    has_positions = all(a in signal.coords for a in "xyz") and bool(
        np.isfinite(np.stack([np.asarray(signal[a].values, dtype=float) for a in "xyz"])).any()
    )
    bads = "bad" in signal.coords and bool(np.asarray(signal["bad"].values).any())
    untyped = sorted({t for t in raw.get_channel_types() if t != "eeg"})
    odd_units = sorted({u for u in _coord(signal, "ch_unit", "V") if u not in ("V", "")})
    labels = [str(x) for x in ds["label"].values] if ds is not None and "label" in ds else []
    if kind in ("edf", "brainvision") and has_positions:
        found.append("electrode positions")
    if kind == "edf":  # what other EDF readers (MNE's default, EDFbrowser) then show
        pad = -raw.n_times % int(raw.info["sfreq"])
        found += [f"the length: the last 1-s record gets {pad} padding samples (BAD_ACQ_SKIP; "
                  "neurodata drops them on reading)"] if pad else []  # fmt: skip
        found += [] if "start_time" in attrs else ["an unknown start date (EDF writes 1985-01-01)"]
    if kind in ("edf", "brainvision") and bads:
        found.append("bad-channel flags")
    if kind in ("edf", "brainvision") and "line_freq" in attrs:
        found.append("line_freq")
    if kind == "brainvision":
        found += ["highpass/lowpass filters"] if {"highpass", "lowpass"} & set(attrs) else []
        found += [f"channel types {untyped} (read back as 'eeg')"] if untyped else []
        found += [f"units {odd_units}"] if odd_units else []
        if ds is not None and "onset" in ds and _off_samples(ds, float(raw.info["sfreq"])):
            found.append("annotation times between samples (markers sit on whole samples)")
        if any("/" not in label for label in labels):
            found.append("annotation labels without a 'Type/' prefix (read back as 'Comment/...')")
    if kind == "fif" and odd_units:
        found.append(f"units {odd_units} (FIF has no code for them; read back as volts)")
    return found


def _off_samples(ds: xr.Dataset, sfreq: float) -> bool:
    times = np.concatenate([ds["onset"].values, ds["duration"].values]).astype(float) * sfreq
    return bool(np.any(np.abs(times - np.round(times)) > 1e-6))


def _coord(signal: xr.DataArray, name: str, default: str) -> list[str]:
    if name in signal.coords:
        return [str(v) for v in signal[name].values]
    return [default] * signal.sizes["channel"]


def _meas_date(start: Any) -> datetime | None:
    if start is None:
        return None
    when = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _final_name(path: Path) -> str:
    """The name the user asked for (``save`` hands writers a hidden temporary name)."""
    match = _TMP_NAME.match(path.name)
    return match.group("name") if match else path.name


def _export(obj: Any, path: Path, kind: str, **options: Any) -> None:
    mne = require("mne", "eeg", purpose=f"writing {kind}")
    raw = to_raw(obj)
    final = _final_name(path)
    if kind == "edf" and not float(raw.info["sfreq"]).is_integer():
        raise FormatError(
            f"{final}: EDF stores whole samples per 1-s record; a rate of "
            f"{raw.info['sfreq']:g} Hz would change the sample times. Write FIF or "
            "BrainVision, or resample to an integer rate first"
        )
    if kind == "brainvision" and len(raw.annotations):
        # MNE's BrainVision export floors onset * sfreq and duration * sfreq, and its
        # annotations keep onsets to 1 us only, so an event on sample k would be written on
        # k - 1: half a sample more makes the floor a rounding to the nearest sample.
        # A comma would split the marker line: BrainVision codes it \1.
        ann, half = raw.annotations, 0.5 / float(raw.info["sfreq"])
        escaped = [d.replace(",", r"\1") for d in ann.description]
        raw.set_annotations(
            mne.Annotations(ann.onset + half, ann.duration + half, escaped, ann.orig_time)
        )
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".neurodata-export-") as tmp:
        target = Path(tmp) / final
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "fif":
                    raw.save(target, overwrite=True, verbose="ERROR", **options)
                else:
                    mne.export.export_raw(
                        target, raw, fmt=kind, overwrite=True, verbose="ERROR", **options
                    )
        except (ValueError, TypeError, RuntimeError, OSError) as exc:
            raise FormatError(f"{final}: cannot write as {kind}: {exc}") from exc
        if kind == "edf":  # channel types as label prefixes, non-volt units kept
            signal, _ = _signal(obj)
            units = _coord(signal, "ch_unit", "V")
            lost = retag(
                target, raw.get_channel_types(), units, lambda i: raw.get_data(picks=[i])[0]
            )
            if lost:
                warnings.warn(
                    f"{final}: channel type not written for {lost} (EDF+ labels hold 16 "
                    "characters and types EEG/SEEG/ECOG/DBS/EOG/ECG/EMG/BIO/RESP/TEMP/MISC/STIM)",
                    RuntimeWarning,
                    stacklevel=3,
                )
        if kind == "brainvision":
            stem = target.stem
            for ext in (".eeg", ".vmrk"):  # the header names them; they sit beside it
                (Path(tmp) / f"{stem}{ext}").replace(path.parent / f"{stem}{ext}")
        shutil.move(target, path)
    lost = _losses(kind, obj, raw)
    if lost:
        warnings.warn(
            f"{final}: {kind} cannot keep {'; '.join(lost)} (see the round-trip table in "
            "docs/loaders-eeg-nwb.md)",
            RuntimeWarning,
            stacklevel=3,
        )


def write_edf(
    obj: xr.Dataset | xr.DataArray, path: Path, *, physical_range: Any = "channelwise"
) -> None:
    """Write an EEG Dataset to EDF+ (16-bit, one physical range per channel by default).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        ``signal(time, channel)`` in volts with annotations (see [`to_raw`][]).
    path : pathlib.Path
        Output file.
    physical_range : "channelwise", "auto" or (min, max)
        Passed to `mne.export.export_raw`; "channelwise" keeps the
        quantisation step of each channel as small as its own range allows.
    """
    _export(obj, path, "edf", physical_range=physical_range)


def write_brainvision(obj: xr.Dataset | xr.DataArray, path: Path) -> None:
    """Write an EEG Dataset to BrainVision (``path`` is the ``.vhdr``; ``.vmrk`` and
    ``.eeg`` are written beside it, float32 samples)."""
    _export(obj, path, "brainvision")


def write_fif(obj: xr.Dataset | xr.DataArray, path: Path, *, fmt: str = "double") -> None:
    """Write an EEG Dataset to a FIF raw file (``fmt="double"``: float64, lossless)."""
    _export(obj, path, "fif", fmt=fmt)
