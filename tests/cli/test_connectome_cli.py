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
    assert res.attrs["affinity_method"] == "derivative_correlation"
    assert res.attrs["window"] == 30.0 and "window_rule" not in res.attrs
    assert list(res["epoch_label"].values) == ["a", "b"]
    assert res.sizes["worm"] == 3 and res.sizes["component"] == 3
    xr.testing.assert_identical(res, nd.open(tmp_path / "b" / "connectome.zarr").load())
    structure = nd.open(tmp_path / "a" / "structure.zarr").load()
    p = structure["within_fraction_p"].sel(synapse_type="chemical")
    assert np.all((p > 0) & (p <= 1))
    for name in ("timeline.png", "communities_C0.png", "communities_C2.png", "stability_C1.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    # outputs are not replaced without --overwrite
    again = runner.invoke(cli, ["connectome", *args, "--out", str(tmp_path / "a")])
    assert again.exit_code == 1
    assert "already holds" in again.stderr and "pass --overwrite" in again.stderr
    # any earlier output is refused before the analysis runs, the store too
    (tmp_path / "b" / "connectome.zarr").rename(tmp_path / "b" / "kept.zarr")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "b").iterdir()}
    third = runner.invoke(cli, ["connectome", *args, "--out", str(tmp_path / "b")])
    assert third.exit_code == 1 and "structure.zarr" in third.stderr
    assert "stability_C1.png" in third.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "b").iterdir()} == before


def test_connectome_cli_rejects_the_unpublished_differential_affinity(tmp_path, worms):
    paths, _ = worms
    result = CliRunner().invoke(
        cli,
        ["connectome", *map(str, paths), "--affinity", "differential", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2  # a usage error, before anything is read
    assert "Invalid value for --affinity" in result.stderr
    assert "formula is not available to neurodata" in result.stderr


def _write_flavell_worms(folder, *, labelled):
    """Planted worms as Flavell-lab HDF5 files (h5py), label tables beside some of them."""
    h5py = pytest.importorskip("h5py")
    act, _ = planted_worms(n_worms=3, seed=3)
    names = list(neurons()[: act.sizes["neuron"]])
    rng = np.random.default_rng(0)
    paths = []
    for k, w in enumerate(act["worm"].values):
        one = act.sel(worm=w).dropna("time", how="all")
        order = rng.permutation(len(names))  # ROI columns in an order of their own
        path = folder / f"2024-01-0{k}-01-data.h5"
        with h5py.File(path, "w") as fh:
            fh["gcamp/trace_array"] = one.values[:, order]
            fh["timing/timestamp_confocal"] = 100.0 + one["timestamps"].values
        if k in labelled:
            table = pd.DataFrame({"roi": np.arange(1, len(order) + 1),
                                  "label": [names[c] for c in order], "confidence": 5.0})  # fmt: skip
            table.to_csv(folder / f"2024-01-0{k}-01_neuropal_labels.csv", index=False)
        paths.append(path)
    return paths, names


def test_connectome_cli_finds_label_tables_beside_flavell_files(tmp_path):
    paths, names = _write_flavell_worms(tmp_path, labelled={0, 1})
    out = tmp_path / "motifs"
    result = CliRunner().invoke(
        cli, ["connectome", *map(str, paths), "--out", str(out), "--rank", "3", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "2024-01-00-01-data.h5: labels from" in result.stderr
    # the third worm has no table: said in one line, and it only adds NaN
    assert "2024-01-02-01-data.h5: no NeuroPAL label table beside it" in result.stderr
    assert "2024-01-02-01_neuropal_labels.csv" in result.stderr
    res = nd.open(out / "connectome.zarr").load()
    assert sorted(res["neuron"].values) == sorted(names)  # names, not ROI numbers
    assert res.sizes["worm"] == 3
    assert res.attrs["window_rule"].startswith("30 x time_scale")
    assert (out / "communities_C0.png").exists() and (out / "stability_C0.png").exists()


def test_connectome_cli_without_any_label_table_says_why(tmp_path):
    paths, _ = _write_flavell_worms(tmp_path, labelled=set())
    result = CliRunner().invoke(cli, ["connectome", *map(str, paths), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no NeuroPAL label table beside it" in result.stderr
    assert "0 neuron(s) hold finite values" in result.stderr
    assert "were the label tables" in result.stderr


def test_connectome_cli_stacks_worms_with_celegans_stack():
    import neurodata.cli.connectome as command

    assert not hasattr(command, "stack_worms")  # one implementation: neurodata.celegans.stack
    assert command.stack is nd.celegans.stack


@pytest.mark.shared_data
def test_connectome_cli_on_the_real_worms(shared_data, tmp_path):
    folder = shared_data / "celegans" / "flavell2023"
    files = sorted(folder.glob("*-data.h5"))[:2]
    if len(files) < 2:
        pytest.skip(f"no Flavell worms in {folder}")
    out = tmp_path / "motifs"
    result = CliRunner().invoke(
        cli,
        [
            "connectome",
            *map(str, files),
            "--out",
            str(out),
            "--rank",
            "2",
            "-q",
            "--resolution",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.count("labels from") == 2
    res = nd.open(out / "connectome.zarr").load()
    assert res.sizes["neuron"] > 50 and "AVAL" in set(res["neuron"].values)
