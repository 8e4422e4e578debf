"""The compare pipeline and the demo: a planted layer is found, outputs are complete."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from neurodata.datasets.simulated import story
from neurodata.errors import OutputExistsError, SchemaError
from neurodata.pipelines.compare import BrainData, compare
from neurodata.pipelines.demo import simulated_brain_data
from neurodata.pipelines.report import recovered_layer


@pytest.fixture(scope="module")
def planted():
    """Three unrelated synthetic 'layers'; responses generated from layer 'b'."""
    words = story(900, seed=3)
    rng = np.random.default_rng(0)
    acts = xr.DataArray(
        rng.standard_normal((3, 900, 12)),
        dims=("layer", "word", "unit"),
        coords={"layer": ["a", "b", "c"], "onset": ("word", words.onset.values)},
    )
    brain = simulated_brain_data(acts, words, layer="b", n_subjects=3, snr=3.0, seed=1)
    return acts, brain


def test_compare_finds_the_planted_layer(tmp_path, planted):
    acts, brain = planted
    result = compare(
        brain, activations=acts, n_permutations=20, out=tmp_path / "out", progress=False
    )
    assert recovered_layer(result) == "b"
    best = result["best_layer"].to_numpy()
    assert (best == "b").mean() > 0.9  # nearly every region of every subject
    assert set(result.data_vars) >= {
        "r",
        "r2",
        "p_value",
        "gain",
        "r_baseline",
        "ceiling",
        "best_layer",
    }
    assert float(result["p_value"].sel(layer="b").max()) < 0.1
    assert result.attrs["truth"] == {"layer": "b"}
    stored = nd.open(tmp_path / "out" / "results.zarr").load()
    xr.testing.assert_allclose(stored["r"], result["r"])
    html = (tmp_path / "out" / "report.html").read_text()
    assert "SIMULATED" in html and "recovered exactly" in html
    assert html.count("data:image/png;base64,") >= 3
    with pytest.raises(OutputExistsError, match="already holds"):
        compare(brain, activations=acts, n_permutations=0, out=tmp_path / "out", progress=False)


def test_compare_rejects_responses_without_a_target_dim(planted):
    acts, brain = planted
    bad = BrainData(responses=brain.responses.rename(parcel="unit"), words=brain.words, name="x")
    with pytest.raises(SchemaError, match=r"responses must have dims \('time', <target>\)"):
        compare(bad, activations=acts, progress=False)


def test_compare_reads_a_store(tmp_path, planted):
    acts, brain = planted
    store = xr.merge([brain.responses.to_dataset(name="bold"), brain.words])
    nd.save(store, tmp_path / "story.zarr")
    result = compare(tmp_path / "story.zarr", activations=acts, n_permutations=0, progress=False)
    assert recovered_layer(result) == "b"


@pytest.mark.slow
def test_demo_cli_end_to_end(tmp_path):
    out = tmp_path / "demo"
    runner = CliRunner()
    args = ["demo", "--out", str(out), "--data", "simulated", "--n-words", "400", "-q"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "simulated data: true layer" in result.output
    assert (out / "report.html").is_file() and (out / "results.zarr").is_dir()
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "pass --overwrite" in again.stderr
