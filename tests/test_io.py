"""neurodata.io: lossless, atomic, lazy stores and the format dispatch of load()."""

from __future__ import annotations

import math
import warnings

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurodata as nd
from neurodata import io
from neurodata.errors import FormatError, NotFoundError, OutputExistsError

FORMATS = {"zarr": ".zarr", "netcdf": ".nc"}


def _assert_same(a, b):
    """Identical values, dtypes, coords and attrs (NaN == NaN, also nested in attrs)."""
    assert type(a) is type(b)
    xr.testing.assert_identical(_drop_all_attrs(a), _drop_all_attrs(b))
    names = list(a.variables) if isinstance(a, xr.Dataset) else [None, *a.coords]
    for name in names:
        va = a.variable if name is None else a[name].variable
        vb = b.variable if name is None else b[name].variable
        assert va.dtype == vb.dtype, name
        _assert_value_equal(va.attrs, vb.attrs)
    _assert_value_equal(a.attrs, b.attrs)
    if isinstance(a, xr.DataArray):
        assert a.name == b.name


def _drop_all_attrs(obj):
    obj = obj.copy(deep=False)
    obj.attrs = {}
    for name in obj.coords:
        obj[name].attrs = {}
    if isinstance(obj, xr.Dataset):
        for name in obj.data_vars:
            obj[name].attrs = {}
    return obj


def _assert_value_equal(u, v):
    assert type(u) is type(v), (u, v)
    if isinstance(u, dict):
        assert list(u) == list(v)
        for key in u:
            _assert_value_equal(u[key], v[key])
    elif isinstance(u, list):
        assert len(u) == len(v)
        for x, y in zip(u, v, strict=True):
            _assert_value_equal(x, y)
    elif isinstance(u, np.ndarray):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)
    elif isinstance(u, float) and math.isnan(u):
        assert math.isnan(v)
    else:
        assert u == v


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip_recording(tmp_path, eeg_like, fmt):
    eeg_like = eeg_like.assign_attrs(
        nested={"a": [1, 2.5, None], "b": True},
        flag=False,
        empty=None,
        arr=np.arange(3, dtype="int16"),
        nan=float("nan"),
        n=3,
        scalar=np.float32(1.5),
        text="naïve ✓",
    )
    eeg_like["signal"][0, 0] = np.nan
    path = nd.save(eeg_like, tmp_path / f"rec{FORMATS[fmt]}")
    back = nd.open(path)
    assert back.signal.chunks is not None  # lazy
    _assert_same(eeg_like, back.load())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_dataarray_round_trip(tmp_path, eeg_like, fmt):
    for da in (eeg_like.signal, eeg_like.signal.rename(None)):
        path = tmp_path / f"{da.name}{FORMATS[fmt]}"
        nd.save(da, path)
        back = nd.open(path)
        assert isinstance(back, xr.DataArray)
        _assert_same(da, back.load())


def test_zarr_netcdf_zarr_is_identical(tmp_path, eeg_like):
    nd.save(eeg_like, tmp_path / "a.zarr")
    nd.save(nd.open(tmp_path / "a.zarr"), tmp_path / "b.nc")
    nd.save(nd.open(tmp_path / "b.nc"), tmp_path / "c.zarr")
    _assert_same(eeg_like, nd.open(tmp_path / "c.zarr").load())


# ---- property-based round trips ------------------------------------------------------

_dtypes = st.sampled_from(
    ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16", "bool"]
)
_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6
)
_attr_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=True) | _text,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abc", min_size=1, max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def datasets(draw):
    n_time = draw(st.integers(1, 6))
    n_ch = draw(st.integers(1, 4))
    dtype = draw(_dtypes)
    values = draw(
        hnp.arrays(
            dtype, (n_time, n_ch), elements=hnp.from_dtype(np.dtype(dtype), allow_infinity=False)
        )
    )
    labels = draw(st.lists(_text, min_size=n_ch, max_size=n_ch, unique=True))
    events = draw(st.lists(_text, max_size=4))
    attrs = draw(st.dictionaries(st.text("xyz_", min_size=1, max_size=4), _attr_values, max_size=4))
    return xr.Dataset(
        {
            "signal": (("time", "channel"), values, {"units": "V"}),
            "label": ("event", np.array(events, dtype=f"<U{max([1, *map(len, events)])}")),
            "note": ("event", np.array(events, dtype=object)),
        },
        coords={
            "time": ("time", np.arange(n_time) / 7.0, {"units": "s"}),
            "channel": np.array(labels, dtype=object),
        },
        attrs=attrs,
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ds=datasets())
def test_save_then_open_changes_nothing(tmp_path_factory, fmt, ds):
    path = tmp_path_factory.mktemp("rt") / f"x{FORMATS[fmt]}"
    nd.save(ds, path)
    _assert_same(ds, nd.open(path).load())


# ---- atomicity and refusals ----------------------------------------------------------


