"""Frequency tagging: analytic answers, MNE's SSVEP SNR, false-positive rates, real SSVEP."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import signal, stats

from neurodata.analyses import frequency_tagging as ft
from neurodata.analyses import rsa
from tests.conftest import shared_path


def _series(x, sfreq, dims):
    n = x.shape[-1]
    coords = {"time": ("time", np.arange(n) / sfreq, {"units": "s"})}
    return xr.DataArray(x, dims=dims, coords=coords, attrs={"sfreq": float(sfreq)})


def _tutorial_snr(psd, noise_n_neighbor_freqs=1, noise_skip_neighbor_freqs=1):
    """MNE's SSVEP tutorial `snr_spectrum`, written out (the reference definition)."""
    averaging_kernel = np.concatenate(
        (
            np.ones(noise_n_neighbor_freqs),
            np.zeros(2 * noise_skip_neighbor_freqs + 1),
            np.ones(noise_n_neighbor_freqs),
        )
    )
    averaging_kernel /= averaging_kernel.sum()
    mean_noise = np.apply_along_axis(
        lambda psd_: np.convolve(psd_, averaging_kernel, mode="valid"), axis=-1, arr=psd
    )
    edge_width = noise_n_neighbor_freqs + noise_skip_neighbor_freqs
    pad_width = [(0, 0)] * (mean_noise.ndim - 1) + [(edge_width, edge_width)]
    mean_noise = np.pad(mean_noise, pad_width=pad_width, constant_values=np.nan)
    return psd / mean_noise


# ------------------------------------------------------------------ spectra


@pytest.mark.parametrize("window", ["boxcar", "hann"])
def test_amplitude_of_sines_on_exact_bins(window):
    sfreq, n = 16.0, 160
    t = np.arange(n) / sfreq
    x = 3.0 * np.sin(2 * np.pi * 1 * t) + 0.5 * np.cos(2 * np.pi * 2 * t + 0.3) + 7.0
    spec = ft.spectrum(_series(x, sfreq, ("time",)), kind="amplitude", window=window)
    assert spec.frequency.attrs["units"] == "Hz"
    np.testing.assert_allclose(spec.sel(frequency=[1.0, 2.0]).values, [3.0, 0.5], rtol=1e-10)
    assert float(spec.sel(frequency=0.0)) == pytest.approx(0.0, abs=1e-12)  # detrended


def test_power_matches_scipy_periodogram_and_keeps_extra_dims(rng):
    x = rng.standard_normal((2, 3, 200))
    da = _series(x, 100.0, ("layer", "unit", "time"))
    spec = ft.spectrum(da, kind="power", window="hann", n_fft=256)
    f, ref = signal.periodogram(x, fs=100.0, window="hann", nfft=256, detrend="constant")
    assert spec.dims == ("layer", "unit", "frequency")
    np.testing.assert_allclose(spec.frequency.values, f)
    np.testing.assert_allclose(spec.values, ref, rtol=1e-10)
    assert spec.attrs["n_fft"] == 256 and spec.attrs["window"] == "hann"


def test_evoked_keeps_phase_locked_and_frequency_average_keeps_all(rng):
    sfreq, n, n_trials = 20.0, 100, 30
    t = np.arange(n) / sfreq
    locked = np.sin(2 * np.pi * 2 * t)
    free = np.stack([np.sin(2 * np.pi * 3 * t + p) for p in rng.uniform(0, 2 * np.pi, n_trials)])
    da = _series(locked + free, sfreq, ("trial", "time"))
    evoked = ft.spectrum(da, kind="amplitude", average="evoked")
    freq = ft.spectrum(da, kind="amplitude", average="frequency")
    assert float(evoked.sel(frequency=2.0)) == pytest.approx(1.0, rel=1e-6)
    assert float(evoked.sel(frequency=3.0)) < 0.3
    assert float(freq.sel(frequency=3.0)) == pytest.approx(1.0, rel=1e-6)
    itpc = ft.itpc(da)
    assert float(itpc.sel(frequency=2.0)) > 0.99


def test_itpc_of_random_phases_is_small(rng):
    sfreq, n = 10.0, 50
    t = np.arange(n) / sfreq
    x = np.stack([np.sin(2 * np.pi * 1 * t + p) for p in rng.uniform(0, 2 * np.pi, 200)])
    value = float(ft.itpc(_series(x, sfreq, ("trial", "time"))).sel(frequency=1.0))
    assert value < 0.2  # expected ~ sqrt(pi / 800) = 0.06


