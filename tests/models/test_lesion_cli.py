"""`neurodata compare --lesion MASK` and `neurodata tag --model M --lesion MASK` (issue 19.5).

The lesioned jobs run the real model under `intervene`; the features they extracted are
read back from the activation cache they wrote, so the test sees what the job computed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from neurodata.datasets.simulated import story
from neurodata.models import extract_activations
from neurodata.pipelines.demo import simulated_brain_data

LAYERS = ["embeddings", "h.0", "h.1"]  # the tiny GPT-2's hidden layers
MASKED = [3, 7, 20]  # units of block 0 (h.0) lesioned


@pytest.fixture(scope="module")
def story_store(tiny_gpt2, tmp_path_factory):
    """A story heard by 3 simulated subjects whose responses come from the tiny GPT-2's h.0."""
    words = story(240, seed=3)
    acts = extract_activations(words, str(tiny_gpt2), pool="mean", context=8, progress=False)[
        "activation"
    ]
    brain = simulated_brain_data(acts, words, layer="h.0", n_subjects=3, snr=3.0, seed=1)
    path = tmp_path_factory.mktemp("story") / "story.zarr"
    nd.save(xr.merge([brain.responses.to_dataset(name="bold"), brain.words]), path)
    return path


def _mask(layers=LAYERS, n_units=32, units=MASKED, layer="h.0"):
    values = np.zeros((len(layers), n_units), dtype=bool)
    values[layers.index(layer), units] = True
    return xr.DataArray(values, dims=("layer", "unit"), coords={"layer": layers})


@pytest.fixture
def mask_store(tmp_path):
    path = tmp_path / "mask.zarr"
    nd.save(xr.Dataset({"mask": _mask()}), path)
    return path


def _compare(store, model, out, cache, *extra):
    args = ["compare", "--data", str(store), "--model", str(model), "--out", str(out),
            "--cache", str(cache), "--context", "8", "--cv", "3", "--n-permutations", "0",
            "-q", *extra]  # fmt: skip
    return CliRunner().invoke(cli, args)


def _cached_entries(cache):
    """The activation cache's entries: token activations (layer, token, unit), by lesion."""
    entries = {}
    for path in sorted(cache.glob("*.zarr")):
        entry = nd.open(path).load()
        key = json.loads(entry.attrs["cache_key"])
        entries["lesioned" if key["revision"].startswith("weights-") else "intact"] = entry
    return entries


def test_compare_lesion_zeroes_exactly_the_masked_units(
    tiny_gpt2, story_store, mask_store, tmp_path
):
    cache = tmp_path / "cache"
    intact = _compare(story_store, tiny_gpt2, tmp_path / "intact", cache)
    assert intact.exit_code == 0, intact.output
    lesioned = _compare(story_store, tiny_gpt2, tmp_path / "lesioned", cache,
                        "--lesion", str(mask_store))  # fmt: skip
    assert lesioned.exit_code == 0, lesioned.output
    assert "LESIONED MODEL: 3 hidden units set to 0" in lesioned.output

    # the cache keyed the intervention: a second entry, not the intact one read back
    entries = _cached_entries(cache)
    assert set(entries) == {"intact", "lesioned"}
    a, b = (entries[k]["activation"] for k in ("intact", "lesioned"))
    xr.testing.assert_equal(a.sel(layer="embeddings"), b.sel(layer="embeddings"))
    assert (b.sel(layer="h.0", unit=MASKED) == 0).all()
    assert not (a.sel(layer="h.0", unit=MASKED) == 0).any()
    others = np.setdiff1d(np.arange(32), MASKED)
    xr.testing.assert_equal(a.sel(layer="h.0", unit=others), b.sel(layer="h.0", unit=others))
    assert float(abs(a.sel(layer="h.1") - b.sel(layer="h.1")).min("token").max()) > 0

    # the store and the report say a lesion was applied, and how
    res = nd.open(tmp_path / "lesioned" / "results.zarr")
    assert res.attrs["lesion_mask"] == str(mask_store)
    assert res.attrs["lesion_mode"] == "zero" and res.attrs["lesion_kind"] == "hidden"
    assert res.attrs["lesion_units"] == 3
    assert res.attrs["lesion_layers"] == LAYERS
    assert res.attrs["lesion_units_per_layer"] == [0, 3, 0]
    assert len(res.attrs["lesion_mask_sha256"]) == 64
    html = (tmp_path / "lesioned" / "report.html").read_text()
    head = html[: html.index("Which layer predicts which region")]
    assert "(lesioned model)" in head and "LESIONED MODEL: 3 hidden units" in head
    assert f"mask {mask_store}" in head and "h.0 3" in head

    # the unlesioned run is unchanged: no lesion attrs, the same scores as before the lesion
    first = nd.open(tmp_path / "intact" / "results.zarr")
    assert not any(k.startswith("lesion") for k in first.attrs)
    again = _compare(story_store, tiny_gpt2, tmp_path / "again", cache)
    assert again.exit_code == 0, again.output
    xr.testing.assert_equal(nd.open(tmp_path / "again" / "results.zarr")["r"], first["r"])
    assert not (nd.open(tmp_path / "lesioned" / "results.zarr")["r"] == first["r"]).all()


