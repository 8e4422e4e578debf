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


# --- preprocessing sees training samples only (issue 16, item 5) -----------------------------


def _spy_on_ridge_fits(monkeypatch):
    """Record the training arrays that reach the ridge kernel (the real kernel still runs)."""
    from neurodata.analyses.encoding import _ridge

    real, seen = _ridge.ridge_cv_arrays, []

    def spy(X, Y, *args, **kwargs):
        out = real(X, Y, *args, **kwargs)
        seen.append((np.array(X, copy=True), np.array(Y, copy=True), out["coef"].copy()))
        return out

    monkeypatch.setattr(_ridge, "ridge_cv_arrays", spy)
    return seen


def test_changing_test_samples_cannot_change_the_models_fitted_on_training_samples(
    planted, monkeypatch
):
    """One outer split (train: first 80 % of scans, test: the rest): the test scans are
    replaced by noise of another scale and offset; every model compare fits must be the same."""
    acts, brain = planted
    responses = brain.responses.isel(subject=[0])
    n = responses.sizes["time"]
    train, test = np.arange(int(0.8 * n)), np.arange(int(0.8 * n), n)
    perturbed = responses.copy(data=responses.values.copy())
    noise = np.random.default_rng(7).standard_normal(perturbed.isel(time=test).shape)
    perturbed[{"time": test}] = 50.0 + 9.0 * noise
    runs = []
    for resp in (responses, perturbed):
        with monkeypatch.context() as patch:
            seen = _spy_on_ridge_fits(patch)
            data = BrainData(responses=resp, words=brain.words, name="planted")
            compare(data, activations=acts, cv=[(train, test)], n_permutations=0, progress=False)
        runs.append(seen)
    original, changed = runs
    assert len(original) == len(changed) > 0
    for (x0, y0, c0), (x1, y1, c1) in zip(original, changed, strict=True):
        assert x0.shape[0] == len(train)  # only training samples reach the fit
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)  # the training targets did not move
        np.testing.assert_array_equal(c0, c1)  # hence the fitted model did not either


def test_joint_fit_of_subjects_equals_one_fit_per_subject(tmp_path, planted):
    """Sharing the decompositions across subjects (one fit) changes no number."""
    acts, brain = planted
    kw = dict(activations=acts, n_permutations=20, progress=False)
    joint = compare(brain, out=tmp_path / "joint", **kw)
    single = compare(brain, out=tmp_path / "single", subjects_batch=1, **kw)
    xr.testing.assert_allclose(joint, single, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(joint["p_value"].values, single["p_value"].values)
    with pytest.raises(SchemaError, match=r"`subjects_batch` must be a positive integer"):
        compare(brain, out=tmp_path / "bad", subjects_batch=0, **kw)


def test_result_keeps_the_datas_target_dim(planted):
    acts, brain = planted
    result = compare(brain, activations=acts, n_permutations=0, progress=False)
    assert set(result["r"].dims) == {"layer", "parcel", "subject"}
    assert result.attrs["target_dim"] == "parcel"
    assert set(result["best_layer"].dims) == {"parcel", "subject"}
    assert set(result["ceiling"].dims) == {"parcel", "subject"}
    np.testing.assert_array_equal(result["best_score"], result["r"].max("layer"))


def test_any_brain_unit_dim_of_the_schema_is_a_target_dim(planted):
    """The target dims are the schema's unit-like dims of the brain (`roi` included)."""
    acts, brain = planted
    data = BrainData(responses=brain.responses.rename(parcel="roi"), words=brain.words, name="x")
    result = compare(data, activations=acts, n_permutations=0, progress=False)
    assert result.attrs["target_dim"] == "roi" and "roi" in result["r"].dims
