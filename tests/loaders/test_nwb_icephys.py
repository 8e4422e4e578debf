"""NWB intracellular files and TimeSeries anywhere: pynwb writes the files and is the oracle.

Regression of issue 17 case 1: an icephys file (ten CurrentClampSeries of 20,000
samples, ten stimuli) loaded as an empty Dataset and every command said it was fine.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from neurodata.errors import FormatError
from tests.loaders.test_nwb import _read_pynwb as _read
from tests.loaders.test_nwb import _write

pynwb = pytest.importorskip("pynwb")
icephys = pytest.importorskip("pynwb.icephys")

N_SWEEPS, N_SAMPLES, RATE = 10, 20_000, 10_000.0


def _nwbfile():
    return pynwb.NWBFile(
        session_description="patch clamp",
        identifier="icephys-1",
        session_start_time=datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def current_clamp(tmp_path_factory):
    """Ten current-clamp sweeps in volts with their stimuli in amperes, as a rig writes them."""
    nwb = _nwbfile()
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="elec0", description="patch", device=device)
    rng = np.random.default_rng(0)
    for i in range(N_SWEEPS):
        stim = icephys.CurrentClampStimulusSeries(
            name=f"stimulus_{i:02d}", data=(i - 5) * 20e-12 * np.ones(N_SAMPLES), rate=RATE,
            starting_time=2.5 * i, electrode=electrode, gain=1.0, sweep_number=i,
        )  # fmt: skip
        resp = icephys.CurrentClampSeries(
            name=f"sweep_{i:02d}", data=(rng.standard_normal(N_SAMPLES) * 1e3).astype(np.int16),
            conversion=1e-5, rate=RATE, starting_time=2.5 * i, electrode=electrode, gain=0.02,
            sweep_number=i, bias_current=0.0, bridge_balance=0.0, capacitance_compensation=0.0,
        )  # fmt: skip
        nwb.add_stimulus(stim)
        nwb.add_acquisition(resp)
        nwb.add_intracellular_recording(electrode=electrode, stimulus=stim, response=resp)
    return _write(nwb, tmp_path_factory.mktemp("icephys") / "cc.nwb")


def test_current_clamp_sweeps_equal_pynwb(current_clamp):
    ds = nd.load(current_clamp)
    io, nwb = _read(current_clamp)
    try:
        assert ds["response"].dims == ("sweep", "time")
        assert ds["response"].shape == (N_SWEEPS, N_SAMPLES)
        for i, name in enumerate(ds["sweep"].values):
            ts = nwb.acquisition[name]
            expected = np.asarray(ts.data[:], dtype=float) * ts.conversion
            np.testing.assert_array_equal(ds["response"].values[i], expected)
            stim = nwb.stimulus[f"stimulus_{i:02d}"]
            np.testing.assert_array_equal(ds["stimulus"].values[i], stim.data[:])
            assert ds["sweep_start"].values[i] == ts.starting_time
            assert ds["sweep_number"].values[i] == ts.sweep_number
            assert ds["gain"].values[i] == ts.gain
    finally:
        io.close()
    assert ds["response"].attrs["units"] == "V"
    assert ds["stimulus"].attrs["units"] == "A"
    assert ds.attrs["sfreq"] == RATE
    np.testing.assert_array_equal(ds["time"].values, np.arange(N_SAMPLES) / RATE)
    assert list(ds["stimulus_series"].values) == [f"stimulus_{i:02d}" for i in range(N_SWEEPS)]
    assert ds.attrs["start_time"] == "2022-03-04T05:06:07+00:00"


def test_intracellular_recordings_table_as_annotations(current_clamp):
    ds = nd.load(current_clamp)
    rec = ds.where(ds["interval_table"] == "intracellular_recordings", drop=True)
    assert rec.sizes["event"] == N_SWEEPS
    np.testing.assert_allclose(rec["onset"].values, 2.5 * np.arange(N_SWEEPS))
    np.testing.assert_allclose(rec["duration"].values, N_SAMPLES / RATE)
    assert list(rec["recording_stimulus"].values) == [f"stimulus_{i:02d}" for i in range(10)]
    assert set(rec["recording_electrode"].values) == {"elec0"}


def test_list_series_names_every_series(current_clamp):
    listed = nd.loaders.nwb.list_series(current_clamp)
    assert sum(kind == "CurrentClampSeries" for kind in listed.values()) == N_SWEEPS
    assert listed["stimulus/stimulus_03"] == "CurrentClampStimulusSeries"


def test_cli_info_validate_convert_on_icephys(current_clamp, tmp_path):
    runner = CliRunner()
    info = runner.invoke(cli, ["info", str(current_clamp)])
    assert info.exit_code == 0, info.output
    assert f"sweep={N_SWEEPS}" in info.output and f"time={N_SAMPLES}" in info.output
    valid = runner.invoke(cli, ["validate", str(current_clamp)])
    assert valid.exit_code == 0, valid.output
    out = tmp_path / "cc.zarr"
    converted = runner.invoke(cli, ["convert", "-q", str(current_clamp), str(out)])
    assert converted.exit_code == 0, converted.output
    back = nd.open(out)
    np.testing.assert_array_equal(back["response"].values, nd.load(current_clamp)["response"])


def test_voltage_and_izero_clamp_by_name(tmp_path):
    nwb = _nwbfile()
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="e", description="patch", device=device)
    rng = np.random.default_rng(1)
    vc = [rng.standard_normal(300) * 1e-9 for _ in range(2)]
    for i, data in enumerate(vc):
        nwb.add_acquisition(
            icephys.VoltageClampSeries(
                name=f"vc{i}", data=data, rate=5000.0, starting_time=float(i), electrode=electrode,
                gain=1.0, sweep_number=i,
            )
        )  # fmt: skip
        nwb.add_stimulus(
            icephys.VoltageClampStimulusSeries(
                name=f"vstim{i}", data=np.full(300, -0.07), rate=5000.0, starting_time=float(i),
                electrode=electrode, gain=1.0, sweep_number=i,
            )
        )  # fmt: skip
    izero = rng.standard_normal(250) * 1e-3
    nwb.add_acquisition(
        icephys.IZeroClampSeries(
            name="rest", data=izero, rate=5000.0, electrode=electrode, gain=1.0, sweep_number=9
        )
    )
    path = _write(nwb, tmp_path / "vc.nwb")
    ds = nd.load(path)  # the most common response kind: the voltage-clamp sweeps
    assert ds["response"].attrs["units"] == "A"
    np.testing.assert_array_equal(ds["response"].values, np.stack(vc))
    np.testing.assert_array_equal(ds["stimulus"].values, np.full((2, 300), -0.07))
    assert ds["stimulus"].attrs["units"] == "V"
    assert ds.attrs["nwb_other_series"] == [
        "acquisition/rest",
        "stimulus/vstim0",
        "stimulus/vstim1",
    ]
    rest = nd.load(path, series="acquisition/rest")
    np.testing.assert_array_equal(rest["response"].values[0], izero)
    assert rest["stimulus_series"].values[0] == ""


def test_plain_timeseries_in_stimulus_and_processing(tmp_path):
    from pynwb.behavior import BehavioralTimeSeries

    nwb = _nwbfile()
    rng = np.random.default_rng(2)
    sound = rng.standard_normal(400)
    nwb.add_stimulus(pynwb.TimeSeries(name="sound", data=sound, unit="pascal", rate=100.0))
    module = nwb.create_processing_module("behavior", "behaviour")
    speed = rng.standard_normal(400)
    module.add(
        BehavioralTimeSeries(
            time_series=pynwb.TimeSeries(name="speed", data=speed, unit="m/s", rate=100.0)
        )
    )
    path = _write(nwb, tmp_path / "plain.nwb")
    listed = nd.loaders.nwb.list_series(path)
    assert listed == {
        "stimulus/sound": "TimeSeries",
        "processing/behavior/BehavioralTimeSeries/speed": "TimeSeries",
    }
    ds = nd.load(path)  # one clock: both read side by side
    np.testing.assert_array_equal(ds["sound"].values, sound)
    np.testing.assert_array_equal(ds["speed"].values, speed)
    assert ds["sound"].attrs["units"] == "Pa" and ds["speed"].attrs["units"] == "m/s"


def test_nothing_readable_is_an_error_naming_the_contents(tmp_path):
    from pynwb.image import ImageSeries

    nwb = _nwbfile()
    nwb.add_acquisition(
        ImageSeries(name="movie", external_file=["movie.avi"], starting_frame=[0],
                    timestamps=[0.0, 1 / 30],
                    format="external")
    )  # fmt: skip
    path = _write(nwb, tmp_path / "movie.nwb")
    with pytest.raises(FormatError, match=r"nothing readable.*acquisition: movie \(ImageSeries\)"):
        nd.load(path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert "nothing readable" in result.stderr and "valid" not in result.stdout
    out = tmp_path / "movie.zarr"
    result = CliRunner().invoke(cli, ["convert", str(path), str(out)])
    assert result.exit_code == 1 and not out.exists()


def test_empty_file_says_so(tmp_path):
    path = _write(_nwbfile(), tmp_path / "empty.nwb")
    with pytest.raises(FormatError, match=r"nothing readable.*holds no data objects"):
        nd.load(path)


def test_any_reader_returning_nothing_is_refused(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path)  # a real, empty NumPy archive
    with pytest.raises(FormatError, match="numpy reader found nothing to read"):
        nd.load(path)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 1 and "found nothing" in result.stderr