def test_bin_warnings_and_errors():
    da = _series(np.random.default_rng(1).standard_normal(100), 10.0, ("time",))
    with pytest.warns(UserWarning, match="falls between bins 1 and 1.1 Hz"):
        ft.spectrum(da, frequencies=[1.05])
    with pytest.warns(UserWarning, match="at Nyquist"):
        ft.spectrum(da, frequencies=[5.0])
    with pytest.raises(ValueError, match="above Nyquist"):
        ft.spectrum(da, frequencies=[6.0])
    with pytest.raises(ValueError, match="`n_fft` must be an integer >= the number of samples"):
        ft.spectrum(da, n_fft=50)
    with pytest.raises(
        ValueError, match=r"`kind` must be one of \['amplitude', 'complex', 'power'\]"
    ):
        ft.spectrum(da, kind="psd")
    with pytest.raises(ValueError, match="averages over 'trial', which is not a dim"):
        ft.spectrum(da, average="evoked")
    with pytest.raises(ValueError, match="SNR needs kind='power' or 'amplitude'"):
        ft.snr(ft.spectrum(da, kind="complex"))
    with pytest.raises(ValueError, match="`n_neighbors` must be an integer >= 1"):
        ft.snr(ft.spectrum(da), n_neighbors=0)


# ------------------------------------------------------------------ SNR and z-scores


@pytest.mark.parametrize(("n_neighbors", "n_skip"), [(3, 1), (1, 1), (5, 0), (2, 3)])
def test_snr_equals_mne_ssvep_tutorial(rng, n_neighbors, n_skip):
    mne = pytest.importorskip("mne")
    sfreq, n = 256.0, 1280
    x = rng.standard_normal((4, 3, n))
    x[:, :, :] += np.sin(2 * np.pi * 13 * np.arange(n) / sfreq)
    # the tutorial: one boxcar segment of the whole trial, no overlap
    psd, freqs = mne.time_frequency.psd_array_welch(
        x, sfreq, fmin=1.0, fmax=90.0, n_fft=n, n_overlap=0, n_per_seg=None,
        window="boxcar", verbose=False,
    )  # fmt: skip
    ref = _tutorial_snr(psd, n_neighbors, n_skip)
    spec = ft.spectrum(_series(x, sfreq, ("trial", "channel", "time")), fmin=1.0, fmax=90.0)
    np.testing.assert_allclose(spec.frequency.values, freqs)
    np.testing.assert_allclose(spec.values, psd, rtol=1e-8)
    ours = ft.snr(spec, n_neighbors=n_neighbors, n_skip=n_skip)
    np.testing.assert_allclose(ours.values, ref, rtol=1e-10)  # NaN edges in the same places


def test_zscore_against_neighbours(rng):
    spec = xr.DataArray(rng.gamma(2.0, size=(3, 40)), dims=("channel", "frequency"),
                        coords={"frequency": ("frequency", np.arange(40) * 0.5, {"units": "Hz"})})  # fmt: skip
    z = ft.zscore(spec, n_neighbors=3, n_skip=1)
    k = 20
    neigh = spec.values[:, [k - 4, k - 3, k - 2, k + 2, k + 3, k + 4]]
    expected = (spec.values[:, k] - neigh.mean(1)) / neigh.std(1, ddof=1)
    np.testing.assert_allclose(z.values[:, k], expected)
    assert np.isnan(z.values[:, :4]).all() and np.isnan(z.values[:, -4:]).all()


# ------------------------------------------------------------------ tag_test


@pytest.fixture
def planted(rng):
    """(layer, unit, time) at 16 Hz, 40 s: units 0-3 carry 1, 2 and 4 Hz components."""
    sfreq, n = 16.0, 640
    t = np.arange(n) / sfreq
    x = rng.standard_normal((2, 30, n))
    x[:, :4] += sum(0.6 * np.sin(2 * np.pi * f * t + f) for f in (1.0, 2.0, 4.0))
    da = _series(x, sfreq, ("layer", "unit", "time"))
    return da.assign_coords(layer=["l0", "l1"])


