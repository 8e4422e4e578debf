"""lesion_effect against random lesions, on tiny random GPT-2/Llama and MiniLM."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata.errors import SchemaError
from neurodata.models import (
    extract_activations,
    intervene,
    lesion_effect,
    lm_loss,
    load_model,
    random_masks,
)

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SENTENCES = ["Alice was beginning to get very tired", "of sitting by her sister on the bank"]


def _mask(acts, layer, units):
    mask = xr.zeros_like(acts.isel(stimulus=0, drop=True), dtype=bool)
    mask.loc[{"layer": layer, "unit": units}] = True
    return mask


def test_random_masks_keep_per_layer_counts_and_avoid_the_mask(tiny_gpt2):
    model = load_model(tiny_gpt2)
    acts = extract_activations(SENTENCES, model, progress=False)["activation"]
    mask = _mask(acts, "h.0", [0, 1, 2]) | _mask(acts, "h.1", [5])
    draws = random_masks(mask, 20, seed=3)
    for draw in draws:
        np.testing.assert_array_equal(draw.sum("unit").values, mask.sum("unit").values)
        assert not (draw & mask).any()
    again = random_masks(mask, 20, seed=3)
    assert all((a == b).all() for a, b in zip(draws, again))
    with pytest.raises(SchemaError, match="only 0 outside the mask; pass disjoint=False"):
        random_masks(xr.ones_like(mask), 1)


def test_lesion_of_the_measured_units_is_extreme_among_random_lesions(tiny_gpt2, tmp_path):
    model = load_model(tiny_gpt2)
    acts = extract_activations(SENTENCES, model, progress=False)["activation"]
    units = [
        int(u)
        for u in np.argsort(-np.abs(acts.sel(layer="embeddings").mean("stimulus").values))[:2]
    ]
    mask = _mask(acts, "embeddings", units)

    def measure(m):
        out = extract_activations(SENTENCES, m, progress=False)["activation"]
        return float(np.abs(out.sel(layer="embeddings", unit=units)).mean())

    res = lesion_effect(measure, model, mask, n_random=5, progress=False, seed=1)
    assert float(res["lesioned"]) == 0.0
    assert float(res["effect"]) == pytest.approx(-float(res["intact"]))
    np.testing.assert_array_equal(res["random_effect"].values, 0.0)  # disjoint lesions: no change
    assert float(res["percentile"]) == 0.0 and float(res["p_value"]) == pytest.approx(1 / 6)
    assert res.attrs["n_units"] == 2 and res.attrs["n_random"] == 5
    for name in ("r.nc", "r.zarr"):  # the result saves as it is
        xr.testing.assert_allclose(nd.open(nd.save(res, tmp_path / name)).load(), res)


def test_lm_loss_and_array_measures(tiny_llama):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_llama, local_files_only=True)
    acts = extract_activations(SENTENCES, model, tokenizer=tiny_llama, progress=False)["activation"]
    mask = _mask(acts, "layers.0", list(range(8)))
    loss = lm_loss(SENTENCES, tiny_llama)
    res = lesion_effect(loss, model, mask, n_random=3, progress=False)
    assert float(res["effect"]) != 0.0 and res["random_effect"].sizes == {"random": 3}
    assert 0.0 <= float(res["percentile"]) <= 100.0

    def per_layer(m):
        out = extract_activations(SENTENCES, m, tokenizer=tiny_llama, progress=False)
        return out["activation"].mean(("stimulus", "unit"))

    arr = lesion_effect(per_layer, model, mask, n_random=2, progress=False)
    assert arr["effect"].dims == ("layer",) and arr["percentile"].dims == ("layer",)
    assert float(arr["effect"].sel(layer="embeddings")) == 0.0  # upstream of the lesion
    with pytest.raises(SchemaError, match="has no language-model head"):
        lm_loss(SENTENCES, tiny_llama)(load_model(tiny_llama))


def test_cache_never_returns_intact_activations_under_an_intervention(tiny_gpt2, tmp_path):
    model = load_model(tiny_gpt2)
    intact = extract_activations(SENTENCES, model, cache=tmp_path, progress=False)["activation"]
    mask = _mask(intact, "h.0", [0, 1])
    with intervene(model, mask):
        lesioned = extract_activations(SENTENCES, model, cache=tmp_path, progress=False)
    assert float(np.abs(lesioned["activation"].sel(layer="h.0", unit=[0, 1])).max()) == 0.0
    again = extract_activations(SENTENCES, model, cache=tmp_path, progress=False)["activation"]
    xr.testing.assert_identical(again, intact)


def test_pooling_batches_of_random_lesions_equals_one_null(tiny_gpt2):
    model = load_model(tiny_gpt2)
    acts = extract_activations(SENTENCES, model, progress=False)["activation"]
    mask = _mask(acts, "h.0", [0, 1, 2])

    def measure(m):  # per layer: a DataArray-valued measure
        return extract_activations(SENTENCES, m, progress=False)["activation"].mean(
            ("stimulus", "unit")
        )

    batches = [lesion_effect(measure, model, mask, n_random=n, progress=False, seed=s)
               for s, n in ((0, 3), (1, 2))]  # fmt: skip
    pooled = nd.models.pool_lesion_effects(batches)
    assert pooled.attrs["n_random"] == 5 and pooled.attrs["seeds"] == [0, 1]
    null = np.concatenate([b["random_effect"].values for b in batches])
    np.testing.assert_array_equal(pooled["random_effect"].values, null)
    effect = batches[0]["effect"].values
    below = (null < effect).sum(0) + 0.5 * (null == effect).sum(0)
    np.testing.assert_allclose(pooled["percentile"].values, 100 * below / 5)
    p = (1 + (np.abs(null) >= np.abs(effect) - 1e-12).sum(0)) / 6
    np.testing.assert_allclose(pooled["p_value"].values, p)
    other = lesion_effect(measure, model, _mask(acts, "h.0", [4]), n_random=1, progress=False)
    with pytest.raises(SchemaError, match=r"result 1 has another `lesioned` measure than result 0"):
        nd.models.pool_lesion_effects([batches[0], other])
    with pytest.raises(SchemaError, match=r"with random lesions \(n_random > 0\)"):
        nd.models.pool_lesion_effects([batches[0].drop_vars("random_effect")])
