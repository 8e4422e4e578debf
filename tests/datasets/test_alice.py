"""The Alice (Brennan et al. 2016) fMRI reader, on the real release (skipped when absent)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neurodata as nd
from neurodata.datasets import alice, load_alice
from neurodata.errors import NotFoundError

ROIS = ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"]


@pytest.fixture(scope="module")
def alice_dir():
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    shared = Path(os.environ.get("NEURODATA_SHARED_DATA", root.parent / "shared" / "data"))
    path = shared / "language" / "alice"
    if not path.is_dir():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="module")
def everyone(alice_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_alice(alice_dir.parent.parent)


def test_shapes_names_and_clock(everyone, alice_dir):
    ds = everyone
    subjects = sorted(p.name.split("-")[0] for p in (alice_dir / "timecourses_6mm").iterdir())
    assert ds["subject"].values.tolist() == subjects
    assert ds["bold"].dims == ("subject", "time", "parcel")
    assert ds.sizes["time"] == 362 and ds["parcel"].values.tolist() == ROIS
    assert ds.attrs["repetition_time"] == 2.0 and ds.attrs["sfreq"] == 0.5
    np.testing.assert_allclose(np.diff(ds["time"]), 2.0)
    assert ds["time"].values[0] == 20.0  # ten discarded volumes of 2 s
    nd.validate(ds, "timeseries")


def test_values_match_the_files(everyone, alice_dir):
    for sid in ("s18", "s39"):
        expected = np.loadtxt(alice_dir / "timecourses_6mm" / f"{sid}-timecourses.txt")
        np.testing.assert_array_equal(everyone["bold"].sel(subject=sid).values, expected)
        rate = np.loadtxt(alice_dir / "subject_regressors" / f"{sid}-rate.txt")
        np.testing.assert_array_equal(everyone["word_rate"].sel(subject=sid), rate)
        motion = np.loadtxt(next((alice_dir / "subject_regressors").glob(f"{sid}-rp_*.txt")))
        np.testing.assert_allclose(everyone["trans_z"].sel(subject=sid), motion[10:, 2] / 1000)
        np.testing.assert_array_equal(everyone["rot_x"].sel(subject=sid), motion[10:, 3])
    predictors = np.loadtxt(alice_dir / alice.PREDICTORS)
    np.testing.assert_array_equal(everyone["predictors"].values, predictors[10:])
    assert everyone["feature"].values.tolist() == list(alice.ALICE_PREDICTORS)
    assert everyone["trans_x"].attrs["units"] == "m" and everyone["rot_x"].attrs["units"] == "rad"


def test_s33_is_flagged_not_zero(alice_dir):
    with pytest.warns(UserWarning, match=r"\['s33'\] have all-zero ROI time courses.*valid=False"):
        ds = load_alice(alice_dir, subjects=["s33", 18])
    assert ds["valid"].values.tolist() == [False, True]
    assert np.isnan(ds["bold"].sel(subject="s33")).all()
    assert np.isfinite(ds["bold"].sel(subject="s18")).all()
    kept = ds.sel(subject=ds["valid"])
    assert kept["subject"].values.tolist() == ["s18"]


def test_words_on_the_scan_clock(everyone, alice_dir):
    words = nd.load(alice_dir / alice.TEXTGRID)
    np.testing.assert_array_equal(everyone["onset"], words["onset"])
    np.testing.assert_array_equal(everyone["text"], words["text"])
    assert everyone.sizes["word"] == 2127
    assert everyone["onset"].min() >= everyone["time"][0]
    assert everyone["offset"].max() <= everyone["time"][-1] + 2.0


def _word_rate_nilearn(onsets, times, dt=0.05):
    """The alignment check, independently of neurodata: nilearn's SPM HRF."""
    from nilearn.glm.first_level import spm_hrf

    grid = np.arange(0.0, times[-1] + dt, dt)
    counts = np.histogram(onsets, bins=np.append(grid, grid[-1] + dt))[0].astype(float)
    hrf = spm_hrf(dt, oversampling=1)
    response = np.convolve(counts, hrf)[: grid.size]
    return np.interp(times, grid, response)


def test_alignment_check_against_word_rate_regressor(everyone):
    pytest.importorskip("nilearn")
    times = everyone["time"].values
    expected = _word_rate_nilearn(everyone["onset"].values, times)
    for sid in everyone["subject"].values:
        r = np.corrcoef(expected, everyone["word_rate"].sel(subject=sid))[0, 1]
        assert r > 0.95, (sid, r)
    assert (everyone["alignment_r"] > 0.95).all()
    # the check can fail: one volume off and the correlation drops
    for shift in (-2.0, 2.0):
        shifted = _word_rate_nilearn(everyone["onset"].values + shift, times)
        r = np.corrcoef(shifted, everyone["word_rate"].sel(subject="s18"))[0, 1]
        assert r < 0.9


def test_found_through_environment_and_subject_numbers(alice_dir, monkeypatch):
    monkeypatch.setenv("NEURODATA_DATA", str(alice_dir.parent.parent))
    ds = load_alice(subjects=22)
    assert ds["subject"].values.tolist() == ["s22"] and ds["valid"].all()
    assert ds["bold"].shape == (1, 362, 6)
    assert alice.find_alice(alice_dir) == alice_dir  # the release folder itself


def test_unknown_subject_and_radius(alice_dir):
    with pytest.raises(NotFoundError, match=r"no subject 's99'; available: \['s18'"):
        load_alice(alice_dir, subjects=["s99"])
    with pytest.raises(
        NotFoundError, match=r"no folder timecourses_10mm; found \['timecourses_6mm'\]"
    ):
        load_alice(alice_dir, radius=10)


def test_absent_data_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURODATA_DATA", raising=False)
    with pytest.raises(
        NotFoundError, match=r"NEURODATA_DATA unset; it is not downloaded automatically"
    ):
        load_alice()
    with pytest.raises(NotFoundError, match=rf"not found in {tmp_path} \(data_dir.*Brennan et al"):
        load_alice(tmp_path)


def test_word_rate_regressor_peaks_after_a_word():
    times = np.arange(0.0, 40.0, 2.0)
    response = alice.word_rate_regressor(np.array([10.0]), times)
    assert times[np.argmax(response)] in (14.0, 16.0)  # SPM HRF peaks ~5 s after onset
    assert response[times < 10.0].max() == 0.0