@pytest.mark.parametrize("correction", ["fdr", "maxstat"])
def test_tag_test_finds_planted_components(planted, correction):
    freqs = {"sentence": 1.0, "phrase": 2.0, "word": 4.0}
    res = ft.tag_test(planted, freqs, n_permutations=300, correction=correction, seed=0)
    assert res.snr.dims == ("layer", "unit", "frequency")
    assert list(res.tag.values) == ["sentence", "phrase", "word"]
    assert res.attrs["level"] == 0.05  # the significance level is an attr, the rate names a coord
    assert res.frequency.attrs["units"] == "Hz"
    # SNR is exactly snr(spectrum()) at the tagged bins
    ref = ft.snr(ft.spectrum(planted)).sel(frequency=[1.0, 2.0, 4.0])
    np.testing.assert_allclose(res.snr.values, ref.values, rtol=1e-10)
    # expected SNR of a sine of amplitude A in unit-variance white noise: 1 + A^2 n / 4 on average
    assert float(res.snr.isel(unit=slice(0, 4)).mean()) > 20
    assert bool(res.significant.isel(unit=slice(0, 4)).all())
    assert int(res.significant.isel(unit=slice(4, None)).sum()) <= 1
    np.testing.assert_allclose(res.fraction_significant.values, res.significant.mean("unit").values)
    assert res.attrs["correction"] == correction and res.attrs["n_permutations"] == 300


def test_tag_test_is_seeded(planted):
    a = ft.tag_test(planted, [1.0], n_permutations=50, seed=3)
    b = ft.tag_test(planted, [1.0], n_permutations=50, seed=3)
    xr.testing.assert_identical(a, b)


@pytest.mark.parametrize("correction", ["fdr", "maxstat"])
def test_false_positive_rate_of_pure_noise_is_nominal(correction):
    """Family-wise error over 60 seeds of pure noise (80 tests each) stays at alpha."""
    alpha, n_seeds, hits = 0.1, 60, 0
    for seed in range(n_seeds):
        rng = np.random.default_rng(1000 + seed)
        da = _series(rng.standard_normal((20, 160)), 16.0, ("unit", "time"))
        res = ft.tag_test(da, [1.0, 2.0, 3.0, 4.0], n_permutations=99, correction=correction,
                          level=alpha, seed=seed)  # fmt: skip
        hits += bool(res.significant.any())
    # binomial(60, 0.1): P(X > 12) < 0.01
    assert hits <= 12, f"{hits} of {n_seeds} noise runs had a false positive"


def test_uncorrected_noise_p_values_are_uniform():
    rng = np.random.default_rng(7)
    da = _series(rng.standard_normal((200, 160)), 16.0, ("unit", "time"))
    res = ft.tag_test(da, [1.0, 3.0], n_permutations=199, correction="none", seed=1)
    p = res.p.values.ravel()
    assert stats.kstest(p, "uniform").pvalue > 0.001
    assert 0.02 < (p < 0.05).mean() < 0.09
    assert not bool(res.significant.where(res.p < 0.05, False).sum() < (p < 0.05).sum())


def test_trial_sign_flips_detect_phase_locking_only(rng):
    sfreq, n, n_trials = 16.0, 160, 12
    t = np.arange(n) / sfreq
    noise = rng.standard_normal((n_trials, 5, n))
    locked = noise + 0.8 * np.sin(2 * np.pi * 2 * t)
    free = (
        noise
        + 0.8
        * np.stack([np.sin(2 * np.pi * 2 * t + p) for p in rng.uniform(0, 2 * np.pi, n_trials)])[
            :, None
        ]
    )
    dims = ("trial", "channel", "time")
    kw = dict(average="evoked", shuffle="trials", n_permutations=500, seed=0)
    assert bool(ft.tag_test(_series(locked, sfreq, dims), [2.0], **kw).significant.all())
    res = ft.tag_test(_series(free, sfreq, dims), [2.0], **kw)
    assert not bool(res.significant.any())
    assert float(res.itpc.max()) < 0.8
    # the same data averaged in the frequency domain: the (non-locked) response is there
    freq = ft.tag_test(_series(free, sfreq, dims), [2.0], n_permutations=200, seed=0)
    assert bool(freq.significant.all())


def test_family_corrects_separately(planted):
    res = ft.tag_test(planted, [1.0, 2.0], family=("layer", "unit"), n_permutations=50, seed=0,
                      correction="bonferroni")  # fmt: skip
    p = res.p.sel(frequency=1.0).values.ravel()
    np.testing.assert_allclose(
        res.p_corrected.sel(frequency=1.0).values.ravel(), np.minimum(1, p * p.size)
    )


