"""The `neurodata` command: info, convert, validate, formats, sys-info, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli, main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def store(tmp_path, eeg_like):
    return nd.save(eeg_like, tmp_path / "rec.zarr")


def _one_error_line(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neurodata: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output


def test_help_lists_subcommands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("info", "convert", "validate", "formats", "sys-info"):
        assert name in result.output


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "neurodata", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and nd.__version__ in out.stdout


def test_sys_info_reports_every_extra(runner):
    result = runner.invoke(cli, ["sys-info", "--json"])
    assert result.exit_code == 0
    info = json.loads(result.output)
    assert info["neurodata"] == nd.__version__
    assert set(info["extras"]) >= {"eeg", "nwb", "fmri", "models", "celegans", "distributed"}
    assert info["core"]["xarray"] == xr.__version__
    text = runner.invoke(cli, ["sys-info"]).output
    assert "[eeg]" in text and "numpy" in text


def test_info_text_and_json(runner, store, eeg_like):
    result = runner.invoke(cli, ["info", str(store)])
    assert result.exit_code == 0, result.output
    assert "zarr" in result.output
    assert "100 Hz" in result.output and "2.500 s" in result.output
    assert "channel: 4 (Fz, Cz, Pz, Oz); types eeg=4; bad: Pz" in result.output
    assert "events: 3" in result.output
    summary = json.loads(runner.invoke(cli, ["info", str(store), "--json"]).output)
    assert summary["dims"] == {"time": 250, "channel": 4, "event": 3}
    assert summary["time"]["sfreq"] == 100.0
    assert summary["time"]["duration_s"] == pytest.approx(2.5)
    assert summary["provenance"]["start_time"] == eeg_like.attrs["start_time"]
    assert summary["variables"]["signal"]["units"] == "V"
    assert summary["variables"]["signal"]["lazy"] is True


def test_info_shows_every_other_attr(runner, tmp_path):
    # what a loader leaves out is said in attrs (e.g. edges to non-neurons): info shows it
    edges = tmp_path / "edges.csv"
    edges.write_text("pre,post,type,synapses\nAVAL,AVAR,chemical,3\nAVAL,BWM-DL01,chemical,2\n")
    result = runner.invoke(cli, ["info", str(edges)])
    assert result.exit_code == 0, result.output
    assert "attrs:" in result.output and "dropped_edges: 1" in result.output
    summary = json.loads(runner.invoke(cli, ["info", str(edges), "--json"]).output)
    assert summary["attrs"]["dropped_edges"] == 1
    assert "source" not in summary["attrs"]  # provenance keeps its own section
    long = nd.save(xr.Dataset({"x": ("time", [0.0])}, attrs={"note": "n" * 500}),
                   tmp_path / "long.zarr")  # fmt: skip
    shown = json.loads(runner.invoke(cli, ["info", str(long), "--json"]).output)["attrs"]["note"]
    assert len(shown) == 200 and shown.endswith("...")


def test_convert_zarr_netcdf_zarr_identical(runner, store, tmp_path, eeg_like):
    nc, back = tmp_path / "rec.nc", tmp_path / "back.zarr"
    assert runner.invoke(cli, ["convert", str(store), str(nc), "-q"]).exit_code == 0
    assert runner.invoke(cli, ["convert", str(nc), str(back)]).exit_code == 0
    original, final = nd.open(store).load(), nd.open(back).load()
    xr.testing.assert_identical(original, final)
    assert final.label.dtype == eeg_like.label.dtype
    assert final.attrs == eeg_like.attrs


def test_convert_with_explicit_format(runner, store, tmp_path):
    result = runner.invoke(
        cli, ["convert", str(store), str(tmp_path / "out.data"), "--to", "netcdf", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert nd.io.detect_format(tmp_path / "out.data").name == "netcdf"


def test_convert_refuses_to_overwrite(runner, store, tmp_path):
    target = tmp_path / "rec.nc"
    target.write_bytes(b"precious")
    result = runner.invoke(cli, ["convert", str(store), str(target)])
    _one_error_line(result, str(target), "already exists", "--overwrite")
    assert target.read_bytes() == b"precious"
    assert (
        runner.invoke(cli, ["convert", str(store), str(target), "--overwrite", "-q"]).exit_code == 0
    )
    assert nd.open(target).sizes["channel"] == 4


def test_bad_inputs_give_one_line_and_leave_nothing(runner, tmp_path, store):
    before = set(tmp_path.iterdir())
    _one_error_line(
        runner.invoke(cli, ["info", str(tmp_path / "missing.edf")]), "missing.edf", "no such file"
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    _one_error_line(runner.invoke(cli, ["info", str(plain)]), "plain", "unknown format (directory)")
    odd = tmp_path / "data.qqq"
    odd.write_text("?")
    _one_error_line(
        runner.invoke(cli, ["convert", str(odd), str(tmp_path / "x.zarr")]),
        "data.qqq",
        "supported:",
    )
    _one_error_line(
        runner.invoke(cli, ["convert", str(store), str(tmp_path / "x.xyz")]), "x.xyz", "writable:"
    )
    _one_error_line(
        runner.invoke(cli, ["info", str(store), "-o", "labels=x.csv"]),
        "does not take option(s) ['labels']",
    )
    assert set(tmp_path.iterdir()) == before | {plain, odd}


def test_store_breaking_conventions(runner, tmp_path):
    ds = xr.Dataset({"signal": (("Time", "chan"), np.zeros((3, 2)))})
    nd.save(ds, tmp_path / "bad.zarr")
    result = runner.invoke(cli, ["validate", str(tmp_path / "bad.zarr")])
    _one_error_line(
        result, "bad.zarr", "dim 'Time'", "did you mean 'time'", "(and 1 more; --all lists them)"
    )
    converted = runner.invoke(cli, ["validate", str(tmp_path / "bad.zarr"), "--all"])
    assert "dim 'chan'" in converted.stderr


def test_validate_ok_and_kinds(runner, store):
    result = runner.invoke(cli, ["validate", str(store)])
    assert result.exit_code == 0 and "valid (timeseries, annotations)" in result.output
    result = runner.invoke(cli, ["validate", str(store), "--kind", "rdm"])
    _one_error_line(result, "an RDM needs dims")


def test_formats_lists_readers_and_writers(runner):
    result = runner.invoke(cli, ["formats"])
    assert result.exit_code == 0
    assert "zarr" in result.output and "netcdf" in result.output


def test_debug_shows_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "neurodata", "--debug", "info", str(tmp_path / "nope.zarr")],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "Traceback" in out.stderr and "NotFoundError" in out.stderr


def test_main_returns_exit_code(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.zarr")]) == 1
    assert main(["--version"]) == 0


@pytest.mark.parametrize(
    ("exc", "code", "fragment"),
    [
        (
            ValueError("`method` must be one of ['a', 'b']; got 'x'"),
            1,
            "neurodata: error: `method`",
        ),
        (ValueError("operands could not be broadcast"), 3, "neurodata: internal error: ValueError"),
        (KeyError("oops"), 3, "neurodata: internal error: KeyError"),
    ],
)
def test_parameter_errors_are_user_errors_and_bugs_are_internal(exc, code, fragment):
    import click

    from neurodata.cli._app import _Group

    @click.group(cls=_Group)
    def group():
        pass

    @group.command()
    def boom():
        raise exc

    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == code
    assert fragment in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


@pytest.mark.parametrize("expose", [False, True])
@pytest.mark.parametrize("flags", [[], ["-q"], ["--quiet"]])
def test_quiet_option_turns_progress_off_for_the_command_only(runner, flags, expose):
    import click

    from neurodata.cli._options import quiet_option

    seen = {}

    @click.command()
    @quiet_option(expose=expose)
    def probe(**kwargs):
        seen["progress"] = nd.get_config()["progress"]
        seen["kwargs"] = kwargs

    result = runner.invoke(probe, flags)
    assert result.exit_code == 0, result.output
    assert seen["progress"] is (not flags)
    assert seen["kwargs"] == ({"quiet": bool(flags)} if expose else {})
    assert nd.get_config()["progress"] is True  # nothing stays changed after the command


def test_quiet_convert_still_silences_its_own_message(runner, tmp_path, eeg_like):
    store = nd.save(eeg_like, tmp_path / "rec.zarr")
    loud = runner.invoke(cli, ["convert", str(store), str(tmp_path / "a.nc")])
    quiet = runner.invoke(cli, ["convert", str(store), str(tmp_path / "b.nc"), "-q"])
    assert loud.exit_code == quiet.exit_code == 0, (loud.output, quiet.output)
    assert loud.stdout.startswith("wrote ") and quiet.stdout == ""
