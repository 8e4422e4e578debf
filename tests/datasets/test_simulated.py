"""Simulated language fMRI: known answers for the demo."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata import schema
from neurodata.datasets.simulated import canonical_hrf, simulate_bold, story


def test_story_is_seeded_and_timed():
    a, b, c = story(300, seed=1), story(300, seed=1), story(300, seed=2)
    xr.testing.assert_identical(a, b)
    assert a.text.values.tolist() != c.text.values.tolist()
    assert a.sizes["word"] == 300
    assert np.all(np.diff(a.onset.values) > 0)
    assert np.all(a.offset.values > a.onset.values)
    assert np.all(a.onset.values[1:] >= a.offset.values[:-1] - 1e-12)  # no overlapping words
    rate = 300 / (a.offset.values[-1] - a.onset.values[0])
    assert 2.0 < rate < 3.0


def test_story_errors():
    with pytest.raises(ValueError, match=r"`n_words` must be >= 1; got 0"):
        story(0)
    with pytest.raises(ValueError, match=r"`rate` must be > 0 words/s; got -1"):
        story(10, rate=-1)


def test_canonical_hrf_peaks_near_five_seconds():
    sfreq = 10.0
    hrf = canonical_hrf(sfreq)
    assert hrf.sum() == pytest.approx(1.0)
    assert np.argmax(hrf) / sfreq == pytest.approx(5.0, abs=0.15)
    assert hrf[int(15 * sfreq)] < 0  # undershoot


@pytest.mark.parametrize("snr", [0.5, 2.0])
def test_simulated_bold_follows_snr(snr):
    words = story(1500, seed=0)
    feats = xr.DataArray(
        np.random.default_rng(1).standard_normal((1500, 20)), dims=("word", "unit")
    )
    ds = simulate_bold(feats, words, snr=snr, drift=0.0, ar=0.0, n_subjects=2, seed=3)
    schema.validate(ds, "timeseries")
    assert ds.bold.dims == ("subject", "time", "parcel")
    # with white noise and no drift, corr(bold, signal) = snr / sqrt(1 + snr^2)
    expected = snr / np.sqrt(1 + snr**2)
    for s in range(2):
        r = [np.corrcoef(ds.bold.values[s, :, p], ds.signal.values[:, p])[0, 1] for p in range(6)]
        assert np.mean(r) == pytest.approx(expected, abs=0.08)
    # the noise differs between subjects, the signal does not
    assert not np.allclose(ds.bold.values[0], ds.bold.values[1])


def test_simulated_bold_lags_the_words():
    words = story(800, seed=0)
    feats = xr.DataArray(np.ones((800, 1)) + np.arange(800)[:, None] % 7, dims=("word", "unit"))
    ds = simulate_bold(feats, words, snr=1e6, drift=0.0, ar=0.0, tr=1.0, seed=0, n_parcels=1)
    # the response to the first word (at 0.5 s) peaks about 5 s later
    assert ds.time.values[np.argmax(np.abs(ds.signal.values[:12, 0]))] > 3.0


def test_simulate_bold_errors():
    words = story(10)
    feats = xr.DataArray(np.zeros((9, 3)), dims=("word", "unit"))
    with pytest.raises(ValueError, match="`features` has 9 words but `words` has 10"):
        simulate_bold(feats, words)
    with pytest.raises(ValueError, match="`parcel_names` has 1 names for 6 parcels"):
        simulate_bold(feats.pad(word=(0, 1), constant_values=0.0), words, parcel_names=["a"])


def test_low_dimensional_readout():
    words = story(600, seed=0)
    rng = np.random.default_rng(2)
    feats = xr.DataArray(rng.standard_normal((600, 30)), dims=("word", "unit"))
    ds = simulate_bold(
        feats, words, n_components=3, n_parcels=8, snr=1e6, drift=0.0, ar=0.0, seed=0
    )
    # 8 parcels driven by 3 components: the noise-free signal has rank 3
    sv = np.linalg.svd(ds.signal.values - ds.signal.values.mean(0), compute_uv=False)
    assert sv[3] / sv[0] < 1e-6 < sv[2] / sv[0]
    assert ds.attrs["n_components"] == 3
    with pytest.raises(ValueError, match=r"`n_components` must be in \[1, 30\]; got 31"):
        simulate_bold(feats, words, n_components=31)
