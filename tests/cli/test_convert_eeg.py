"""`neurodata info` and `neurodata convert` on EEG/iEEG/NWB files, real and generated."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli

pytest.importorskip("mne")
pytest.importorskip("pynwb")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def real(shared_path):
    return shared_path


def _one_error_line(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neurodata: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _generated(tmp_path, suffix):
    import mne

    info = mne.create_info(["Fz", "Cz", "Pz"], 200.0, "eeg", verbose="ERROR")
    data = np.random.default_rng(0).standard_normal((3, 400)) * 1e-5
    raw = mne.io.RawArray(data, info, verbose="ERROR")
    raw.set_annotations(mne.Annotations([0.5], [0.1], ["Stimulus/S  1"]))
    path = tmp_path / f"gen{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne.export.export_raw(path, raw, verbose="ERROR")
    return path


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("folder", "name", "expected"),
    [
        ("eeg", "physionet_motor_imagery.edf", "channel: 64"),
        ("eeg", "openbci_sleep.bdf", "channel: 19"),
        ("ieeg", "sub-pt1_ses-02_task-monitor_acq-ecog_run-01_clip2.lay", "channel: 83"),
        ("ieeg", "sample_ecog_ieeg.fif", "types ecog="),
        ("nwb", "human_single_units_rutishauser.nwb", "neuron: 35"),
    ],
)
def test_info_on_real_files(runner, real, folder, name, expected):
    result = runner.invoke(cli, ["info", str(real(folder, name))])
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert "Unable to process" not in result.output  # MNE's Persyst print() kept off stdout


@pytest.mark.shared_data
def test_info_json_utf8(runner, real):
    result = runner.invoke(cli, ["info", "--json", str(real("eeg", "test_utf8_annotations.edf"))])
    assert result.exit_code == 0
    assert "仰卧" in json.loads(result.output)["events"]["labels"]


@pytest.mark.shared_data
def test_convert_edf_to_nwb_and_back(runner, real, tmp_path):
    src = real("eeg", "test_utf8_annotations.edf")
    result = runner.invoke(cli, ["convert", "-q", str(src), str(tmp_path / "a.nwb")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["convert", "-q", str(tmp_path / "a.nwb"), str(tmp_path / "b.edf")])
    assert result.exit_code == 0, result.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        original, back = nd.load(src), nd.load(tmp_path / "b.edf")
    assert list(back["channel"].values) == list(original["channel"].values)
    assert list(back["label"].values) == list(original["label"].values)
    span = (original["signal"].max("time") - original["signal"].min("time")).values
    err = np.abs(back["signal"].values - original["signal"].values).max(axis=0)
    assert np.all(err <= 0.5001 * np.where(span > 0, span, 1) / 65535 + 1e-12)


def test_convert_generated_vhdr_to_fif_and_zarr(runner, tmp_path):
    src = _generated(tmp_path, ".vhdr")
    for target in ("out_raw.fif", "out.zarr", "out.nc"):
        result = runner.invoke(cli, ["convert", "-q", str(src), str(tmp_path / target)])
        assert result.exit_code == 0, result.output
    a = nd.load(tmp_path / "out_raw.fif")
    b = nd.load(tmp_path / "out.zarr")
    np.testing.assert_array_equal(a["signal"].values, b["signal"].values)


def test_convert_missing_brainvision_data(runner, tmp_path):
    src = _generated(tmp_path, ".vhdr")
    src.with_suffix(".eeg").unlink()
    result = runner.invoke(cli, ["convert", str(src), str(tmp_path / "out.zarr")])
    _one_error_line(result, "gen.vhdr", "does not exist")
    assert not (tmp_path / "out.zarr").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_convert_truncated_edf(runner, tmp_path):
    src = _generated(tmp_path, ".edf")
    src.write_bytes(src.read_bytes()[:-500])
    result = runner.invoke(cli, ["convert", str(src), str(tmp_path / "out.nwb")])
    _one_error_line(result, "gen.edf", "truncated")
    assert not (tmp_path / "out.nwb").exists()


def test_convert_mixed_rates_needs_a_choice(runner, tmp_path):
    edfio = pytest.importorskip("edfio")
    rng = np.random.default_rng(0)
    path = tmp_path / "mixed.edf"
    edfio.Edf(
        [
            edfio.EdfSignal(rng.standard_normal(1000), 100, label="A", physical_dimension="uV"),
            edfio.EdfSignal(rng.standard_normal(100), 10, label="B", physical_dimension="uV"),
        ]
    ).write(path)
    result = runner.invoke(cli, ["convert", str(path), str(tmp_path / "out.zarr")])
    _one_error_line(result, "different sampling rates", "resample=")
    result = runner.invoke(
        cli, ["convert", "-q", str(path), str(tmp_path / "out.zarr"), "-o", "resample=100"]
    )
    assert result.exit_code == 0, result.output
    assert nd.open(tmp_path / "out.zarr").attrs["sfreq"] == 100.0


@pytest.mark.shared_data
def test_convert_units_only_nwb_to_edf_refused(runner, real, tmp_path):
    src = real("nwb", "A8604-211122.nwb")
    result = runner.invoke(cli, ["convert", str(src), str(tmp_path / "out.edf")])
    _one_error_line(result, "('time', 'channel')")
    assert list(tmp_path.iterdir()) == []
