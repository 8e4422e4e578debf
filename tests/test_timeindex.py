"""The computed ``time`` index selects, aligns and concatenates like a pandas index
of the same values (pandas is the oracle)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodata._timeindex import SampleIndex, time_coords
from neurodata.errors import NeurodataError, SelectionError

SFREQS = [256.0, 500.0, 1000.0 / 3, 1.7]


def _pair(n: int, sfreq: float) -> tuple[xr.Dataset, xr.Dataset]:
    """The same data with the computed index and with a pandas index of np.arange(n) / sfreq."""
    values = np.random.default_rng(0).standard_normal((n, 2))
    ours = xr.Dataset({"s": (("time", "ch"), values)}, coords=time_coords(n, sfreq))
    times = np.arange(n) / sfreq
    ref = xr.Dataset(
        {"s": (("time", "ch"), values)}, coords={"time": ("time", times, {"units": "s"})}
    )
    return ours, ref


def _same(ours: xr.Dataset, ref: xr.Dataset) -> None:
    xr.testing.assert_equal(ours, ref)
    np.testing.assert_array_equal(ours["time"].values, ref["time"].values)  # bit for bit
    assert ours["time"].attrs == ref["time"].attrs


@pytest.mark.parametrize("sfreq", SFREQS)
def test_values_are_arange_over_sfreq(sfreq):
    ours, ref = _pair(2000, sfreq)
    _same(ours, ref)
    assert isinstance(ours.xindexes["time"], SampleIndex)
    assert ours["time"].attrs == {"units": "s"}


@pytest.mark.parametrize("sfreq", SFREQS)
@pytest.mark.parametrize(
    "label",
    [
        slice(1.0, 2.0),
        slice(None, 0.5),
        slice(3.0, None),
        slice(0.0011, 0.0049),
        slice(-5, 1e6),
        slice(3.0, 2.0),
        slice(1.0, 2.0, 3),
        slice(None, None),
    ],
    ids=str,
)
def test_slices_include_both_ends_like_pandas(sfreq, label):
    ours, ref = _pair(2000, sfreq)
    picked = ours.sel(time=label)
    _same(picked, ref.sel(time=label))
    assert isinstance(picked.xindexes["time"], SampleIndex)  # still computed, not stored


def test_slice_end_on_a_sample_is_included():
    ours, _ = _pair(1000, 100.0)
    assert ours.sel(time=slice(1.0, 2.0)).sizes["time"] == 101
    assert float(ours.sel(time=slice(1.0, 2.0))["time"][-1]) == 2.0
    assert ours.sel(time=slice(0.1 * 3, 0.7)).sizes["time"] == 41  # 0.30000000000000004 is 0.3


@settings(max_examples=60, deadline=None)
@given(
    sfreq=st.sampled_from(SFREQS),
    a=st.floats(-2, 30, allow_nan=False),
    b=st.floats(-2, 30, allow_nan=False),
)
def test_any_slice_selects_what_pandas_selects(sfreq, a, b):
    ours, ref = _pair(3000, sfreq)
    expected = ref.sel(time=slice(a, b))
    got = ours.sel(time=slice(a, b))
    # pandas compares floats exactly; the computed index forgives a millionth of a sample
    if got.sizes["time"] != expected.sizes["time"]:
        edges = np.array([a, b]) * sfreq
        assert np.min(np.abs(edges - np.rint(edges))) <= 1e-6
    else:
        _same(got, expected)


@pytest.mark.parametrize("sfreq", SFREQS)
def test_scalar_and_array_labels_like_pandas(sfreq):
    ours, ref = _pair(2000, sfreq)
    times = ref["time"].values
    for label in [times[7], times[[3, 9, 4]], xr.DataArray(times[[1, 2]], dims="pick")]:
        _same(ours.sel(time=label), ref.sel(time=label))


@pytest.mark.parametrize("method", ["nearest", "pad", "ffill", "backfill", "bfill"])
def test_methods_and_tolerance_like_pandas(method):
    ours, ref = _pair(2000, 500.0)
    labels = np.array([0.0011, 0.5, 1.2345, 3.9])
    _same(ours.sel(time=labels, method=method), ref.sel(time=labels, method=method))
    _same(ours.sel(time=1.2345, method=method), ref.sel(time=1.2345, method=method))
    tol = ref.sel(time=labels, method=method, tolerance=0.0016)
    _same(ours.sel(time=labels, method=method, tolerance=0.0016), tol)
    with pytest.raises(KeyError):
        ref.sel(time=[0.0011], method=method, tolerance=1e-5)
    with pytest.raises(SelectionError, match="none found with method="):
        ours.sel(time=[0.0011], method=method, tolerance=1e-5)


def test_nearest_beyond_the_ends_clips_like_pandas():
    ours, ref = _pair(100, 10.0)
    _same(
        ours.sel(time=[-3.0, 50.0], method="nearest"), ref.sel(time=[-3.0, 50.0], method="nearest")
    )


def test_label_between_samples_is_a_typed_key_error():
    ours, _ = _pair(2000, 500.0)
    with pytest.raises(SelectionError, match=r"sel\(time=\[0.0011\]\): not sample times") as info:
        ours.sel(time=0.0011)
    assert isinstance(info.value, KeyError) and isinstance(info.value, NeurodataError)
    assert "500 Hz, 0 to 3.998 s" in str(info.value) and "method='nearest'" in str(info.value)
    with pytest.raises(SelectionError, match="not sample times"):
        ours.sel(time=10.0)  # past the end
    with pytest.raises(SelectionError, match="labels are seconds"):
        ours.sel(time="1 s")
    with pytest.raises(SelectionError, match="step counts samples"):
        ours.sel(time=slice(0, 1, 0.5))
    with pytest.raises(ValueError, match=r"`method` must be one of \['backfill'"):
        ours.sel(time=1.0, method="closest")
    with pytest.raises(NotImplementedError, match="slice objects"):
        ours.sel(time=slice(0, 1), method="nearest")


@pytest.mark.parametrize(
    "key", [slice(10, 400, 7), slice(None, None, -1), slice(-50, None), [4, 1, 9], 17], ids=str
)
def test_isel_like_pandas(key):
    ours, ref = _pair(1000, 256.0)
    _same(ours.isel(time=key), ref.isel(time=key))


def test_reversed_index_slices_like_pandas():
    ours, ref = _pair(1000, 256.0)
    backwards = slice(None, None, -1)
    _same(
        ours.isel(time=backwards).sel(time=slice(3, 2)),
        ref.isel(time=backwards).sel(time=slice(3, 2)),
    )


@pytest.mark.parametrize("join", ["inner", "outer", "left", "right"])
@pytest.mark.parametrize("second", [slice(50, 200), slice(300, 400), slice(0, 100, 2)], ids=str)
def test_alignment_like_pandas(join, second):
    ours, ref = _pair(1000, 256.0)
    got = xr.align(ours.isel(time=slice(0, 100)), ours.isel(time=second), join=join)
    expected = xr.align(ref.isel(time=slice(0, 100)), ref.isel(time=second), join=join)
    for a, b in zip(got, expected, strict=True):
        _same(a, b)


def test_arithmetic_with_the_same_grid_keeps_the_index():
    ours, ref = _pair(1000, 256.0)
    total = ours.isel(time=slice(0, 600)) + ours.isel(time=slice(400, 1000))
    _same(total, ref.isel(time=slice(0, 600)) + ref.isel(time=slice(400, 1000)))
    assert isinstance(total.xindexes["time"], SampleIndex)
    _same(ours + ref, ref + ref)  # equal labels under a pandas index: no conflict


@pytest.mark.parametrize("second", [slice(100, 300), slice(200, 300)], ids=str)
def test_concat_like_pandas(second):
    ours, ref = _pair(1000, 256.0)
    got = xr.concat([ours.isel(time=slice(0, 100)), ours.isel(time=second)], "time")
    _same(got, xr.concat([ref.isel(time=slice(0, 100)), ref.isel(time=second)], "time"))
    contiguous = second.start == 100
    assert isinstance(got.xindexes["time"], SampleIndex) is contiguous


def test_stacking_along_a_new_dim_and_pickling():
    ours, ref = _pair(500, 256.0)
    _same(xr.concat([ours, ours], "subject"), xr.concat([ref, ref], "subject"))
    _same(pickle.loads(pickle.dumps(ours)), ref)
    assert ours.indexes["time"].equals(ref.indexes["time"])  # the pandas view


def test_other_xarray_operations_agree():
    ours, ref = _pair(1000, 256.0)
    _same(ours.interp(time=[0.0015, 1.2]), ref.interp(time=[0.0015, 1.2]))
    _same(ours.rolling(time=5).mean(), ref.rolling(time=5).mean())
    _same(ours.coarsen(time=10).mean(), ref.coarsen(time=10).mean())
    _same(ours.rename(time="t").rename(t="time"), ref)
    assert "SampleIndex (sfreq=256 Hz" in repr(ours)


def test_built_only_from_a_rate():
    ours, _ = _pair(10, 256.0)
    with pytest.raises(NotImplementedError, match="built from a sampling rate"):
        ours.drop_indexes("time").set_xindex("time", SampleIndex)
