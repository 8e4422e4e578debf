"""`neurodata rsa`: an image folder, a tiny HuggingFace ResNet and brain RDMs, end to end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from scipy.io import savemat

from neurodata.analyses import rsa
from neurodata.errors import SchemaError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("vision-rsa")
    rng = np.random.default_rng(0)
    (root / "images").mkdir()
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(
            root / "images" / f"im{i:02d}.png"
        )
    config = transformers.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic"
    )
    torch.manual_seed(0)
    transformers.ResNetModel(config).eval().save_pretrained(root / "resnet")
    # brain: 4 subjects' RDMs of noisy patterns
    base = rng.standard_normal((10, 30))
    x = base[None] + rng.standard_normal((4, 10, 30))
    subjects = rsa.rdm(
        xr.DataArray(x, dims=("subject", "stimulus", "neuron")),
        dim="stimulus",
        method="correlation",
    )
    dtype = [("name", object), ("RDM", object)]
    structs = np.zeros((1, 2), dtype=dtype)
    structs[0, 0] = ("V4", subjects.values[0])
    structs[0, 1] = ("IT", subjects.values[1])
    savemat(root / "brain.mat", {"RDMs": structs})
    return root, subjects


def test_cli_folder_and_rsatoolbox_file(setup):
    from neurodata.cli import cli
    from neurodata.io import open as open_store

    root, _ = setup
    out = root / "out"
    args = ["rsa", "--stimuli", str(root / "images"), "--model", str(root / "resnet"),
            "--brain", str(root / "brain.mat"), "--n-bootstrap", "5", "--out", str(out), "-q"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "V4: best layer" in result.output and (out / "report.html").is_file()
    store = open_store(out / "rsa.zarr").load()
    assert list(store["brain"].values) == ["V4", "IT"]
    assert list(store["layer"].values) == ["encoder.stages.0", "encoder.stages.1"]
    again = rsa.compare(store["model_rdm"], store["brain_rdm"], "tau-a", dim="stimulus")
    np.testing.assert_allclose(
        store["similarity"].sel(comparison="tau-a").transpose("layer", "brain"), again
    )
    assert (store["ci_low"] <= store["ci_high"]).all()
    html = (out / "report.html").read_text()
    assert "V4 and the best layer" in html and "MDS" in html
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "already holds" in again.output


def test_noise_ceiling_of_subject_rdms_agrees_with_rsatoolbox(setup):
    rt = pytest.importorskip("rsatoolbox")
    from neurodata.pipelines.vision import vision_rsa

    root, subjects = setup
    result = vision_rsa(root / "images", root / "resnet", subjects, n_bootstrap=0, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lower, upper = rt.inference.boot_noise_ceiling(
            rt.rdm.RDMs(rsa.to_vectors(subjects, "stimulus")[0]), method="spearman"
        )
    assert float(result["ceiling_lower"][0]) == pytest.approx(lower, abs=1e-12)
    assert float(result["ceiling_upper"][0]) == pytest.approx(upper, abs=1e-12)
    assert "ci_low" not in result


def test_folder_without_brain_and_wrong_sizes(setup):
    from neurodata.pipelines.vision import vision_rsa

    root, subjects = setup
    with pytest.raises(SchemaError, match="an image folder needs a brain RDM file"):
        vision_rsa(root / "images", root / "resnet", progress=False)
    with pytest.raises(SchemaError, match="RDMs over 9 stimuli; the image set has 10"):
        vision_rsa(root / "images", root / "resnet",
                   subjects.isel(stimulus=slice(1, None), stimulus_2=slice(1, None)),
                   n_bootstrap=0, progress=False)  # fmt: skip


def test_figures_of_the_robustness_analyses(rng):
    from neurodata.plotting.vision import (
        plot_kernel_analysis,
        plot_model_recovery,
        plot_subsampling_curve,
    )

    acts = xr.DataArray(
        rng.standard_normal((3, 30, 10)),
        dims=("layer", "stimulus", "unit"),
        coords={"layer": ["a", "b", "c"], "category": ("stimulus", np.repeat(["x", "y"], 15))},
    )
    brain = xr.DataArray(
        acts.values[1] @ rng.standard_normal((10, 20)), dims=("stimulus", "neuron")
    )
    figs = [
        plot_subsampling_curve(rsa.subsampling_curve(acts, brain, sizes=[4, 20], n_draws=3)),
        plot_kernel_analysis(rsa.kernel_analysis(acts, "category", cv=3)),
        plot_model_recovery(rsa.model_recovery(acts, noise=[0.1, 5.0], n_units=5, n_draws=2)),
    ]
    for fig in figs:
        assert fig.axes
    assert len(figs[2].axes) == 4  # three confusion matrices and the accuracy curve
