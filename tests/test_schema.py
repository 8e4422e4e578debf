"""neurodata.schema: conventions, kinds, coercion gates, provenance."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata import schema
from neurodata.errors import SchemaError


def test_valid_recording_passes(eeg_like):
    assert schema.validate(eeg_like) is eeg_like
    assert schema.problems(eeg_like, ["timeseries", "annotations"]) == []


def test_unknown_dim_is_named_with_a_suggestion(eeg_like):
    bad = eeg_like.rename({"time": "Time"})
    with pytest.raises(SchemaError, match=r"synthetic: .*dim 'Time'.*did you mean 'time'"):
        schema.validate(bad)


def test_unknown_dim_without_close_match_lists_choices():
    da = xr.DataArray(np.zeros(3), dims="zzqx")
    with pytest.raises(SchemaError, match=r"dim 'zzqx'.*expected one of \['alpha'"):
        schema.validate(da)


def test_second_axis_suffix_is_allowed():
    da = xr.DataArray(np.zeros((2, 2)), dims=("condition", "condition_2"))
    schema.validate(da, "rdm")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (
            lambda ds: ds.assign_coords(time=("time", ds.time.values, {"units": "h"})),
            r"coordinate 'time' has units 'h'; expected seconds \('s' or no units",
        ),
        (
            lambda ds: ds.assign_coords(time=("time", np.arange(ds.sizes["time"]), {"units": "s"})),
            r"coordinate 'time' has dtype int64; expected float seconds",
        ),
        (
            lambda ds: ds.assign_coords(time=("time", ds.time.values[::-1], {"units": "s"})),
            "not strictly increasing",
        ),
        (lambda ds: ds.drop_vars("time"), "dim 'time' has no coordinate"),
        (
            lambda ds: ds.assign_attrs(sfreq=50.0),
            r"'sfreq' is 50 Hz but coordinate 'time' steps by 0.01 s",
        ),
        (lambda ds: ds.assign_attrs(sfreq=-1.0), "'sfreq' must be a positive number"),
        (
            lambda ds: ds.assign_attrs(start_time="yesterday"),
            "'start_time' must be an ISO-8601 string; got 'yesterday'",
        ),
        (
            lambda ds: ds.assign(signal=ds.signal.assign_attrs(units="a.u.")),
            r"variable 'signal' has units 'a.u.', which is not a physical unit",
        ),
        (lambda ds: ds.assign_coords(channel=["a", "a", "b", "c"]), r"duplicate labels \['a'\]"),
        (
            lambda ds: ds.assign_coords(channel=[1, 2, 3, 4]),
            "coordinate 'channel' has dtype int64; expected string",
        ),
        (
            lambda ds: ds.assign_coords(bad=("channel", [0, 1, 0, 0])),
            "coordinate 'bad' has dtype int64; expected bool",
        ),
        (
            lambda ds: ds.assign_coords(x=("channel", [10.0, 20.0, -30.0, 5.0])),
            r"coordinate 'x' has values up to 30; expected metres",
        ),
    ],
)
def test_convention_breaks_are_named(eeg_like, mutate, match):
    with pytest.raises(SchemaError, match=match):
        schema.validate(mutate(eeg_like))


def test_all_problems_are_collected(eeg_like):
    bad = eeg_like.assign_attrs(start_time="nope", sfreq=-2.0)
    with pytest.raises(SchemaError, match=r"\(and 1 more\)") as info:
        schema.validate(bad)
    assert len(info.value.problems) == 2


def test_per_record_timestamps_with_nan_padding_are_valid():
    stamps = np.array([[0.0, 0.5, 1.0, 1.5], [0.0, 0.3, np.nan, np.nan]])
    da = xr.DataArray(
        np.zeros((2, 4, 3)),
        dims=("worm", "time", "neuron"),
        coords={
            "timestamps": (("worm", "time"), stamps, {"units": "s"}),
            "neuron": ["AVAL", "AVAR", "RIAL"],
        },
    )
    schema.validate(da, "timeseries")


@pytest.mark.parametrize("kind", sorted(schema.KINDS))
def test_every_kind_rejects_an_empty_dataset(kind):
    with pytest.raises(SchemaError):
        schema.validate(xr.Dataset(), kind)


def test_unknown_kind_lists_the_choices(eeg_like):
    with pytest.raises(ValueError, match=r"`kind` must be one of \['activations', 'annotations'"):
        schema.validate(eeg_like, "nope")


def test_rdm_kind_checks_symmetry_and_diagonal():
    mat = np.array([[0.0, 1.0], [2.0, 0.0]])
    da = xr.DataArray(mat, dims=("condition", "condition_2"), name="r")
    with pytest.raises(SchemaError, match="not symmetric"):
        schema.validate(da, "rdm")
    with pytest.raises(SchemaError, match="non-zero diagonal"):
        schema.validate(da.copy(data=np.ones((2, 2))), "rdm")


def test_connectome_kind_requires_symmetric_gap_junctions():
    names = ["AVAL", "AVAR", "RIAL"]
    weight = np.zeros((2, 3, 3))
    weight[0, 0, 1] = 3  # chemical: directed, fine
    weight[1, 0, 2] = 1  # electrical, missing its mirror
    ds = xr.Dataset(
        {"weight": (("synapse_type", "pre", "post"), weight)},
        coords={"synapse_type": ["chemical", "electrical"], "pre": names, "post": names},
    )
    with pytest.raises(SchemaError, match=r"electrical .* must be symmetric"):
        schema.validate(ds, "connectome")
    weight[1, 2, 0] = 1
    schema.validate(ds.assign(weight=(("synapse_type", "pre", "post"), weight)), "connectome")


def test_activations_kind():
    da = xr.DataArray(
        np.zeros((2, 3, 4)), dims=("layer", "word", "unit"), coords={"layer": ["emb", "l1"]}
    )
    assert schema.infer_kinds(da) == ["activations"]
    with pytest.raises(SchemaError, match=r"activations need dims \('layer', <position>, 'unit'\)"):
        schema.validate(da.rename(unit="feature"), "activations")


def test_annotation_kind_checks_durations():
    with pytest.raises(SchemaError, match="negative values"):
        schema.as_annotations({"onset": [0.0, 1.0], "label": ["a", "b"], "duration": [1.0, -1.0]})


# ---- gates -------------------------------------------------------------------------


def test_as_timeseries_from_array_builds_time_and_labels(rng):
    data = rng.standard_normal((50, 3))
    da = schema.as_timeseries(data, dims=("time", "channel"), sfreq=10.0, units="V")
    np.testing.assert_allclose(da.time.values, np.arange(50) / 10.0)
    assert da.time.attrs["units"] == "s"
    assert da.attrs == {"sfreq": 10.0, "units": "V"}
    assert da.channel.values.tolist() == ["0", "1", "2"]
    np.testing.assert_array_equal(da.values, data)


def test_time_without_units_is_seconds_and_sfreq_is_checked_against_it(rng):
    """Almost no xarray user writes units on coordinates: no units means seconds."""
    plain = xr.DataArray(rng.standard_normal((20, 2)), dims=("time", "channel"),
                         coords={"time": np.arange(20) / 10.0, "channel": ["a", "b"]})  # fmt: skip
    schema.validate(plain)  # no units: valid
    da = schema.as_timeseries(plain)
    assert da.time.attrs["units"] == "s"
    np.testing.assert_array_equal(da.time.values, plain.time.values)
    assert "units" not in plain.time.attrs  # the input is not modified
    with pytest.raises(SchemaError, match=r"'sfreq' is 20 Hz but coordinate 'time' steps by 0.1 s"):
        schema.as_timeseries(plain.assign_attrs(sfreq=20.0))


@pytest.mark.parametrize(
    ("units", "factor"), [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1.0)]
)
def test_time_in_ms_or_us_is_converted_to_seconds(units, factor):
    raw = np.arange(10) * 4.0
    da = xr.DataArray(np.zeros(10), dims="time", coords={"time": ("time", raw, {"units": units})})
    for gate in (schema.as_timeseries, schema.as_dataarray):
        out = gate(da)
        assert out.time.attrs["units"] == "s"
        np.testing.assert_allclose(out.time.values, raw * factor)
    assert da.time.attrs["units"] == units


def test_time_as_timedelta_is_converted_to_seconds():
    da = xr.DataArray(np.zeros(4), dims="time",
                      coords={"time": np.array([0, 250, 500, 750], dtype="timedelta64[ms]")})  # fmt: skip
    np.testing.assert_allclose(schema.as_timeseries(da).time.values, [0, 0.25, 0.5, 0.75])


@pytest.mark.parametrize("units", ["h", "samples", "days"])
def test_other_time_units_are_refused_in_one_line(units):
    da = xr.DataArray(
        np.zeros(3), dims="time", coords={"time": ("time", [0.0, 1, 2], {"units": units})}
    )
    with pytest.raises(
        SchemaError, match=rf"coordinate 'time' has units '{units}'; expected one of"
    ):
        schema.as_timeseries(da, name="rec")


def test_integer_time_without_units_is_refused_not_taken_for_seconds():
    da = xr.DataArray(np.zeros(3), dims="time", coords={"time": [0, 1, 2]})
    with pytest.raises(
        SchemaError, match=r"coordinate 'time' has dtype int64; expected float seconds"
    ):
        schema.as_timeseries(da)


@pytest.mark.parametrize(
    ("shape", "dims"),
    [
        ((50,), ("time",)),
        ((3, 50), ("channel", "time")),
        ((4, 3, 50), ("trial", "channel", "time")),
    ],
)
def test_numpy_with_sfreq_is_a_time_series_with_time_last(rng, shape, dims):
    data = rng.standard_normal(shape)
    da = schema.as_timeseries(data, sfreq=25.0)
    assert da.dims == dims and da.attrs["sfreq"] == 25.0
    np.testing.assert_allclose(da.time.values, np.arange(50) / 25.0)
    np.testing.assert_array_equal(da.values, data)


def test_numpy_with_sfreq_works_where_a_time_series_is_expected(rng):
    from neurodata.analyses import frequency_tagging as ft

    t = np.arange(1000) / 100.0
    spec = ft.spectrum(np.sin(2 * np.pi * 7.0 * t), sfreq=100.0)
    assert float(spec.frequency[spec.argmax("frequency")]) == pytest.approx(7.0)


def test_as_timeseries_irregular_times():
    da = schema.as_timeseries([1.0, 2.0, 3.0], dims=("time",), times=[0.0, 0.1, 0.35])
    assert "sfreq" not in da.attrs
    np.testing.assert_array_equal(da.time.values, [0.0, 0.1, 0.35])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"array: a plain array of shape \(4, 2\) needs `dims`"),
        ({"dims": ("time",)}, r"`dims` \('time',\) has 1 names for an array with 2 axes"),
        ({"dims": ("channel", "unit")}, r"`dims` \('channel', 'unit'\) must include 'time'"),
        (
            {"dims": ("time", "channel")},
            r"dim 'time' has no coordinate; pass `sfreq` \(Hz\) or `times`",
        ),
        (
            {"dims": ("time", "channel"), "sfreq": 0.0},
            r"`sfreq` must be a positive number \(Hz\); got 0.0",
        ),
        (
            {"dims": ("time", "channel"), "times": [0, 1]},
            r"`times` has shape \(2,\); expected \(4,\)",
        ),
    ],
)
def test_as_timeseries_errors(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        schema.as_timeseries(np.zeros((4, 2)), **kwargs)


def test_as_dataarray_from_dataset_needs_var(eeg_like):
    with pytest.raises(SchemaError, match=r"holds 4 variables .*pass `var`"):
        schema.as_dataarray(eeg_like)
    with pytest.raises(
        SchemaError,
        match=r"`var` must be one of \['duration', 'label', 'onset', 'signal'\]; got 'x'",
    ):
        schema.as_dataarray(eeg_like, var="x")
    da = schema.as_dataarray(eeg_like, var="signal", dims=("time", "channel"))
    assert da.attrs["start_time"] == eeg_like.attrs["start_time"]  # dataset attrs carried over
    with pytest.raises(
        SchemaError, match=r"expected dims \('time', 'voxel'\).*missing \['voxel'\]"
    ):
        schema.as_dataarray(eeg_like, var="signal", dims=("time", "voxel"))


def test_gates_accept_paths(tmp_path, eeg_like):
    import neurodata as nd

    path = nd.save(eeg_like, tmp_path / "rec.zarr")
    ts = schema.as_timeseries(path, var="signal")
    xr.testing.assert_identical(ts.load().drop_attrs(), eeg_like.signal.drop_attrs())
    ds = schema.as_dataset(path)
    assert set(ds.data_vars) == set(eeg_like.data_vars)


def test_as_annotations_from_frame_keeps_extra_columns_and_overlaps():
    import pandas as pd

    frame = pd.DataFrame(
        {"onset": [1.0, 1.5], "duration": [2.0, 2.0], "label": ["T1", "T2"], "code": [1, 2]}
    )
    ds = schema.as_annotations(frame)
    assert ds.sizes["event"] == 2
    assert ds.label.values.tolist() == ["T1", "T2"]
    assert ds.code.values.tolist() == [1, 2]
    assert ds.onset.attrs["units"] == "s"
    with pytest.raises(SchemaError, match=r"missing \['label'\]"):
        schema.as_annotations({"onset": [1.0]})


def test_provenance_helpers_do_not_mutate(eeg_like):
    stamped = schema.with_provenance(eeg_like, source="/data/x.edf", source_format="edf")
    assert stamped.attrs["source"] == "/data/x.edf"
    assert stamped.attrs["history"] == "read x.edf (edf)"
    again = schema.append_history(stamped, "filtered 1-40 Hz")
    assert again.attrs["history"].splitlines() == ["read x.edf (edf)", "filtered 1-40 Hz"]
    assert stamped.attrs["history"] == "read x.edf (edf)"
    assert eeg_like.attrs["source"] == "synthetic"


def test_loader_output_needs_units_or_long_name():
    from neurodata.schema import problems

    ds = xr.Dataset({"x": ("time", np.zeros(3))}, attrs={"source_format": "EDF"})
    ds = ds.assign_coords(time=("time", np.arange(3.0), {"units": "s"}))
    assert any("neither `units` nor a `long_name`" in p for p in problems(ds))
    ds["x"].attrs["long_name"] = "count, dimensionless"
    assert problems(ds) == []
    unlabelled = xr.Dataset({"x": ("time", np.zeros(3))}).assign_coords(ds.coords)
    assert problems(unlabelled) == []
