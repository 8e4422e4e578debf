"""EEG, MEG-free iEEG and other continuous electrophysiology files, read with MNE.

[`read_eeg`][] turns any continuous recording MNE reads (EDF/EDF+, BDF,
GDF, BrainVision, EEGLAB, FIF, Persyst, Nihon Kohden, Neuroscan CNT, EGI MFF,
Curry, Nicolet, eXimia) into one `xarray.Dataset`:

- ``signal(time, channel)`` in SI units (volts for EEG/iEEG), float64;
- channel coordinates ``ch_type`` (``"eeg"``, ``"seeg"``, ``"ecog"``, ``"stim"``,
  ...), ``ch_unit``, ``bad`` and electrode positions ``x``, ``y``, ``z`` (metres,
  NaN when the file has none);
- annotations as ``onset``, ``duration`` (s from the first sample, on the sample MNE's
  1-us rounding moved them off) and ``label`` along ``event`` (overlaps, UTF-8 kept);
- attrs ``sfreq``, ``start_time`` (ISO-8601, absent when anonymised),
  ``highpass``/``lowpass`` (Hz) and provenance.

Large files are read lazily: ``signal`` is a dask array read per chunk when computed.
Files whose channels were sampled at different rates are refused rather than
silently resampled; the error names the choices (``resample=`` or ``channels=``).
BIDS files (``sub-*_eeg.edf`` next to ``*_channels.tsv``) are read through
mne-bids so that the sidecars' events and channel metadata are used.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import re
import struct
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._inputs import companion, companions_of
from .._sampling import snap_to_samples
from .._timeindex import time_coords
from ..errors import FormatError, SchemaError
from ..schema import append_history
from ..schema._provenance import provenance_attrs
from ._dataset import build_dataset, variable
from ._edf_fidelity import apply_edf_header, signal_unit_attrs, strip_padding
from ._edf_tal import check_tal
from ._eeg_lazy import LAZY_THRESHOLD, _RawArray, default_lazy, signal_data  # noqa: F401
from ._eeg_sanity import check_header
from ._mne_read import call_reader, reader_kwargs

__all__ = ["dataset_from_raw", "read_eeg", "sniff_nihon_kohden"]

#: Extension -> (MNE reader function name, format label used in provenance).
_READERS: dict[str, tuple[str, str]] = {
    ".edf": ("read_raw_edf", "EDF"),
    ".bdf": ("read_raw_bdf", "BDF"),
    ".gdf": ("read_raw_gdf", "GDF"),
    ".vhdr": ("read_raw_brainvision", "BrainVision"),
    ".ahdr": ("read_raw_brainvision", "BrainVision"),
    ".set": ("read_raw_eeglab", "EEGLAB"),
    ".fif": ("read_raw_fif", "FIF"),
    ".fif.gz": ("read_raw_fif", "FIF"),
    ".lay": ("read_raw_persyst", "Persyst"),
    ".eeg": ("read_raw_nihon", "Nihon Kohden"),
    ".cnt": ("read_raw_cnt", "Neuroscan CNT"),
    ".mff": ("read_raw_egi", "EGI MFF"),
    ".cdt": ("read_raw_curry", "Curry"),
    ".data": ("read_raw_nicolet", "Nicolet"),
    ".nxe": ("read_raw_eximia", "eXimia"),
}

#: MNE readers that take ``include=`` (select channels before the rate is fixed).
_TAKES_INCLUDE = {"read_raw_edf", "read_raw_bdf", "read_raw_gdf"}

#: Nihon Kohden device strings at the start of a .EEG file (from MNE's reader).
_NIHON_HEADERS = (
    b"EEG-1100A V01.00",
    b"EEG-1100B V01.00",
    b"EEG-1100C V01.00",
    b"QI-403A   V01.00",
    b"QI-403A   V02.00",
    b"EEG-2100  V01.00",
    b"EEG-2100  V02.00",
    b"DAE-2100D V01.30",
    b"DAE-2100D V02.00",
    b"EEG-1200A V01.00",
)


def sniff_nihon_kohden(path: Path) -> bool:
    """Whether ``path`` starts with a Nihon Kohden device string."""
    with builtins.open(path, "rb") as fh:
        return fh.read(16) in _NIHON_HEADERS


def _extension(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted(_READERS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def _mne():
    mne = require("mne", "eeg", purpose="reading EEG/iEEG files")
    return mne


# --------------------------------------------------------------------------------------
# opening a Raw
# --------------------------------------------------------------------------------------


def _open_raw(
    path: Path, channels: Sequence[str] | None, options: dict[str, Any] | None = None
) -> tuple[Any, str]:
    """An MNE Raw (not preloaded) and the format label; ``options`` go to MNE's reader."""
    mne = _mne()
    ext = _extension(path)
    if ext == ".eeg" and path.with_suffix(".vhdr").is_file() and not sniff_nihon_kohden(path):
        path, ext = path.with_suffix(".vhdr"), ".vhdr"  # the data file of a BrainVision set
    func_name, label = _READERS.get(ext, ("read_raw", ext.lstrip(".") or "unknown"))
    func = getattr(mne.io, func_name)
    kwargs: dict[str, Any] = {"preload": False, "verbose": "ERROR"}
    kwargs.update(reader_kwargs(func, path, options or {}))
    if channels is not None and func_name in _TAKES_INCLUDE:
        kwargs["include"] = list(channels)
    if ext in (".vhdr", ".ahdr"):
        _check_brainvision(path)
    elif ext == ".set":
        from ._matguard import check_mat5

        check_mat5(path)  # scipy's MAT reader trusts declared sizes (and can crash)
    elif ext == ".fif":
        _check_fif(path)
    elif ext in (".edf", ".bdf"):
        check_tal(path)  # MNE's annotation pattern is quadratic on unterminated lists
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")  # some readers print() (Persyst): keep stdout clean
        raw = call_reader(func, path, kwargs)
    companions_of(raw, path)  # e.g. EEGLAB's EEG.data: before any sample is read
    check_header(raw, path)  # lying rates and calibrations
    _check_size(raw, path, label)
    for caught_warning in caught:  # MNE's own warnings, re-issued with the file's name
        if issubclass(caught_warning.category, RuntimeWarning | UserWarning):
            warnings.warn(f"{path.name}: {caught_warning.message}", RuntimeWarning, stacklevel=4)
    if channels is not None:
        missing = sorted(set(channels) - set(raw.ch_names))
        if missing:
            raise FormatError(
                f"{path}: `channels` names {missing}, which the file does not have; "
                f"it has {raw.ch_names}"
            )
        raw.pick(list(channels))
    return raw, label


