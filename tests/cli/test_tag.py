"""``neurodata tag`` on a recording saved by neurodata.save (zarr)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
from click.testing import CliRunner

import neurodata
from neurodata.cli import main
from neurodata.cli._app import cli


def _recording(tmp_path):
    """Two channels at 64 Hz; events 'a' carry 8 Hz, events 'b' 12 Hz, 'rest' nothing."""
    rng = np.random.default_rng(0)
    sfreq, trial = 64.0, 128
    labels = ["a", "b", "rest"] * 4
    chunks = []
    t = np.arange(trial) / sfreq
    for label in labels:
        x = rng.standard_normal((2, trial)) * 1e-6
        if label != "rest":
            x += 2e-6 * np.sin(2 * np.pi * (8.0 if label == "a" else 12.0) * t)
        chunks.append(x)
    data = np.concatenate(chunks, axis=1)
    ds = xr.Dataset(
        {
            "signal": xr.DataArray(
                data.T, dims=("time", "channel"),
                coords={"time": ("time", np.arange(data.shape[1]) / sfreq, {"units": "s"}),
                        "channel": ["O1", "O2"]},
                attrs={"units": "V", "sfreq": sfreq},
            ),
            "onset": ("event", np.arange(len(labels)) * 2.0, {"units": "s"}),
            "duration": ("event", np.full(len(labels), 2.0), {"units": "s"}),
            "label": ("event", np.array(labels, dtype=object)),
        }
    )  # fmt: skip
    path = tmp_path / "rec.zarr"
    neurodata.save(ds, path)
    return path


def test_tag_reports_tagged_conditions(tmp_path):
    path = _recording(tmp_path)
    args = ["tag", str(path), "--event-freq", "a=8", "--event-freq", "b=12", "--duration", "2",
            "--n-permutations", "200", "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["frequencies_hz"] == [8.0, 12.0]
    assert report["conditions"]["a"]["significant_channels"] == [2, 0]
    assert report["conditions"]["b"]["significant_channels"] == [0, 2]
    assert report["conditions"]["a"]["decoding_accuracy"] == 1.0
    text = CliRunner().invoke(cli, args[:-1])
    assert "event a (8 Hz, 4 trials)" in text.output


def test_tag_errors(tmp_path, capsys):
    path = _recording(tmp_path)
    assert main(["tag", str(path), "--event-freq", "zz=8", "--duration", "2"]) == 1
    assert "no events labelled 'zz'" in capsys.readouterr().err
    assert main(["tag", str(path), "--event-freq", "a:8", "--duration", "2"]) == 2
