"""Stimulus sets: independent stimuli are encoded alone, against bare transformers passes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.errors import SchemaError
from neurodata.models import extract_activations

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SENTENCES = [
    "Alice was beginning to get very tired",
    "of sitting by her sister on the bank",
    "and of having nothing to do",
    "once or twice she had peeped into the book",
]


def _bare(path, text):
    """Hidden states (layer, token, unit) of ``text`` alone, with the tokenizer's specials."""
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True).eval()
    tok = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    enc = tok(text, return_special_tokens_mask=True)
    with torch.no_grad():
        out = model(input_ids=torch.tensor([enc["input_ids"]]), output_hidden_states=True)
    keep = np.asarray(enc["special_tokens_mask"]) == 0
    return torch.stack(out.hidden_states)[:, 0].numpy()[:, keep]


def test_minilm_list_of_sentences_is_encoded_one_by_one(minilm):
    ds = extract_activations(SENTENCES, minilm, progress=False)
    assert ds["activation"].dims == ("layer", "stimulus", "unit")
    assert ds.sizes["stimulus"] == len(SENTENCES)
    assert list(ds["text"].values) == SENTENCES
    assert ds.attrs["pool"] == "mean" and ds.attrs["stimuli"] == "independent"
    for i, text in enumerate(SENTENCES):
        ref = _bare(minilm, text)
        assert ds["n_tokens"].values[i] == ref.shape[1]
        np.testing.assert_allclose(ds["activation"].values[:, i], ref.mean(axis=1), atol=1e-5)


def test_issue17_items_do_not_leak_into_each_other(minilm):
    """Issue 17 case 6: each item as in the set equals the item alone; a stream differs."""
    alone = extract_activations([SENTENCES[2]], minilm, stream=False, progress=False)
    in_set = extract_activations(SENTENCES, minilm, progress=False)
    leak = np.abs(in_set["activation"].values[:, 2] - alone["activation"].values[:, 0]).max()
    assert leak < 1e-5
    stream = extract_activations(SENTENCES, minilm, stream=True, pool="mean", progress=False)
    assert stream["activation"].dims == ("layer", "word", "unit")
    assert stream.sizes["word"] == sum(len(s.split()) for s in SENTENCES)


@pytest.mark.parametrize("how", ["last", "first", "mean"])
@pytest.mark.parametrize("fixture", ["tiny_gpt2", "tiny_llama"])
def test_causal_models_pool_each_stimulus_alone(fixture, how, request):
    path = request.getfixturevalue(fixture)
    ds = extract_activations(SENTENCES, path, pool=how, batch_size=3, progress=False)
    for i, text in enumerate(SENTENCES):
        ref = _bare(path, text)
        expected = {"mean": ref.mean(axis=1), "first": ref[:, 0], "last": ref[:, -1]}[how]
        np.testing.assert_allclose(ds["activation"].values[:, i], expected, atol=1e-5)


def test_mlp_neurons_of_a_set_and_condition_coords_carried(tiny_gpt2):
    stim = xr.Dataset(
        coords={
            "stimulus": ["a", "b", "c", "d"],
            "text": ("stimulus", SENTENCES),
            "condition": ("stimulus", ["x", "y", "x", "y"]),
        }
    )
    ds = extract_activations(stim, tiny_gpt2, kind="mlp", progress=False)
    assert ds["activation"].dims == ("layer", "stimulus", "unit")
    assert ds.sizes["unit"] == 128  # 4 * n_embd
    assert list(ds["stimulus"].values) == ["a", "b", "c", "d"]
    assert list(ds["condition"].values) == ["x", "y", "x", "y"]


def test_single_words_stay_a_stream_unless_asked(tiny_gpt2):
    words = ["Alice", "was", "beginning", "to", "get"]
    assert "token" in extract_activations(words, tiny_gpt2, progress=False).dims
    ds = extract_activations(words, tiny_gpt2, stream=False, progress=False)
    assert ds.sizes["stimulus"] == len(words)


def test_set_and_stream_of_the_same_texts_are_cached_apart(tiny_gpt2, tmp_path):
    a = extract_activations(SENTENCES, tiny_gpt2, cache=tmp_path, progress=False)
    b = extract_activations(
        SENTENCES, tiny_gpt2, stream=True, context=16, cache=tmp_path, progress=False
    )
    assert len(list(tmp_path.glob("*.zarr"))) == 2
    again = extract_activations(SENTENCES, tiny_gpt2, cache=tmp_path, progress=False)
    xr.testing.assert_identical(a, again)
    assert "token" in b.dims


def test_bad_stimulus_sets_are_refused(tiny_gpt2):
    with pytest.raises(SchemaError, match=r"position\(s\) \[1\] have empty text"):
        extract_activations(["one sentence", "  "], tiny_gpt2, stream=False, progress=False)
    stim = xr.Dataset(coords={"stimulus": [0, 1], "text": ("stimulus", ["a b", "c d"])})
    with pytest.raises(SchemaError, match="`stream=True` needs a word stream"):
        extract_activations(stim, tiny_gpt2, stream=True, progress=False)
    with pytest.raises(SchemaError, match="expected a string variable 'text'"):
        extract_activations(stim.rename(text="words"), tiny_gpt2, progress=False)
    with pytest.raises(ValueError, match="`stream` must be True, False or None; got 'yes'"):
        extract_activations(SENTENCES, tiny_gpt2, stream="yes", progress=False)
    with pytest.raises(ValueError, match="takes at most 64 positions; stimulus 0 has"):
        extract_activations([" ".join(SENTENCES * 4)], tiny_gpt2, stream=False, progress=False)