def _failing(ds):
    def boom(block):
        raise RuntimeError("disk on fire")

    bad = dsa.from_array(np.zeros((ds.sizes["time"], ds.sizes["channel"])), chunks=(50, -1))
    return ds.assign(signal=(("time", "channel"), bad.map_blocks(boom, dtype=float)))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_failed_write_leaves_nothing_and_keeps_old_output(tmp_path, eeg_like, fmt):
    target = tmp_path / f"out{FORMATS[fmt]}"
    with pytest.raises(RuntimeError, match="disk on fire"):
        nd.save(_failing(eeg_like), target)
    assert list(tmp_path.iterdir()) == []
    nd.save(eeg_like, target)
    with pytest.raises(RuntimeError, match="disk on fire"):
        nd.save(_failing(eeg_like), target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    _assert_same(eeg_like, nd.open(target).load())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_refuses_to_overwrite_unless_asked(tmp_path, eeg_like, fmt):
    target = tmp_path / f"out{FORMATS[fmt]}"
    nd.save(eeg_like, target)
    with pytest.raises(OutputExistsError, match=r"out\..*: already exists; pass overwrite=True"):
        nd.save(eeg_like, target)
    changed = eeg_like.assign_attrs(source="second")
    nd.save(changed, target, overwrite=True)
    assert nd.open(target).attrs["source"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_save_errors(tmp_path, eeg_like):
    with pytest.raises(
        FormatError, match=r"cannot tell the output format from extension '.xyz'; writable: zarr"
    ):
        nd.save(eeg_like, tmp_path / "a.xyz")
    with pytest.raises(NotFoundError, match=r"parent directory .* does not exist"):
        nd.save(eeg_like, tmp_path / "missing" / "a.zarr")
    with pytest.raises(
        FormatError, match=r"`format` must be one of \[.*'netcdf'.*'zarr'.*\]; got 'nope'"
    ):
        nd.save(eeg_like, tmp_path / "a.zarr", format="nope")
    with pytest.raises(FormatError, match=r"variable 'obj' holds objects of type int"):
        nd.save(
            eeg_like.assign(obj=("event", np.array([1, "a", 2], dtype=object))), tmp_path / "a.zarr"
        )
    with pytest.raises(
        TypeError, match="can only save an xarray Dataset or DataArray; got ndarray"
    ):
        nd.save(np.zeros(3), tmp_path / "a.zarr")
    assert list(tmp_path.iterdir()) == []


def test_save_with_explicit_format_ignores_extension(tmp_path, eeg_like):
    path = nd.save(eeg_like, tmp_path / "rec.bin", format="netcdf")
    assert io.detect_format(path).name == "netcdf"  # sniffed from the HDF5 signature
    _assert_same(eeg_like, nd.load(path).load())


# ---- open and load -------------------------------------------------------------------


def test_open_errors(tmp_path):
    with pytest.raises(NotFoundError, match=r"nothing.zarr: no such file or directory"):
        nd.open(tmp_path / "nothing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(FormatError, match=r"plain: directory is not a zarr store \(no zarr.json\)"):
        nd.open(tmp_path / "plain")
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file at all")
    with pytest.raises(FormatError, match=r"junk.nc: not a netCDF/HDF5 file"):
        nd.open(junk)


def test_load_dispatches_by_extension_and_content(tmp_path, eeg_like):
    nd.save(eeg_like, tmp_path / "a.zarr")
    nd.save(eeg_like, tmp_path / "b.nc")
    (tmp_path / "a.zarr").rename(tmp_path / "noext")
    for path in (tmp_path / "noext", tmp_path / "b.nc"):
        _assert_same(eeg_like, nd.load(path).load())


def test_load_errors(tmp_path, eeg_like):
    with pytest.raises(NotFoundError, match="no such file"):
        nd.load(tmp_path / "x.edf")
    unknown = tmp_path / "notes.qqq"
    unknown.write_text("hello")
    with pytest.raises(
        FormatError,
        match=r"notes.qqq: unknown format \(extension '.qqq'\); supported: zarr \(.zarr\)",
    ):
        nd.load(unknown)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(FormatError, match=r"emptydir: unknown format \(directory\)"):
        nd.load(tmp_path / "emptydir")
    (tmp_path / "empty.edf").touch()
    with pytest.raises(FormatError, match=r"empty.edf: the file is empty \(0 bytes\)"):
        nd.load(tmp_path / "empty.edf")
    # a workbook is a zip, but not an .npz: refused with the way out
    import zipfile

    with zipfile.ZipFile(tmp_path / "table.xlsx", "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(FormatError, match=r"table.xlsx: Excel workbooks are not read; export"):
        nd.load(tmp_path / "table.xlsx")
    with zipfile.ZipFile(tmp_path / "folder.zip", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(FormatError, match=r"folder.zip: unknown format"):
        nd.load(tmp_path / "folder.zip")
    nd.save(eeg_like, tmp_path / "a.zarr")
    with pytest.raises(
        FormatError,
        match=r"the zarr reader does not take option\(s\) \['labels'\]; it takes \['chunks'\]",
    ):
        nd.load(tmp_path / "a.zarr", labels="x.csv")
    with pytest.raises(FormatError, match=r"`format` must be one of \[.*\]; got 'edf9'"):
        nd.load(tmp_path / "a.zarr", format="edf9")


def test_every_registered_format_resolves():
    for spec in io.FORMATS:
        assert spec.extensions == tuple(e.lower() for e in spec.extensions)
        for target in (spec.reader, spec.writer, spec.sniff):
            if target:
                module, _, func = target.partition(":")
                assert module.startswith("neurodata.") and func, target


def test_open_chunks_none_reads_into_memory(tmp_path, eeg_like):
    nd.save(eeg_like, tmp_path / "a.zarr")
    assert nd.open(tmp_path / "a.zarr", chunks=None).signal.chunks is None


def test_writer_warnings_name_the_output_not_its_temporary(tmp_path, eeg_like):
    pytest.importorskip("pynwb")
    ds = eeg_like.assign_coords(ch_unit=("channel", ["V", "V", "V", "G"]))
    with pytest.warns(RuntimeWarning, match=r"out\.nwb: NWB's ElectricalSeries is in volts") as rec:
        nd.save(ds, tmp_path / "out.nwb")
    assert not [str(w.message) for w in rec if ".tmp" in str(w.message)]
    # an `error` filter still fails the write, and leaves nothing behind
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match=r"out2\.nwb"):
            nd.save(ds, tmp_path / "out2.nwb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nwb"]
