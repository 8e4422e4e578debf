"""The compare report shows the numbers of its results.zarr, and says what they are."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata.pipelines.compare import compare
from neurodata.pipelines.report import CEILING_FLOOR, describe_parameters, group_summary
from neurodata.plotting.encoding import plot_best_layer
from tests.pipelines.test_compare import planted  # noqa: F401  (the module's fixture)


def _tables(text: str) -> dict[str, list[list[str]]]:
    """caption -> rows of cells (header row first) of every table of a report."""
    out = {}
    for body, caption in re.findall(
        r"<figure>(<table.*?</table>)\s*<figcaption>(.*?)</figcaption>", text, re.S
    ):
        rows = re.findall(r"<tr.*?>(.*?)</tr>", body, re.S)
        out[html.unescape(caption)] = [
            [html.unescape(c).strip() for c in re.findall(r"<t[hd].*?>(.*?)</t[hd]>", r, re.S)]
            for r in rows
        ]
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory, planted):  # noqa: F811
    acts, brain = planted
    out = tmp_path_factory.mktemp("compare") / "out"
    compare(brain, activations=acts, n_permutations=20, out=out, progress=False)
    return nd.open(out / "results.zarr").load(), (out / "report.html").read_text()


def test_every_table_number_is_the_stored_number(run):
    stored, text = run
    tables = _tables(text)
    r_table = next(rows for caption, rows in tables.items() if caption.startswith("Held-out r"))
    tdim = stored.attrs["target_dim"]
    mean_r = stored["r"].mean("subject")  # (layer, target)
    header = r_table[0]
    body = [row for row in r_table[1:] if row[0] in mean_r["layer"].values]
    targets = [t for t in header if t and t != tdim]
    assert len(body) == mean_r.sizes["layer"] and len(targets) == mean_r.sizes[tdim]
    for row in body:
        layer, cells = row[0], row[-len(targets) :]
        for target, cell in zip(targets, cells):
            value = float(mean_r.sel({"layer": layer, tdim: target}))
            assert float(cell) == pytest.approx(value, rel=5e-3, abs=5e-4), (layer, target)
    gain = next(rows for caption, rows in tables.items() if caption.startswith("Mean gain"))
    expected = stored["gain"].mean(("subject", tdim))
    rows = [row for row in gain if row[0] in expected["layer"].values]
    assert len(rows) == expected.sizes["layer"]
    for layer, cell in ((row[0], row[-1]) for row in rows):
        assert float(cell) == pytest.approx(float(expected.sel(layer=layer)), rel=5e-3, abs=5e-4)


def test_best_layer_bars_show_the_group_numbers_they_name(run):
    import matplotlib.pyplot as plt

    stored, text = run
    group = group_summary(stored)
    mean_r = stored["r"].mean("subject")
    # the layer written above a bar is the best layer of the group mean ...
    np.testing.assert_array_equal(
        group["best_layer"].values, mean_r["layer"].values[mean_r.argmax("layer").values]
    )
    fig = plot_best_layer(group, target_dim=stored.attrs["target_dim"])
    ax = fig.axes[0]
    labels = [t.get_text().split("\n")[0] for t in ax.texts]
    assert labels == [str(v) for v in group["best_layer"].values]
    # ... and the bar is that layer's group-mean r over the group ceiling
    ceiling = stored["ceiling"].mean("subject")
    expected = (mean_r.max("layer") / ceiling).where(ceiling >= CEILING_FLOOR)
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, np.nan_to_num(expected.values), rtol=1e-6)
    plt.close(fig)
    assert "highest group-mean r" in text and "divided by the group noise ceiling" in text


def test_a_ceiling_below_the_floor_gives_no_normalised_score():
    r = xr.DataArray(
        [[[0.2, 0.3], [0.4, 0.05]]] * 2,
        dims=("subject", "layer", "target"),
        coords={"layer": ["a", "b"], "target": ["ok", "noisy"]},
    )
    ceiling = xr.DataArray([[0.6, -0.002]] * 2, dims=("subject", "target"),
                           coords={"target": ["ok", "noisy"]})  # fmt: skip
    group = group_summary(xr.Dataset({"r": r, "ceiling": ceiling}))
    assert list(group["best_layer"].values) == ["b", "a"]
    assert float(group["normalized"].sel(target="ok")) == pytest.approx(0.4 / 0.6)
    assert np.isnan(group["normalized"].sel(target="noisy"))
    assert not bool(group["ceiling_ok"].sel(target="noisy"))


def test_parameters_are_said_in_words():
    words = describe_parameters({"zscore": 0, "drift_cutoff": 128.0, "n_permutations": 0})
    assert words["zscore"] == "not z-scored inside the folds"
    assert words["drift_cutoff"] == "cosine high-pass, cutoff 128.0 s"
    assert words["n_permutations"] == "no permutation test"
    assert describe_parameters({"zscore": True})["zscore"] == "z-scored inside each training fold"
