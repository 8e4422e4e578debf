"""Generated recordings for the loader tests (written into tmp_path, never committed)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

SFREQ = 256.0

#: The real EEG/iEEG recordings of ../shared/data read by read_eeg (conformance, round trips).
REAL_EEG = [
    "eeg/bv_dig_test.vhdr",
    "eeg/openbci_sleep.bdf",
    "eeg/physionet_motor_imagery.edf",
    "eeg/test_raw.set",
    "eeg/test_utf8_annotations.edf",
    "ieeg/sample_ecog_ieeg.fif",
    "ieeg/sub-pt1_ses-02_task-monitor_acq-ecog_run-01_clip2.lay",
    "ssvep/sub-01_ses-01_raw.fif",
    "ssvep/sub-02_ses-01_raw.fif",
]
NAMES = ["Fp1", "Fz", "Cz", "Pz", "O1", "Stim"]
TYPES = ["eeg", "eeg", "eeg", "eeg", "eeg", "misc"]


def make_raw(n_seconds: float = 4.0, seed: int = 0):
    """A small RawArray (volts) with overlapping and UTF-8 annotations, a bad channel."""
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(seed)
    n = int(n_seconds * SFREQ)
    t = np.arange(n) / SFREQ
    data = rng.standard_normal((len(NAMES), n)) * 20e-6
    data[2] += 50e-6 * np.sin(2 * np.pi * 10 * t)
    info = mne.create_info(NAMES, SFREQ, TYPES, verbose="ERROR")
    raw = mne.io.RawArray(data, info, verbose="ERROR")
    raw.set_meas_date(1_600_000_000)
    raw.info["bads"] = ["O1"]
    raw.set_annotations(
        mne.Annotations(
            [0.5, 1.0, 1.2, 2.5],
            [1.0, 0.5, 0.5, 0.0],
            ["stim/a", "stim/ä", "resp", "仰卧"],
            orig_time=raw.info["meas_date"],
        )
    )
    return raw


def export(raw, path: Path) -> Path:
    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.suffix == ".fif":
            raw.save(path, overwrite=True, verbose="ERROR", fmt="double")
        else:
            mne.export.export_raw(path, raw, overwrite=True, verbose="ERROR")
    return path


@pytest.fixture
def raw():
    return make_raw()


@pytest.fixture
def edf_bytes(tmp_path_factory) -> bytes:
    """The bytes of a small generated EDF+ file (3 s)."""
    path = tmp_path_factory.mktemp("edf") / "base.edf"
    return export(make_raw(n_seconds=3.0), path).read_bytes()


@pytest.fixture
def edf_file(tmp_path, raw) -> Path:
    return export(raw, tmp_path / "rec.edf")


@pytest.fixture
def vhdr_file(tmp_path, raw) -> Path:
    return export(raw, tmp_path / "rec.vhdr")


@pytest.fixture
def fif_file(tmp_path, raw) -> Path:
    return export(raw, tmp_path / "rec_raw.fif")


@pytest.fixture
def mixed_rate_edf(tmp_path) -> Path:
    """EDF with EEG at 256 Hz and a temperature channel at 32 Hz (10 s)."""
    edfio = pytest.importorskip("edfio")
    rng = np.random.default_rng(1)
    signals = [
        edfio.EdfSignal(rng.standard_normal(2560) * 20, 256, label="Fp1", physical_dimension="uV"),
        edfio.EdfSignal(rng.standard_normal(2560) * 20, 256, label="Cz", physical_dimension="uV"),
        edfio.EdfSignal(36 + rng.standard_normal(320) * 0.1, 32, label="Temp", physical_dimension="uV"),
    ]  # fmt: skip
    path = tmp_path / "mixed.edf"
    edfio.Edf(signals).write(path)
    return path


@pytest.fixture
def spy_signal_reads(monkeypatch):
    """Call to start recording the keys of every read of an MNE-backed signal; returns the list."""
    from neurodata.loaders import _eeg_lazy

    def start() -> list:
        reads: list = []
        original = _eeg_lazy._RawArray.__getitem__

        def spy(self, key):
            reads.append(key)
            return original(self, key)

        monkeypatch.setattr(_eeg_lazy._RawArray, "__getitem__", spy)
        return reads

    return start
