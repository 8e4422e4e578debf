"""A synthetic multi-subject resting EEG collection in a real format and a BIDS-like tree.

[`make_eeg_collection`][] writes, for each subject, a continuous recording
(BrainVision, EDF or FIF through MNE's writers) of a 64-channel BioSemi montage
with electrode positions, plus ``participants.tsv`` (age, sex) and
``dataset_description.json``::

    root/
      dataset_description.json
      participants.tsv
      sub-001/eeg/sub-001_task-rest_eeg.vhdr (+ .vmrk, .eeg)
      ...

The signal of each channel is AR(1) "1/f-like" background activity plus a
10 Hz alpha rhythm over posterior channels whose amplitude falls with age
(a planted effect: alpha power per subject correlates negatively with
``age``), in volts (~20 µV background), with eyes-open/eyes-closed
annotations every 20 s. Subjects are generated one at a time from
``seed``, so a collection of any size needs the memory of one recording.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._compat import require
from .._config import resolve
from .._progress import progress as _progress
from ..errors import OutputExistsError, SchemaError
from ..io import save

__all__ = ["EEG_COLLECTION_FORMATS", "make_eeg_collection", "simulate_eeg_subject"]

#: Output format -> file extension of the recording.
EEG_COLLECTION_FORMATS = {"brainvision": ".vhdr", "edf": ".edf", "fif": ".fif"}

_ALPHA_HZ = 10.0


def _montage(n_channels: int) -> tuple[list[str], np.ndarray]:
    mne = require("mne", "eeg", purpose="the BioSemi montage of the synthetic EEG")
    montage = mne.channels.make_standard_montage("biosemi64")
    positions = montage.get_positions()["ch_pos"]
    names = list(montage.ch_names)
    extra = [f"E{i:03d}" for i in range(max(0, n_channels - len(names)))]
    names = (names + extra)[:n_channels]
    xyz = np.array([positions.get(n, np.full(3, np.nan)) for n in names], dtype=float)
    return names, xyz


def simulate_eeg_subject(
    age: float,
    *,
    n_channels: int = 64,
    sfreq: float = 250.0,
    duration: float = 300.0,
    seed: int | np.random.SeedSequence = 0,
) -> xr.Dataset:
    """One subject's synthetic resting EEG (see the module docstring).

    Parameters
    ----------
    age : float
        Years; alpha amplitude is ``20 µV * (1.4 - age / 30)`` (floored at 0.2).
    n_channels : int
        BioSemi-64 channels first (positions known), then ``E000``... (no positions).
    sfreq, duration : float
        Sampling rate (Hz) and length (s).
    seed : int or numpy.random.SeedSequence
        Random seed.

    Returns
    -------
    xarray.Dataset
        ``signal(time, channel)`` in volts, channel coords ``ch_type``, ``x``/``y``/``z``
        (m), annotations ``onset``/``duration``/``label`` along ``event``, attrs ``sfreq``.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n_times = round(duration * sfreq)
    names, xyz = _montage(n_channels)
    white = rng.standard_normal((n_channels, n_times)).astype(np.float64)
    background = lfilter([1.0], [1.0, -0.95], white, axis=1) * (20e-6 * np.sqrt(1 - 0.95**2))
    times = np.arange(n_times) / sfreq
    posterior = np.nan_to_num(-xyz[:, 1], nan=0.0)  # y < 0: back of the head
    weight = np.clip(posterior / max(np.nanmax(np.abs(posterior)), 1e-12), 0, 1)
    amplitude = 20e-6 * max(1.4 - age / 30.0, 0.2)
    phase = rng.uniform(0, 2 * np.pi)
    alpha = amplitude * np.sin(2 * np.pi * _ALPHA_HZ * times + phase)
    signal = background + np.outer(weight, alpha)
    onsets = np.arange(0.0, duration, 20.0)
    labels = np.array(["eyes_open" if i % 2 else "eyes_closed" for i in range(onsets.size)])
    return xr.Dataset(
        {
            "signal": (("time", "channel"), signal.T, {"units": "V", "sfreq": float(sfreq)}),
            "onset": ("event", onsets, {"units": "s"}),
            "duration": ("event", np.minimum(20.0, duration - onsets), {"units": "s"}),
            "label": ("event", labels.astype(object)),
        },
        coords={
            "time": ("time", times, {"units": "s"}),
            "channel": ("channel", np.array(names, dtype=object)),
            "ch_type": ("channel", np.array(["eeg"] * n_channels, dtype=object)),
            "x": ("channel", xyz[:, 0], {"units": "m"}),
            "y": ("channel", xyz[:, 1], {"units": "m"}),
            "z": ("channel", xyz[:, 2], {"units": "m"}),
        },
        attrs={"sfreq": float(sfreq)},
    )


