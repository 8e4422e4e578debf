"""Stacking worms with per-worm clocks; linear resampling to a common rate."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st

import neurodata as nd
from neurodata import celegans
from neurodata.errors import SchemaError
from neurodata.loaders.celegans import build_worm


def _worm(worm, times, columns, labels, roi=None):
    traces = np.column_stack([f(np.asarray(times)) for f in columns])
    return build_worm(traces, np.asarray(times, float), worm=worm, labels=labels, roi=roi)


def test_stack_keeps_every_value_and_pads_with_nan():
    a = _worm("a", np.arange(10) * 0.5, [np.sin, np.cos, np.exp], ["AVAL", "", "RIAL"])
    b = _worm("b", np.arange(6) * 0.3, [np.sin, np.cos], ["AVAR", "AVAL"])
    ds = celegans.stack([a, b])
    assert ds.sizes["worm"] == 2 and ds.sizes["time"] == 10
    np.testing.assert_array_equal(ds["activity"].sel(worm="a").values[:10], a["activity"].values[0])
    assert ds["activity"].sel(worm="b", neuron="AVAL").isel(time=slice(6, None)).isnull().all()
    np.testing.assert_allclose(
        ds["timestamps"].sel(worm="b").values, [0, 0.3, 0.6, 0.9, 1.2, 1.5] + [np.nan] * 4
    )
    # ROI 2 of worm a is unplaced; worm b has no unplaced ROI 2
    assert list(ds["roi"].values) == [2]
    assert ds["activity_roi"].sel(worm="b").isnull().all()
    assert ds["roi_label"].sel(worm="b").item() == ""
    assert ds["neuron_uncertain"].dtype == bool
    assert celegans.identified_counts(ds) == {"a": 2, "b": 2}
    assert "stacked 2 worms" in ds.attrs["history"]
    nd.validate(ds, "timeseries")


def test_stack_real_worms(shared_data):
    folder = shared_data / "celegans" / "flavell2023"
    pairs = sorted(folder.glob("*-data.h5"))
    if len(pairs) < 2:
        pytest.skip("Flavell worms not available")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        worms = [
            nd.load(p, labels=folder / p.name.replace("-data.h5", "_neuropal_labels.csv"))
            for p in pairs
        ]
    ds = celegans.stack(worms)
    assert ds.sizes["worm"] == len(pairs)
    for w in worms:
        uid = w["worm"].item()
        np.testing.assert_array_equal(
            ds["activity"].sel(worm=uid).values[: w.sizes["time"]], w["activity"].values[0]
        )
        np.testing.assert_array_equal(
            ds["activity_roi"].sel(worm=uid, roi=w["roi"].values).values[: w.sizes["time"]],
            w["activity_roi"].values[0],
        )
    common = celegans.resample(ds, rate=3.0)
    assert common.attrs["sfreq"] == 3.0
    assert common["activity"].dims == ("worm", "time", "neuron")
    from neurodata.summary import summarize

    counts = summarize(ds)["identified_neurons"]
    assert counts == {w["worm"].item(): w.attrs["n_identified"] for w in worms}


def test_stack_errors():
    a = _worm("a", np.arange(4.0), [np.sin], ["AVAL"])
    with pytest.raises(ValueError, match="worm ids must be unique"):
        celegans.stack([a, a])
    with pytest.raises(ValueError, match="at least one worm"):
        celegans.stack([])
    with pytest.raises(SchemaError, match=r"datasets\[1\]: expected a worm Dataset"):
        celegans.stack([a, xr.Dataset({"x": ("time", [1.0])})])


def test_resample_linear_is_exact_for_lines():
    """Linear interpolation reproduces a linear signal exactly, inside each worm's span."""
    times_a = np.cumsum(np.r_[0, np.random.default_rng(1).uniform(0.5, 0.7, 39)])
    times_b = np.arange(25) * 0.4
    a = _worm("a", times_a, [lambda t: 2 * t + 1], ["AVAL"])
    b = _worm("b", times_b, [lambda t: -t], ["AVAL"])
    out = celegans.resample(celegans.stack([a, b]), rate=3.0)
    grid = out["time"].values
    np.testing.assert_allclose(grid, np.arange(grid.size) / 3.0)
    assert grid[-1] <= times_a[-1] < grid[-1] + 1 / 3.0
    got_a = out["activity"].sel(worm="a", neuron="AVAL").values
    np.testing.assert_allclose(got_a, 2 * grid + 1, rtol=1e-12)
    got_b = out["activity"].sel(worm="b", neuron="AVAL").values
    inside = grid <= times_b[-1]
    np.testing.assert_allclose(got_b[inside], -grid[inside], atol=1e-12)
    assert np.isnan(got_b[~inside]).all()  # never extrapolated
    assert out["time"].attrs["units"] == "s" and "timestamps" not in out.coords
    assert "linear interpolation" in out.attrs["history"]


def test_resample_matches_numpy_interp_and_is_exact_at_samples():
    rng = np.random.default_rng(3)
    times = np.arange(30) * 0.5  # 2 Hz
    values = rng.standard_normal(30)
    ds = _worm("w", times, [lambda t: values], ["AVAL"])
    out = celegans.resample(ds, rate=2.0)
    np.testing.assert_array_equal(out["activity"].sel(neuron="AVAL").values[0], values)
    out = celegans.resample(ds, rate=3.0)
    grid = out["time"].values
    np.testing.assert_allclose(
        out["activity"].sel(neuron="AVAL").values[0], np.interp(grid, times, values), rtol=1e-12
    )


def test_resample_nan_neighbours_stay_nan():
    values = np.array([0.0, 1.0, np.nan, 3.0, 4.0])
    ds = _worm("w", np.arange(5.0), [lambda t: values], ["AVAL"])
    got = celegans.resample(ds, rate=2.0)["activity"].sel(neuron="AVAL").values[0]
    np.testing.assert_allclose(got, [0, 0.5, 1, np.nan, np.nan, np.nan, 3, 3.5, 4])


def test_resample_errors():
    ds = _worm("w", np.arange(5.0), [np.sin], ["AVAL"])
    with pytest.raises(ValueError, match="`rate` must be a positive number"):
        celegans.resample(ds, rate=0)
    with pytest.raises(SchemaError, match="timestamps"):
        celegans.resample(celegans.resample(ds, rate=1.0), rate=2.0)


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(st.floats(0.1, 1.0), min_size=2, max_size=30),
    rate=st.floats(0.5, 5.0),
)
@example(steps=[0.9999999999999999, 0.9999999999999999], rate=1.0)  # last frame 2 - 2e-16 s
def test_resample_stays_within_range(steps, rate):
    """Interpolated values lie between the min and max of the original samples."""
    times = np.r_[0.0, np.cumsum(steps)]
    values = np.sin(3 * times)
    ds = _worm("w", times, [lambda t: values], ["AVAL"])
    got = celegans.resample(ds, rate=rate)["activity"].sel(neuron="AVAL").values[0]
    assert np.nanmin(got) >= values.min() - 1e-12
    assert np.nanmax(got) <= values.max() + 1e-12
    assert not np.isnan(got).any()  # the grid never leaves [0, last frame]