def _fif_tag(fh: Any, pos: int, size: int, path: Path) -> tuple[int, int, int]:
    """(kind, nbytes, next) of the FIF tag at ``pos``, refusing sizes past the file."""
    fh.seek(pos)
    head = fh.read(16)
    if len(head) < 16:
        raise FormatError(f"{path}: FIF tag at byte {pos} is truncated")
    kind, _, nbytes, following = struct.unpack(">iiii", head)
    if nbytes < 0 or pos + 16 + nbytes > size:
        raise FormatError(
            f"{path}: FIF tag {kind} at byte {pos} declares {nbytes} bytes; the file "
            f"has {size - pos - 16} after it (truncated or corrupt)"
        )
    return kind, nbytes, following


def _check_fif(path: Path) -> None:
    """Refuse FIF tags (in sequence and in the tag directory) whose declared size runs
    past the file, before MNE allocates them."""
    size = path.stat().st_size
    pos, visited, directory = 0, set(), None
    with builtins.open(path, "rb") as fh:
        while 0 <= pos < size:
            if pos in visited or len(visited) > size // 16:  # MNE would loop, growing a list
                raise FormatError(
                    f"{path}: FIF tags loop (a tag's next-tag pointer leads back to byte {pos}); "
                    "expected each tag once (corrupt file)"
                )
            visited.add(pos)
            kind, nbytes, following = _fif_tag(fh, pos, size, path)
            if kind == 101 and nbytes == 4:  # FIFF_DIR_POINTER
                directory = struct.unpack(">i", fh.read(4))[0]
            if following == -1:
                break
            pos = pos + 16 + nbytes if following == 0 else following
        seen = len(visited)
        if pos >= size and seen and following not in (0, -1):
            raise FormatError(f"{path}: FIF tag points to byte {pos}, past the end ({size} bytes)")
        if directory is None or directory <= 0:
            return
        if directory >= size:
            raise FormatError(f"{path}: FIF directory pointer {directory} is past the end")
        _, nbytes, _ = _fif_tag(fh, directory, size, path)
        entries = np.frombuffer(fh.read(nbytes // 16 * 16), dtype=">i4").reshape(-1, 4)
        for entry_pos in entries[:, 3]:
            if entry_pos >= 0:
                _fif_tag(fh, int(entry_pos), size, path)


def _check_brainvision(vhdr: Path) -> None:
    """A BrainVision header must point to data and marker files that exist."""
    text = vhdr.read_bytes().decode("utf-8", errors="replace")
    declared = re.search(r"^NumberOfChannels=\s*(\S*)", text, flags=re.MULTILINE)
    listed = len(re.findall(r"^Ch\d+=", text, flags=re.MULTILINE))
    if declared is not None and (
        not declared.group(1).isdigit() or int(declared.group(1)) > max(listed, 1)
    ):  # MNE allocates per declared channel: check it before
        raise FormatError(
            f"{vhdr}: header declares NumberOfChannels={declared.group(1)}; expected a count "
            f"of at most the {listed} channels listed under [Channel Infos]"
        )
    for key in ("DataFile", "MarkerFile"):  # MNE's configparser: any case, '=' or ':'
        found = re.findall(rf"^\s*{key}\s*[=:](.*)$", text, flags=re.MULTILINE | re.IGNORECASE)
        if not found and key == "DataFile":
            raise FormatError(f"{vhdr}: BrainVision header has no DataFile= entry")
        for name in found:
            companion(vhdr, name.strip(), key=key)


def _check_size(raw: Any, path: Path, label: str) -> None:
    """Refuse files that hold fewer samples than their header promises."""
    extras = raw._raw_extras[0] if getattr(raw, "_raw_extras", None) else {}
    if not isinstance(extras, dict):
        return
    if label in ("EDF", "BDF") and "n_samps" in extras and "data_offset" in extras:
        with builtins.open(path, "rb") as fh:  # MNE trims n_records to the file: read the header
            fh.seek(236)
            field = fh.read(8).decode("ascii", errors="replace").strip()
        n_records = int(field) if field.lstrip("-").isdigit() else -1
        record_bytes = int(np.sum(extras["n_samps"])) * int(extras.get("dtype_byte", 2))
        expected = int(extras["data_offset"]) + n_records * record_bytes
        size = path.stat().st_size
        if n_records >= 0 and size < expected:
            held = (size - int(extras["data_offset"])) / max(record_bytes, 1)
            raise FormatError(
                f"{path}: header says {n_records} data records, file holds "
                f"{max(held, 0):.1f} (truncated?)"
            )
    if label == "BrainVision" and "n_samples" in extras and "fmt" in extras:
        data_file = Path(raw.filenames[0])
        width = {"short": 2, "int": 4, "single": 4, "double": 8}.get(extras["fmt"])
        if width and "offsets" in extras:
            n_chan = int(extras.get("orig_nchan", len(raw.ch_names)))
            whole = data_file.stat().st_size / (width * n_chan)
            if whole != int(whole):
                raise FormatError(
                    f"{data_file}: size {data_file.stat().st_size} bytes is not a whole number "
                    f"of samples of {n_chan} channels x {width} bytes (truncated?)"
                )


def _rate_groups(raw: Any) -> dict[float, list[str]]:
    """Sampling rate (Hz) -> channel names, from the EDF/BDF/GDF header."""
    extras = raw._raw_extras[0] if getattr(raw, "_raw_extras", None) else {}
    if not isinstance(extras, dict) or "n_samps" not in extras or "sel" not in extras:
        return {}
    n_samps = np.asarray(extras["n_samps"])
    sel = np.asarray(extras["sel"])
    tal = set(np.atleast_1d(extras.get("tal_idx", [])).tolist())
    record = extras.get("record_length", (1.0, 1.0))
    seconds = float(record[0]) if np.ndim(record) else float(record)
    names = list(raw.ch_names)
    groups: dict[float, list[str]] = {}
    picked = [i for i in sel.tolist() if i not in tal]
    if len(picked) != len(names):
        return {}
    for name, idx in zip(names, picked):
        groups.setdefault(float(n_samps[idx]) / seconds, []).append(name)
    return groups


def _check_rates(raw: Any, path: Path, resample: float | None) -> None:
    groups = _rate_groups(raw)
    if len(groups) <= 1 or resample is not None:
        return
    parts = []
    for rate, names in sorted(groups.items(), reverse=True):
        shown = ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
        parts.append(f"{rate:g} Hz: {len(names)} channels ({shown})")
    slowest = sorted(groups.items())[0][1]
    raise FormatError(
        f"{path}: channels have different sampling rates ({'; '.join(parts)}); neurodata does "
        f"not resample silently. Pass resample=<Hz> (e.g. resample={max(groups):g}) to bring "
        f"every channel to one rate, or channels=[...] to read one group at its own rate "
        f"(e.g. channels={slowest[:3]!r})"
    )


# --------------------------------------------------------------------------------------
# Raw -> Dataset
# --------------------------------------------------------------------------------------


def _positions(raw: Any) -> tuple[np.ndarray, str | None]:
    locs = np.array([ch["loc"][:3] for ch in raw.info["chs"]], dtype=float).reshape(-1, 3)
    empty = ~np.isfinite(locs).all(axis=1) | (np.abs(locs).sum(axis=1) == 0)
    locs[empty] = np.nan
    note = None
    biggest = np.nanmax(np.abs(locs), initial=0.0)
    if biggest > 1.0:  # no electrode lies 1 m from the head centre: the file stored millimetres
        locs = locs / 1000.0
        note = (
            f"electrode positions reach {biggest:.4g} in the file, impossible in metres; "
            "read them as millimetres (divided by 1000)"
        )
    return locs, note


#: FIFF unit codes (mne.io.constants.FIFF.FIFF_UNIT_*) -> SI symbols.
_FIFF_UNITS = {
    107: "V",
    112: "T",
    201: "T/m",
    202: "A*m",
    114: "degC",
    6: "mol",
    110: "s",
    101: "Hz",
    1: "m",
}


def _unit_name(ch: dict) -> str:
    return _FIFF_UNITS.get(int(ch["unit"]), "")


def _annotations(raw: Any) -> dict[str, xr.Variable]:
    ann = raw.annotations
    onset = np.asarray(ann.onset, dtype=float)
    if ann.orig_time is not None:
        onset = onset - raw.first_time  # MNE counts from meas_date; neurodata from sample 0
    onset = snap_to_samples(onset, raw.info["sfreq"])  # MNE rounded them to 1 us
    out = {
        "onset": variable("event", onset, {"units": "s"}),
        "duration": variable("event", np.asarray(ann.duration, dtype=float), {"units": "s"}),
        "label": variable("event", np.array([_text(d) for d in ann.description], dtype=object)),
    }
    ch_names = getattr(ann, "ch_names", None)
    if ch_names is not None and any(len(c) for c in ch_names):
        joined = np.array([",".join(c) for c in ch_names], dtype=object)
        out["event_channels"] = variable("event", joined)
    return out


def _text(value: Any) -> str:
    """Annotation text; numeric character references (``&#20208;``, how MNE stores
    non-Latin-1 text in FIF) become the characters they stand for."""
    return _CHAR_REF.sub(lambda m: chr(int(m.group(1))), str(value))


_CHAR_REF = re.compile(r"&#(\d{2,7});")


def _start_time(raw: Any) -> str | None:
    meas = raw.info["meas_date"]
    if meas is None:
        return None
    return (meas + timedelta(seconds=float(raw.first_time))).isoformat()


def dataset_from_raw(
    raw: Any,
    *,
    lazy: bool | str = False,
    chunk_seconds: float = 60.0,
    source: str | Path | None = None,
    source_format: str = "MNE Raw",
    copy: bool = True,
) -> xr.Dataset:
    """Turn an MNE ``Raw`` into neurodata's EEG Dataset.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Any Raw (preloaded or not).
    lazy : bool or "indexed"
        True: ``signal`` is a dask array read chunk by chunk from ``raw``;
        ``"indexed"``: read on indexing, without dask (both with a computed
        ``time`` index; see `neurodata.loaders._eeg_lazy`).
    chunk_seconds : float
        Length of the lazy chunks along ``time``.
    source, source_format : optional
        Provenance to record.
    copy : bool
        Copy the samples (default). False hands MNE's preloaded buffer to the
        Dataset without a copy; only for a Raw nobody else uses.

    Returns
    -------
    xarray.Dataset
        ``signal(time, channel)`` and annotations along ``event``.
    """
    sfreq = float(raw.info["sfreq"])
    chs = raw.info["chs"]
    units = [_unit_name(ch) for ch in chs]
    locs, position_note = _positions(raw)
    if lazy:  # a long recording's time is computed from sfreq, not stored (neurodata._timeindex)
        time = time_coords(raw.n_times, sfreq)
        coords, indexes = dict(time.variables), dict(time.xindexes)
    else:
        coords = {"time": variable("time", np.arange(raw.n_times) / sfreq, {"units": "s"})}
        indexes = {}
    bad = np.array([c in raw.info["bads"] for c in raw.ch_names], dtype=bool)
    every = np.arange(len(chs))  # integer picks: MNE skips parsing "all" (half the cost)
    coords |= {
        "channel": variable("channel", np.array(raw.ch_names, dtype=object)),
        "ch_type": variable("channel", np.array(raw.get_channel_types(picks=every), dtype=object)),
        "ch_unit": variable("channel", np.array(units, dtype=object)),
        "bad": variable("channel", bad),
        **{
            axis: variable("channel", values, {"units": "m"}) for axis, values in zip("xyz", locs.T)
        },
    }
    signal_attrs: dict[str, Any] = {"sfreq": sfreq, **signal_unit_attrs(units)}
    signal = variable(
        ("time", "channel"), signal_data(raw, lazy, chunk_seconds, copy), signal_attrs
    )
    attrs: dict[str, Any] = {"sfreq": sfreq}
    start = _start_time(raw)
    if start is not None:
        attrs["start_time"] = start
    for key in ("highpass", "lowpass", "line_freq"):
        value = raw.info.get(key)
        if value is not None and np.isfinite(value):
            attrs[key] = float(value)
    if source is not None:
        attrs.update(provenance_attrs(source=source, source_format=source_format))
    if position_note:
        warnings.warn(f"{Path(str(source or 'raw')).name}: {position_note}", stacklevel=3)
        history = attrs.get("history")
        attrs["history"] = f"{history}\n{position_note}" if history else position_note
    return build_dataset({"signal": signal, **_annotations(raw)}, coords, attrs, indexes=indexes)


# --------------------------------------------------------------------------------------
# public reader
# --------------------------------------------------------------------------------------


def _is_bids(path: Path) -> bool:
    if not re.match(r"sub-[^_]+_.*_(eeg|ieeg)\.", path.name):
        return False
    stem = path.name.rsplit("_", 1)[0]
    return (path.parent / f"{stem}_channels.tsv").is_file()


def _read_bids(path: Path, options: dict[str, Any]) -> Any:
    mne_bids = require("mne_bids", "eeg", purpose="reading BIDS EEG/iEEG")
    bids_path = mne_bids.get_bids_path_from_fname(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne_bids.read_raw_bids(bids_path, extra_params=options or None, verbose="ERROR")


def _event_file(path: Path, events: str | Path | bool | None) -> Path | None:
    if events is False:
        return None
    if events not in (None, True):
        return Path(events)
    name = path.name
    for suffix in ("_raw.fif", "-raw.fif", ".fif"):
        if name.endswith(suffix):
            for sep in ("-", "_"):
                candidate = path.with_name(name[: -len(suffix)] + f"{sep}eve.fif")
                if candidate.is_file():
                    return candidate
    return None


def _add_events(raw: Any, events_path: Path) -> None:
    """Append the events of an MNE ``-eve.fif`` file to ``raw.annotations``."""
    mne = _mne()
    try:
        events = mne.read_events(events_path, verbose="ERROR")
    except Exception as exc:
        raise FormatError(f"{events_path}: could not read MNE events: {exc}") from exc
    onsets = (events[:, 0] - raw.first_samp) / raw.info["sfreq"]
    labels = [str(code) for code in events[:, 2]]
    extra = mne.Annotations(onsets, np.zeros(len(onsets)), labels, orig_time=None)
    if raw.annotations.orig_time is not None:
        extra = mne.Annotations(
            onsets + raw.first_time, np.zeros(len(onsets)), labels, orig_time=raw.info["meas_date"]
        )
    raw.set_annotations(raw.annotations + extra)


def read_eeg(
    path: str | Path,
    *,
    lazy: bool | str | None = None,
    resample: float | None = None,
    channels: Sequence[str] | None = None,
    events: str | Path | bool | None = None,
    bids: bool | None = None,
    chunk_seconds: float = 60.0,
    **options: Any,
) -> xr.Dataset:
    """Read a continuous EEG/iEEG recording into a Dataset.

    Parameters
    ----------
    path : str or pathlib.Path
        Any file MNE reads as Raw: ``.edf``, ``.bdf``, ``.gdf``, ``.vhdr``,
        ``.set``, ``.fif``, ``.lay``, Nihon Kohden ``.eeg``, ``.cnt``, ``.mff``,
        ``.cdt``, ``.data``, ``.nxe``.
    lazy : bool or "indexed", optional
        True: a dask-backed ``signal`` read ``chunk_seconds`` at a time;
        ``"indexed"``: read on indexing without dask (``isel``/``sel`` then
        ``.values`` reads just that window, as MNE's ``get_data(start, stop)``);
        False: read now. Lazy reads get a computed ``time`` index
        (``sel(time=slice(a, b))`` includes both ends, seconds). Default:
        ``"indexed"`` for recordings longer than 5 minutes whose float64 signal
        exceeds 16 MiB, True for any signal over 1 GiB, else False.
    resample : float, optional
        Resample every channel to this rate (Hz). Needed to read EDF/BDF/GDF
        files whose channels have different rates (MNE's reader upsamples them
        to the highest rate first). Loads the data.
    channels : sequence of str, optional
        Read only these channels (e.g. one group sharing a sampling rate).
    events : path or bool, optional
        An MNE events file (``-eve.fif``) whose events become annotations
        (labels are the event codes). Default: a sibling ``<name>-eve.fif`` or
        ``<name>_eve.fif`` of a FIF file, if there is one. False: none.
    bids : bool, optional
        Read through mne-bids (sidecar events and channel metadata). Default:
        when the name is BIDS-like and a ``*_channels.tsv`` sidecar exists.
    chunk_seconds : float
        Chunk length along ``time`` of lazy reads (default 60 s).
    **options
        Any documented option of the MNE reader of the format, passed through
        (``data_format="int16"`` for ``read_raw_cnt``, ``encoding=`` for
        ``read_raw_nihon``, ``eog=[...]``, ...); on the CLI ``-o key=value``.
        EDF/BDF default to ``infer_types=True`` (types from labels).

    Returns
    -------
    xarray.Dataset
        ``signal(time, channel)`` in SI units (volts), channel coords
        ``ch_type``, ``ch_unit``, ``bad``, ``x``/``y``/``z`` (m); variables
        ``onset``, ``duration`` (s) and ``label`` along ``event``; attrs
        ``sfreq``, ``start_time`` and provenance.

    Raises
    ------
    FormatError
        Naming the file and the problem: truncated data, a BrainVision header
        pointing to a missing file, mixed sampling rates, unreadable headers.
    """
    path = Path(path)
    if not any(lazy is choice for choice in (None, True, False)) and lazy != "indexed":
        raise SchemaError(f"`lazy` must be one of [None, False, True, 'indexed']; got {lazy!r}")
    use_bids = _is_bids(path) if bids is None else bids
    if use_bids:
        raw = _read_bids(path, options)
        label = "BIDS " + type(raw).__name__.replace("Raw", "")
        if channels is not None:
            raw.pick(list(channels))
    else:
        raw, label = _open_raw(path, channels, options)
    _check_rates(raw, path, resample)
    padding = strip_padding(raw) if label in ("EDF", "BDF") else None
    events_path = _event_file(path, events) if label == "FIF" or events else None
    if events_path is not None:
        _add_events(raw, events_path)
    history = None
    if resample is not None:
        if not (np.isfinite(resample) and resample > 0):
            raise SchemaError(f"`resample` must be a positive rate in Hz; got {resample!r}")
        old = raw.info["sfreq"]
        if groups := _rate_groups(raw):
            old = ", ".join(f"{r:g}" for r in sorted(groups))
        raw.load_data(verbose="ERROR")
        if float(resample) != raw.info["sfreq"]:
            raw.resample(float(resample), verbose="ERROR")
        history = f"resampled from {old} Hz to {float(resample):g} Hz (mne.io.Raw.resample)"
    if lazy is None:
        lazy = not raw.preload and default_lazy(raw.n_times, len(raw.ch_names), raw.info["sfreq"])
    ds = dataset_from_raw(
        raw,
        lazy=lazy if lazy == "indexed" else bool(lazy),
        chunk_seconds=chunk_seconds,
        source=path,
        source_format=label,
        copy=False,  # the Raw was opened here and is dropped: its buffer becomes ours
    )
    if label in ("EDF", "BDF"):
        ds = apply_edf_header(ds, path)  # MNE calls every EDF channel volts
    for line in (padding, history):
        ds = append_history(ds, line) if line else ds
    if events_path is not None:
        ds = append_history(ds, f"events from {events_path.name} added as annotations")
    return ds