def make_eeg_collection(
    root: str | Path,
    n_subjects: int = 20,
    *,
    n_channels: int = 64,
    sfreq: float = 250.0,
    duration: float = 300.0,
    duration_jitter: float = 0.0,
    format: str = "brainvision",
    task: str = "rest",
    seed: int = 0,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """Write a synthetic multi-subject EEG collection as a BIDS-like tree.

    Parameters
    ----------
    root : str or pathlib.Path
        Output folder (created; must not hold a collection unless ``overwrite``).
    n_subjects : int
        Subjects ``sub-001`` ... (ages uniform in 5-21 years, sex F/M).
    n_channels, sfreq, duration : int, float, float
        Channels (BioSemi-64 first), sampling rate (Hz) and length (s) of each recording.
    duration_jitter : float
        Each recording lasts ``duration * (1 - u * duration_jitter)`` with ``u``
        uniform in [0, 1), rounded to whole seconds (0: all equal).
    format : {"brainvision", "edf", "fif"}
        File format (through MNE's writers; EDF is 16-bit, BrainVision float32).
    task : str
        BIDS task label.
    seed : int
        Seeds ages and signals (subject ``i`` uses ``SeedSequence([seed, i])``).
    overwrite : bool
        Replace existing recordings in ``root``.
    progress : bool, optional
        Show a progress bar (after 2 s). None: ``neurodata.config``.

    Returns
    -------
    pathlib.Path
        ``root``, readable with [`neurodata.collections.open_collection`][].
    """
    if format not in EEG_COLLECTION_FORMATS:
        raise SchemaError(
            f"`format` must be one of {sorted(EEG_COLLECTION_FORMATS)}; got {format!r}"
        )
    if n_subjects < 1:
        raise SchemaError(f"`n_subjects` must be >= 1; got {n_subjects!r}")
    root = Path(root)
    if (root / "participants.tsv").exists() and not overwrite:
        raise OutputExistsError(f"{root}: already holds a collection; pass overwrite=True")
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"sub-{i + 1:03d}" for i in range(n_subjects)]
    ages = np.round(rng.uniform(5, 21, n_subjects), 1)
    sexes = rng.choice(["F", "M"], n_subjects)
    lengths = np.round(duration * (1 - rng.uniform(0, 1, n_subjects) * duration_jitter))
    ext = EEG_COLLECTION_FORMATS[format]
    for i in _progress(
        range(n_subjects), desc="writing subjects", enabled=resolve("progress", progress)
    ):
        ds = simulate_eeg_subject(
            float(ages[i]),
            n_channels=n_channels,
            sfreq=sfreq,
            duration=float(lengths[i]),
            seed=np.random.SeedSequence([seed, i]),
        )
        folder = root / ids[i] / "eeg"
        folder.mkdir(parents=True, exist_ok=True)
        save(ds, folder / f"{ids[i]}_task-{task}_eeg{ext}", format=format, overwrite=overwrite)
    table = pd.DataFrame({"participant_id": ids, "age": ages, "sex": sexes})
    table.to_csv(root / "participants.tsv", sep="\t", index=False, na_rep="n/a")
    description = {"Name": "neurodata synthetic EEG collection", "BIDSVersion": "1.9.0"}
    (root / "dataset_description.json").write_text(json.dumps(description, indent=2))
    return root