def test_tag_test_errors(planted):
    with pytest.raises(ValueError, match="`shuffle='trials'` flips trial signs"):
        ft.tag_test(planted, [1.0], shuffle="trials")
    with pytest.raises(
        ValueError, match=r"`correction` must be one of \['bonferroni', 'fdr', 'maxstat'"
    ):
        ft.tag_test(planted, [1.0], correction="holm")
    with pytest.raises(ValueError, match="`family` names dims \\['trial'\\]"):
        ft.tag_test(planted, [1.0], family=("trial",))
    with pytest.raises(ValueError, match="`frequencies` has duplicates"):
        ft.tag_test(planted, [1.0, 1.0])
    with pytest.raises(ValueError, match=r"its noise bins .* run outside"):
        ft.tag_test(planted, [8.0 - 0.025])
    with pytest.raises(ValueError, match=r"`unit_dim` 'channel' is not a dim"):
        ft.tag_test(planted, [1.0], unit_dim="channel")


def test_missing_channel_is_not_tested(planted):
    data = planted.copy()
    data[0, 5] = np.nan
    res = ft.tag_test(data, [1.0], n_permutations=20, seed=0)
    assert np.isnan(float(res.p_corrected[0, 5, 0])) and not bool(res.significant[0, 5, 0])


# ------------------------------------------------------------------ contrasts, decoding, RDMs


def test_contrast_structured_vs_control(rng):
    sfreq, n = 4.0, 40
    t = np.arange(n) / sfreq
    structured = rng.standard_normal((6, 10, n))
    structured[:3] += 1.5 * np.sin(2 * np.pi * 1 * t)
    control = rng.standard_normal((6, 10, n))
    dims = ("unit", "trial", "time")
    res = ft.contrast(_series(structured, sfreq, dims), _series(control, sfreq, dims), [1.0],
                      n_permutations=200, seed=0, n_neighbors=2)  # fmt: skip
    assert bool(res.significant.isel(unit=slice(0, 3)).all())
    assert not bool(res.significant.isel(unit=slice(3, None)).any())
    assert float(res.difference[0, 0]) == pytest.approx(float(res.snr_a[0, 0] - res.snr_b[0, 0]))
    with pytest.raises(ValueError, match="both conditions need a 'trial' dim"):
        ft.contrast(_series(structured[:, 0], sfreq, ("unit", "time")),
                    _series(control[:, 0], sfreq, ("unit", "time")), [1.0])  # fmt: skip


def test_segment_and_classify(rng):
    sfreq = 64.0
    blocks, truth = [], []
    for f in [8.0, 12.0, 8.0, 10.0, 12.0, 10.0]:
        t = np.arange(128) / sfreq
        blocks.append(np.sin(2 * np.pi * f * t) + rng.standard_normal((2, 128)))
        truth.append(f)
    da = _series(np.concatenate(blocks, axis=-1), sfreq, ("channel", "time"))
    epochs = ft.segment(da, 2.0, onsets=np.arange(6) * 2.0, labels=truth)
    assert epochs.dims == ("channel", "trial", "time") and epochs.sizes["time"] == 128
    np.testing.assert_allclose(epochs.onset.values, np.arange(6) * 2.0)
    xr.testing.assert_equal(ft.segment(da, 2.0).drop_vars(["onset"]),
                            epochs.drop_vars(["onset", "label"]))  # fmt: skip
    pred = ft.classify(epochs, [8.0, 10.0, 12.0])
    np.testing.assert_array_equal(pred.values, truth)
    with pytest.raises(ValueError, match="trials \\[0\\] run outside it"):
        ft.segment(da, 2.0, onsets=[-1.0])
    # Labels and onsets given as DataArrays (e.g. an events table's variables) are values.
    events = xr.Dataset({"onset": ("event", np.arange(6) * 2.0), "label": ("event", truth)})
    again = ft.segment(da, 2.0, onsets=events["onset"], labels=events["label"])
    xr.testing.assert_identical(again, epochs)
    with pytest.raises(ValueError, match="one label per trial \\(6\\); got shape \\(5,\\)"):
        ft.segment(da, 2.0, onsets=np.arange(6) * 2.0, labels=truth[:5])


