"""Frequency tagging against MNE's SSVEP tutorial (psd_array_welch + snr_spectrum).

Same epochs (trial, channel, time) at 256 Hz, 5 s; the tutorial's single-boxcar-segment
PSD and its neighbour SNR (3 neighbours, skip 1) versus neurodata's spectrum() + snr()
on a labelled DataArray. Values are checked equal before timing.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from benchmarks._harness import measure, row


def _tutorial_snr(psd, n=3, skip=1):
    kernel = np.concatenate((np.ones(n), np.zeros(2 * skip + 1), np.ones(n)))
    kernel /= kernel.sum()
    noise = np.apply_along_axis(lambda p: np.convolve(p, kernel, mode="valid"), -1, psd)
    edge = n + skip
    noise = np.pad(noise, [(0, 0)] * (noise.ndim - 1) + [(edge, edge)], constant_values=np.nan)
    return psd / noise


def run(quick: bool) -> list[dict]:
    import mne

    from neurodata.analyses import frequency_tagging as ft

    rng = np.random.default_rng(0)
    sfreq, n = 256.0, 1280
    n_trials, n_channels = (8, 8) if quick else (64, 64)
    x = rng.standard_normal((n_trials, n_channels, n))
    da = xr.DataArray(x, dims=("trial", "channel", "time"),
                      coords={"time": ("time", np.arange(n) / sfreq, {"units": "s"})},
                      attrs={"sfreq": sfreq})  # fmt: skip

    def peer():
        psd, _ = mne.time_frequency.psd_array_welch(
            x, sfreq, fmin=1.0, fmax=90.0, n_fft=n, n_overlap=0, n_per_seg=None,
            window="boxcar", verbose=False,
        )  # fmt: skip
        return _tutorial_snr(psd)

    def ours():
        return ft.snr(ft.spectrum(da, fmin=1.0, fmax=90.0)).values

    np.testing.assert_allclose(ours(), peer(), rtol=1e-8)
    rows = [row(f"SNR spectrum {n_trials}x{n_channels}x{n}", measure(ours), measure(peer),
                "mne psd_array_welch + tutorial snr_spectrum", equal=True)]  # fmt: skip
    n_perm = 50 if quick else 200
    test = measure(lambda: ft.tag_test(da, [13.0, 17.0, 21.0], n_permutations=n_perm, seed=0),
                   repeat=1)  # fmt: skip
    rows.append({"task": f"tag_test {n_perm} permutations (no peer)",
                 "neurodata_s": round(test["seconds"], 3)})  # fmt: skip
    return rows
