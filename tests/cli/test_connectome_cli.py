"""`neurodata connectome`: worm files -> result store, figures, structure vs function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import neurodata as nd
from neurodata.celegans.neurons import neurons
from neurodata.cli import cli
from neurodata.datasets.simulated import planted_worms

pytest.importorskip("tensorly")
pytest.importorskip("matplotlib")


@pytest.fixture
def worms(tmp_path):
    act, truth = planted_worms(n_worms=3, seed=2)
    names = list(neurons()[: act.sizes["neuron"]])  # real names: the connectome knows them
    act = act.assign_coords(neuron=names)
    truth["names"] = names
    paths = []
    for w in act["worm"].values:  # one file per worm, of different lengths
        one = act.sel(worm=[w]).dropna("time", how="all")
        paths.append(nd.save(xr.Dataset({"activity": one}), tmp_path / f"{w}.nc"))
    return paths, truth


def test_connectome_cli_writes_results_epochs_and_is_reproducible(tmp_path, worms):
    paths, truth = worms
    epochs = tmp_path / "epochs.csv"
    pd.DataFrame({"onset": [0.0, 90.0], "duration": [90.0, 90.0], "label": ["a", "b"]}).to_csv(
        epochs, index=False
    )
    names = truth["names"]
    edges = pd.DataFrame(
        [(names[i], names[i + 1], "chemical", 2) for i in range(len(names) - 1)],
        columns=["pre", "post", "type", "synapses"],
    )
    edges.to_csv(tmp_path / "edges.csv", index=False)
    args = [*map(str, paths), "--rank", "3", "--window", "30", "--seed", "1", "--epochs",
            str(epochs), "--connectome", str(tmp_path / "edges.csv"), "--n-null", "20", "-q"]  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(cli, ["connectome", *args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["connectome", *args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    res = nd.open(tmp_path / "a" / "connectome.zarr").load()
    assert res.attrs["affinity_method"] == "derivative"
    assert list(res["epoch_label"].values) == ["a", "b"]
    assert res.sizes["worm"] == 3 and res.sizes["component"] == 3
    xr.testing.assert_identical(res, nd.open(tmp_path / "b" / "connectome.zarr").load())
    structure = nd.open(tmp_path / "a" / "structure.zarr").load()
    p = structure["within_fraction_p"].sel(synapse_type="chemical")
    assert np.all((p > 0) & (p <= 1))
    for name in ("timeline.png", "communities_C0.png", "communities_C2.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    # outputs are not replaced without --overwrite
    again = runner.invoke(cli, ["connectome", *args, "--out", str(tmp_path / "a")])
    assert again.exit_code == 1
    assert "already exists; pass --overwrite" in again.stderr


def test_connectome_cli_rejects_the_unpublished_differential_affinity(tmp_path, worms):
    paths, _ = worms
    result = CliRunner().invoke(
        cli,
        ["connectome", *map(str, paths), "--affinity", "differential", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2  # a usage error, before anything is read
    assert "Invalid value for --affinity" in result.stderr
    assert "formula is not available to neurodata" in result.stderr
