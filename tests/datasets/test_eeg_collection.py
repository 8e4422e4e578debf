"""The synthetic multi-subject EEG collection: real files, participants, a planted effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurodata.datasets.eeg_collection import make_eeg_collection, simulate_eeg_subject
from neurodata.errors import OutputExistsError

mne = pytest.importorskip("mne")


def _alpha_power(x: np.ndarray, sfreq: float) -> np.ndarray:
    from scipy.signal import welch

    freqs, psd = welch(x, fs=sfreq, nperseg=int(2 * sfreq), axis=-1)
    return psd[..., (freqs >= 8) & (freqs <= 12)].mean(axis=-1)


def test_subject_is_seeded_in_volts_with_posterior_alpha_falling_with_age():
    young = simulate_eeg_subject(6.0, n_channels=64, duration=20.0, seed=1)
    again = simulate_eeg_subject(6.0, n_channels=64, duration=20.0, seed=1)
    old = simulate_eeg_subject(20.0, n_channels=64, duration=20.0, seed=1)
    np.testing.assert_array_equal(young["signal"], again["signal"])
    assert young["signal"].attrs["units"] == "V"
    assert 5e-6 < float(young["signal"].std()) < 1e-4  # EEG-sized
    oz = young["channel"].values.tolist().index("Oz")
    fp1 = young["channel"].values.tolist().index("Fp1")
    p_young = _alpha_power(young["signal"].values.T, 250.0)
    p_old = _alpha_power(old["signal"].values.T, 250.0)
    assert p_young[oz] > 3 * p_young[fp1]  # posterior alpha
    assert p_young[oz] > 2 * p_old[oz]  # falls with age


@pytest.mark.parametrize("fmt", ["brainvision", "edf", "fif"])
def test_collection_files_are_real_recordings(tmp_path, fmt):
    root = make_eeg_collection(tmp_path / fmt, 2, n_channels=4, duration=4.0, format=fmt)
    table = pd.read_csv(root / "participants.tsv", sep="\t")
    assert table["participant_id"].tolist() == ["sub-001", "sub-002"]
    assert {"age", "sex"} <= set(table.columns)
    ext = {"brainvision": ".vhdr", "edf": ".edf", "fif": ".fif"}[fmt]
    typed = {"infer_types": True} if fmt == "edf" else {}  # EDF+ labels say "EEG Fp1"
    path = root / "sub-002" / "eeg" / f"sub-002_task-rest_eeg{ext}"
    raw = mne.io.read_raw(path, verbose="ERROR", **typed)
    assert raw.ch_names == ["Fp1", "AF7", "AF3", "F1"]
    assert raw.info["sfreq"] == 250.0 and raw.n_times == 1000
    assert (root / "dataset_description.json").is_file()
    with pytest.raises(OutputExistsError, match="already holds a collection"):
        make_eeg_collection(root, 2, n_channels=4, duration=4.0, format=fmt)


def test_duration_jitter_and_errors(tmp_path):
    root = make_eeg_collection(tmp_path, 3, n_channels=2, duration=10.0, duration_jitter=0.5)
    lengths = {
        mne.io.read_raw(p, verbose="ERROR").n_times for p in sorted(root.glob("sub-*/eeg/*.vhdr"))
    }
    assert len(lengths) > 1 and all(1250 <= n <= 2500 for n in lengths)
    with pytest.raises(ValueError, match=r"`format` must be one of \['brainvision'"):
        make_eeg_collection(tmp_path / "x", 1, format="gdf")