def test_compare_lesion_mean_mode_sets_the_units_to_their_intact_mean(
    tiny_gpt2, story_store, mask_store, tmp_path
):
    cache = tmp_path / "cache"
    result = _compare(story_store, tiny_gpt2, tmp_path / "mean", cache,
                      "--lesion", str(mask_store), "--lesion-mode", "mean")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "set to their mean over the job's stimuli" in result.output
    assert nd.open(tmp_path / "mean" / "results.zarr").attrs["lesion_mode"] == "mean"
    words = story(240, seed=3)  # the story of the store
    intact = extract_activations(words, str(tiny_gpt2), pool="mean", context=8, progress=False)[
        "activation"
    ]
    intact = intact.sel(layer="h.0", unit=MASKED)
    # the cache holds the intact reference and the lesioned extraction
    entries = _cached_entries(cache)
    assert set(entries) == {"lesioned"} and len(list(cache.glob("*.zarr"))) == 2
    values = [nd.open(e)["activation"].sel(layer="h.0", unit=MASKED) for e in cache.glob("*.zarr")]
    constant = [v for v in values if bool((v.max("token") == v.min("token")).all())]
    assert len(constant) == 1  # the lesioned entry: every token holds the unit's mean
    np.testing.assert_allclose(constant[0].isel(token=0), intact.mean("word"), rtol=1e-5)


def test_compare_accepts_the_folder_written_by_localize(tiny_gpt2, story_store, tmp_path):
    from neurodata.pipelines.localize import localize
    from tests.models.test_localize_cli import _write_localizer

    loc = tmp_path / "loc"
    mask = localize(_write_localizer(tmp_path / "stimuli"), str(tiny_gpt2), fraction=0.05,
                    control=False, out=loc, progress=False)["mask"]  # fmt: skip
    result = _compare(story_store, tiny_gpt2, tmp_path / "out", tmp_path / "cache",
                      "--lesion", str(loc))  # fmt: skip
    assert result.exit_code == 0, result.output
    attrs = nd.open(tmp_path / "out" / "results.zarr").attrs
    assert attrs["lesion_mask"] == str(loc / "localizer.zarr")
    assert attrs["lesion_units_per_layer"] == [int(v) for v in mask.sum("unit").values]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_mask(layers=["embeddings", "encoder.layer.0", "encoder.layer.1"], layer="encoder.layer.0"),
         r"lesion mask .*mask.zarr: `units`: layer\(s\) \['encoder.layer.0'.* are not layers of "
         r"GPT2Model; expected hidden layers \['embeddings', 'h.0', 'h.1'\]"),
        (_mask(n_units=48), r"lesion mask .*mask.zarr: `units`: layer 'embeddings' has 32 units; "
         r"the mask has 48"),
        (_mask().rename(unit="neuron"), r"expected dims \('layer', 'unit'\); found \('layer', 'neuron'\)"),
        (_mask().astype(float) * 0.5, r"expected boolean values \(or 0/1\); found dtype float64"),
        (_mask(units=[]), "expected at least one selected unit; found none"),
        (xr.Dataset({"statistic": _mask().astype(float)}),
         r"expected a store written by `neurodata localize`.*found variables \['statistic'\]"),
    ],
    ids=["layer-names", "unit-count", "dims", "dtype", "empty", "not-a-mask"],
)  # fmt: skip
def test_bad_masks_get_one_line_and_exit_non_zero(tiny_gpt2, story_store, tmp_path, bad, message):
    path = tmp_path / "mask.zarr"
    nd.save(bad if isinstance(bad, xr.Dataset) else xr.Dataset({"mask": bad}), path)
    out = tmp_path / "out"
    for args in (
        ["compare", "--data", str(story_store), "--model", str(tiny_gpt2), "--out", str(out)],
        ["tag", "--model", str(tiny_gpt2), "--n-permutations", "5"],
    ):
        result = CliRunner().invoke(cli, [*args, "--lesion", str(path), "-q"] if args[0] == "compare"
                                    else [*args, "--lesion", str(path)])  # fmt: skip
        assert result.exit_code == 1, result.output
        line = result.stderr.strip().splitlines()[-1]  # after transformers' loading bar
        assert line.startswith("neurodata: error: ") and result.stderr.count("neurodata:") == 1
        assert __import__("re").search(message, line), line
    assert not out.exists()  # refused before any work