def test_hftp_brain_model_rsa_on_spectra_goes_through_rsa(rng):
    """HFTP's comparison of condition spectra is plain RSA: rdm on stacked spectra, compare."""
    spectra = xr.DataArray(rng.standard_normal((5, 2, 4, 6)),
                           dims=("condition", "layer", "unit", "frequency"),
                           coords={"frequency": ("frequency", np.arange(6.0), {"units": "Hz"})})  # fmt: skip
    rdm = rsa.rdm(spectra.stack(feature=("unit", "frequency")), "condition", "correlation")
    assert rdm.dims == ("layer", "condition", "condition_2")
    ref = 1 - np.corrcoef(spectra.isel(layer=1).values.reshape(5, -1))
    np.testing.assert_allclose(rdm.isel(layer=1).values, ref, atol=1e-12)
    brain = rng.random((3, 5, 5))
    brain = xr.DataArray(
        brain + brain.transpose(0, 2, 1), dims=("channel", "condition", "condition_2")
    )
    brain.values[:, np.arange(5), np.arange(5)] = 0
    sim = rsa.compare(rdm, brain, "spearman")
    assert set(sim.dims) == {"layer", "channel"}
    iu = np.triu_indices(5, 1)
    expected = stats.spearmanr(rdm.isel(layer=0).values[iu], brain.isel(channel=2).values[iu])[0]
    assert float(sim.sel(layer=0, channel=2)) == pytest.approx(expected)


# ------------------------------------------------------------------ real SSVEP recordings

CODES = {2: 13.0, 3: 21.0, 4: 17.0}


def _ssvep_epochs(subject):
    mne = pytest.importorskip("mne")
    raw_path = shared_path("ssvep", f"sub-{subject}_ses-01_raw.fif")
    events = mne.read_events(shared_path("ssvep", f"sub-{subject}_ses-01-eve.fif"), verbose=False)
    raw = mne.io.read_raw_fif(raw_path, preload=True, verbose=False)
    data = _series(raw.get_data(), raw.info["sfreq"], ("channel", "time"))
    data = data.assign_coords(channel=raw.ch_names)
    onsets = (events[:, 0] - raw.first_samp) / raw.info["sfreq"]
    return ft.segment(data, 5.0, onsets=onsets, labels=events[:, 2].tolist())


@pytest.mark.shared_data
def test_ssvep_responsive_subject_decoded_and_tested():
    epochs = _ssvep_epochs("01")
    flicker = epochs.where(epochs.label != 1, drop=True)
    truth = np.array([CODES[int(c)] for c in flicker.label.values])
    pred = ft.classify(flicker, [13.0, 17.0, 21.0])
    accuracy = float((pred.values == truth).mean())
    assert accuracy >= 0.6, accuracy  # chance is 1/3 (24 trials: P(>= 15 by chance) < 0.001)
    for code, freq in ((3, 21.0), (4, 17.0)):
        trials = epochs.where(epochs.label == code, drop=True)
        res = ft.tag_test(trials, [13.0, 17.0, 21.0], n_permutations=200, seed=0)
        assert float(res.fraction_significant.sel(frequency=freq)) >= 0.75


@pytest.mark.shared_data
@pytest.mark.parametrize("subject", ["01", "02"])
def test_ssvep_rest_trials_show_no_tagged_response(subject):
    epochs = _ssvep_epochs(subject)
    rest = epochs.where(epochs.label == 1, drop=True)
    res = ft.tag_test(rest, [13.0, 17.0, 21.0], n_permutations=200, seed=0)
    assert not bool(res.significant.any())


@pytest.mark.shared_data
def test_ssvep_weak_subject_reported_not_significant():
    epochs = _ssvep_epochs("02")
    trials = epochs.where(epochs.label == 4, drop=True)  # 17 Hz flicker
    res = ft.tag_test(trials, [13.0, 17.0, 21.0], n_permutations=200, seed=0)
    assert not bool(res.significant.any())
    flicker = epochs.where(epochs.label != 1, drop=True)
    truth = np.array([CODES[int(c)] for c in flicker.label.values])
    accuracy = float((ft.classify(flicker, [13.0, 17.0, 21.0]).values == truth).mean())
    assert accuracy < 0.6  # weaker than the responsive subject


def test_float32_precision_matches_float64(planted):
    """The float32 permutation engine counts the same null exceedances up to rounding ties."""
    kw = dict(n_permutations=200, seed=5, correction="none")
    a = ft.tag_test(planted, [1.0, 2.0, 4.0], **kw)
    b = ft.tag_test(planted, [1.0, 2.0, 4.0], dtype="float32", **kw)
    xr.testing.assert_identical(a.snr, b.snr)  # the observed statistic is always float64
    step = 1 / 201
    assert np.abs(a.p.values - b.p.values).max() <= step + 1e-12
    assert (a.p.values == b.p.values).mean() > 0.95
    assert b.attrs["dtype"] == "float32"
    with pytest.raises(ValueError, match=r"`dtype` must be one of \['float32', 'float64'\]"):
        ft.tag_test(planted, [1.0], dtype="float16")
