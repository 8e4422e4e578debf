"""align() and nuisance_features() against analytic answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata.errors import SchemaError
from neurodata.models.align import (
    ALIGN_METHODS,
    align,
    lanczos_weights,
    nuisance_features,
    sample_times,
)
from neurodata.schema import validate


def _features(onsets, values, n_layers=2):
    """(layer, word, unit) features whose unit 0 holds `values` and unit 1 ones."""
    values = np.asarray(values, dtype=float)
    data = np.stack([values, np.ones_like(values)], axis=-1)[None].repeat(n_layers, 0)
    return xr.DataArray(
        data,
        dims=("layer", "word", "unit"),
        coords={
            "layer": ["embeddings", "block.0"][:n_layers],
            "word": np.arange(len(values)),
            "onset": ("word", np.asarray(onsets, float), {"units": "s"}),
            "text": ("word", ["w"] * len(values)),
        },
        name="activation",
    )


def test_impulses_on_the_sample_grid_are_recovered_exactly():
    # Lanczos kernel is 1 at 0 and 0 at every other multiple of the period
    tr, n = 2.0, 30
    values = np.random.default_rng(0).standard_normal(n)
    out = align(_features(np.arange(n) * tr + 10, values), tr=tr, n_samples=n, start=10)
    assert out.dims == ("layer", "time", "unit")
    np.testing.assert_allclose(out.sel(unit=0).values, np.tile(values, (2, 1)), atol=1e-12)
    np.testing.assert_allclose(out["time"].values, 10 + tr * np.arange(n))
    assert out.attrs["sfreq"] == pytest.approx(0.5)
    validate(out)


def test_dense_impulse_train_gives_rate_times_period():
    # impulses every 0.1 s (10 Hz) resampled to TR 2 s: each sample sums ~20 impulses
    tr, rate = 2.0, 10.0
    onsets = np.arange(0, 200, 1 / rate)
    out = align(_features(onsets, np.ones_like(onsets), 1), tr=tr, n_samples=100)
    middle = out.sel(unit=0).values[0, 10:-10]
    np.testing.assert_allclose(middle, rate * tr, rtol=0.02)


def test_lanczos_weights_match_huth_formula():
    onsets, times = np.array([0.3, 1.7, 5.0]), np.arange(0, 10, 2.0)
    w = lanczos_weights(onsets, times, window=3)
    t = (times[:, None] - onsets[None]) / 2.0
    expected = np.sinc(t) * np.sinc(t / 3) * (np.abs(t) <= 3)
    np.testing.assert_allclose(w, expected, atol=1e-12)


def test_binning_sum_and_mean():
    onsets = [0.0, 0.5, 1.9, 2.0, 7.5]
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    feats = _features(onsets, values, 1)
    total = align(feats, tr=2.0, n_samples=4, method="sum").sel(unit=0).values[0]
    np.testing.assert_allclose(total, [6.0, 4.0, 0.0, 5.0])  # bins [0,2) [2,4) [4,6) [6,8)
    mean = align(feats, tr=2.0, n_samples=4, method="mean").sel(unit=0).values[0]
    np.testing.assert_allclose(mean, [2.0, 4.0, 0.0, 5.0])
    marked = align(feats, tr=2.0, n_samples=4, method="mean", empty=np.nan)
    assert np.isnan(marked.sel(unit=0).values[0, 2])


def test_fir_delays_are_zero_padded_shifts():
    tr, n = 1.0, 8
    values = np.arange(1.0, n + 1)
    out = align(_features(np.arange(n) * tr, values, 1), tr=tr, n_samples=n, delays=[0, 1, 3, -1])
    assert out.dims == ("layer", "time", "delay", "unit")
    x = out.sel(unit=0).values[0]
    np.testing.assert_allclose(x[:, 0], values, atol=1e-12)
    np.testing.assert_allclose(x[:, 1], [0, *values[:-1]], atol=1e-12)
    np.testing.assert_allclose(x[:, 2], [0, 0, 0, *values[:-3]], atol=1e-12)
    np.testing.assert_allclose(x[:, 3], [*values[1:], 0], atol=1e-12)  # not circular
    np.testing.assert_allclose(out["delay_time"].values, [0.0, 1.0, 3.0, -1.0])


def test_dataset_in_dataset_out_and_times_from_a_recording():
    feats = _features([0.5, 1.5, 2.5], [1.0, 2.0, 3.0]).to_dataset()
    bold = xr.DataArray(
        np.zeros((5, 2)),
        dims=("time", "parcel"),
        coords={"time": ("time", np.arange(5) * 1.5, {"units": "s"})},
    )
    out = align(feats, bold, method="sum")
    assert isinstance(out, xr.Dataset)
    assert out["activation"].dims == ("layer", "time", "unit")
    np.testing.assert_array_equal(out["time"].values, bold["time"].values)
    assert "align(method='sum'" in out.attrs["history"]


@settings(max_examples=25, deadline=None)
@given(
    onsets=st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=30),
    method=st.sampled_from(sorted(ALIGN_METHODS)),
)
def test_align_is_linear_in_the_features(onsets, method):
    onsets = np.sort(onsets)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(onsets.size), rng.standard_normal(onsets.size)
    fa, fb = _features(onsets, a, 1), _features(onsets, b, 1)
    fab = _features(onsets, 2 * a - b, 1)
    kw = {"tr": 2.0, "n_samples": 30, "method": method}
    lhs = align(fab, **kw).sel(unit=0).values
    rhs = 2 * align(fa, **kw).sel(unit=0).values - align(fb, **kw).sel(unit=0).values
    np.testing.assert_allclose(lhs, rhs, atol=1e-9)


def test_nuisance_features():
    words = xr.Dataset(
        {
            "text": ("word", ["Alice", "was", "tired", "."]),
            "onset": ("word", [0.0, 0.5, 2.5, 3.0], {"units": "s"}),
            "offset": ("word", [0.5, 1.0, 3.0, 3.5], {"units": "s"}),
        }
    )
    out = nuisance_features(words, tr=2.0, n_samples=3)
    assert out.dims == ("time", "feature")
    np.testing.assert_allclose(out.sel(feature="word_rate"), [2, 2, 0])
    np.testing.assert_allclose(out.sel(feature="letter_rate"), [8, 5, 0])
    np.testing.assert_allclose(out.sel(feature="speech_fraction"), [0.5, 0.5, 0.0])
    delayed = nuisance_features(words, tr=2.0, n_samples=3, features=["word_rate"], delays=[1])
    np.testing.assert_allclose(delayed.values[:, 0, 0], [0, 2, 2])


def test_errors():
    feats = _features([0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`method` must be one of \['lanczos', 'mean', 'sum'\]"):
        align(feats, tr=1.0, n_samples=3, method="cubic")
    with pytest.raises(ValueError, match="give the sample times"):
        align(feats)
    with pytest.raises(SchemaError, match="strictly increasing"):
        sample_times([0.0, 2.0, 1.0])
    untimed = feats.assign_coords(onset=("word", [0.0, np.nan]))
    with pytest.raises(SchemaError, match="1 missing values"):
        align(untimed, tr=1.0, n_samples=3)
    with pytest.raises(SchemaError, match="no 'onset'"):
        align(feats.drop_vars("onset"), tr=1.0, n_samples=3)
    with pytest.raises(ValueError, match="`delays` must be distinct"):
        align(feats, tr=1.0, n_samples=3, delays=[1, 1])
    with pytest.raises(ValueError, match=r"`features` must be one of"):
        nuisance_features(["a"], tr=1.0, n_samples=2, features=["pitch"])