def test_a_missing_or_unreadable_mask_is_named(tiny_gpt2, story_store, tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    for path, message in ((tmp_path / "none.zarr", "none.zarr: no such file or directory"),
                          (tmp_path / "notes.csv", "expected a store written by `neurodata localize`")):  # fmt: skip
        result = CliRunner().invoke(cli, ["tag", "--model", str(tiny_gpt2), "--lesion", str(path)])
        assert result.exit_code == 1 and message in result.stderr, result.output


# --- neurodata tag --model M --lesion MASK -----------------------------------------------


def _tag(model, sentences, out, *extra):
    args = ["tag", "--model", str(model), "--sentences", str(sentences), "--out", str(out),
            "--n-permutations", "20", "--json", *extra]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_tag_model_lesion_edits_exactly_the_masked_neurons(tiny_gpt2, tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("\n".join(["big dog ate bones", "small cat saw mice", "old man read books",
                                    "red fox hid eggs"] * 4))  # fmt: skip
    intact = _tag(tiny_gpt2, sentences, tmp_path / "intact")
    mlp = intact["layers"]  # the MLP layers the probe reads
    assert len(mlp) == 2
    path = tmp_path / "mlp-mask.zarr"
    nd.save(xr.Dataset({"mask": _mask(layers=mlp, n_units=128, units=[5, 9], layer=mlp[1])}), path)
    lesioned = _tag(tiny_gpt2, sentences, tmp_path / "lesioned", "--lesion", str(path))
    assert lesioned["lesion"]["lesion_kind"] == "mlp"
    assert lesioned["lesion"]["lesion_units_per_layer"] == [0, 2]
    for condition in ("structured", "scrambled", "random"):
        a = nd.open(tmp_path / "intact" / f"hftp-{condition}.zarr").load()
        b = nd.open(tmp_path / "lesioned" / f"hftp-{condition}.zarr").load()
        assert b.attrs["lesion_mask"] == str(path) and b.attrs["lesion_units"] == 2
        assert not any(k.startswith("lesion") for k in a.attrs)
        # zeroed neurons have no amplitude at any tagged rate; every other neuron is untouched
        assert (b["value"].sel(layer=mlp[1], unit=[5, 9]) == 0).all()
        assert (a["value"].sel(layer=mlp[1], unit=[5, 9]) > 0).all()
        others = np.setdiff1d(np.arange(128), [5, 9])
        xr.testing.assert_allclose(a["value"].sel(layer=mlp[1], unit=others),
                                   b["value"].sel(layer=mlp[1], unit=others))  # fmt: skip
        xr.testing.assert_allclose(a["value"].sel(layer=mlp[0]), b["value"].sel(layer=mlp[0]))
    again = _tag(tiny_gpt2, sentences, tmp_path / "again")
    assert again == intact  # the unlesioned run is unchanged

    from neurodata.pipelines.hftp import hftp_section

    section = hftp_section({"structured": b}, model=str(tiny_gpt2))
    assert section.notice.startswith("LESIONED MODEL: 2 mlp units set to 0")


def test_tag_lesion_needs_a_model(tmp_path):
    result = CliRunner().invoke(cli, ["tag", str(tmp_path), "--event-freq", "1=2", "--duration",
                                      "1", "--lesion", str(tmp_path / "m.zarr")])  # fmt: skip
    assert (
        result.exit_code == 2
        and "--lesion lesions a model's units: it needs --model" in result.output
    )
