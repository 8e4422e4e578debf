"""extract_activations against bare transformers forward passes and manual recomputation."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import xarray as xr

from neurodata.errors import NotFoundError, SchemaError
from neurodata.models import _hf
from neurodata.models.activations import POOLS, extract_activations, pool_words
from neurodata.models.stimuli import as_words

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = "Alice was beginning to get unbelievably tired of sitting by her sister".split()
TOL = 1e-5


@functools.cache
def _bare(path):
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True).eval()
    tok = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    return model, tok


def _bare_hidden(path, ids):
    """Hidden states (layer, position, unit) of one sequence of token ids, no wrapper."""
    model, _ = _bare(path)
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return torch.stack(out.hidden_states)[:, 0].numpy()


def _ids(path, text, special=True):
    _, tok = _bare(path)
    return tok(text, add_special_tokens=special)["input_ids"]


# --------------------------------------------------------------------------------------
# hidden states equal a bare forward pass
# --------------------------------------------------------------------------------------


def test_minilm_hidden_equals_bare_forward_per_word(minilm):
    ds = extract_activations(WORDS, minilm, context=64, progress=False)
    assert ds["activation"].dims == ("layer", "token", "unit")
    assert ds.sizes["layer"] == 7 and ds.sizes["unit"] == 384
    assert ds.sizes["token"] > len(WORDS)  # "unbelievably" is several word pieces
    worst = 0.0
    for w in range(len(WORDS)):
        # a masked model sees each word with its left context only: [CLS] w_0..w_k [SEP]
        ref = _bare_hidden(minilm, _ids(minilm, " ".join(WORDS[: w + 1])))
        ours = ds["activation"].values[:, ds["word_index"].values == w]
        n = ours.shape[1]
        worst = max(worst, float(np.abs(ours - ref[:, -1 - n : -1]).max()))
    print(f"MiniLM max abs difference vs bare transformers: {worst:.2e}")
    assert worst <= TOL


def test_gpt2_single_window_equals_bare_forward(tiny_gpt2):
    text = " ".join(WORDS)
    ds = extract_activations(text, tiny_gpt2, context=64, stride=60, progress=False)
    ref = _bare_hidden(tiny_gpt2, _ids(tiny_gpt2, text))
    assert ds.sizes["layer"] == 3 and ref.shape[1] == ds.sizes["token"]
    diff = float(np.abs(ds["activation"].values - ref).max())
    print(f"tiny GPT-2 max abs difference vs bare transformers: {diff:.2e}")
    assert diff <= TOL
    assert list(ds["layer"].values) == ["embeddings", "h.0", "h.1"]


def test_gpt2_sliding_windows_equal_bare_forward_of_each_window(tiny_gpt2):
    text = " ".join(WORDS * 2)
    context, stride = 5, 3
    ds = extract_activations(
        text, tiny_gpt2, context=context, stride=stride, batch_size=4, progress=False
    )
    ids = _ids(tiny_gpt2, text)
    assert ds["token_id"].values.tolist() == ids
    for t in range(len(ids)):
        start = max(0, t // stride * stride - context)
        ref = _bare_hidden(tiny_gpt2, ids[start : t + 1])[:, -1]
        np.testing.assert_allclose(ds["activation"].values[:, t], ref, atol=TOL, rtol=0)


def test_llama_hidden_equals_bare_forward_with_bos(tiny_llama):
    text = " ".join(WORDS)
    ds = extract_activations(text, tiny_llama, context=64, progress=False)
    ids = _ids(tiny_llama, text)
    _, tok = _bare(tiny_llama)
    assert ids[0] == tok.bos_token_id
    ref = _bare_hidden(tiny_llama, ids)[:, 1:]  # our tokens exclude the BOS
    diff = float(np.abs(ds["activation"].values - ref).max())
    print(f"tiny Llama max abs difference vs bare transformers: {diff:.2e}")
    assert diff <= TOL


def test_importing_models_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, neurodata.models; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_outputs_follow_the_data_model(tiny_gpt2):
    from neurodata.schema import validate

    validate(extract_activations(WORDS, tiny_gpt2, progress=False))
    validate(extract_activations(WORDS, tiny_gpt2, pool="mean", progress=False))


def test_token_to_word_mapping(minilm, tiny_gpt2):
    for path in (minilm, tiny_gpt2):
        ds = extract_activations(WORDS, path, progress=False)
        widx = ds["word_index"].values
        assert widx[0] == 0 and widx[-1] == len(WORDS) - 1
        assert np.all(np.diff(widx) >= 0)
        assert set(widx) == set(range(len(WORDS)))
        assert ds["text"].values.tolist() == [WORDS[i] for i in widx]


# --------------------------------------------------------------------------------------
# MLP neurons equal a manual recomputation of the MLP
# --------------------------------------------------------------------------------------


def _mlp_inputs(model, container, ids):
    """Inputs of each block's MLP module (captured independently of neurodata)."""
    seen = []
    handles = [
        m.register_forward_pre_hook(lambda mod, args: seen.append(args[0][0])) for m in container
    ]
    with torch.no_grad():
        model(input_ids=torch.tensor([ids]))
    for h in handles:
        h.remove()
    return seen


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_mlp_neurons_equal_manual_recomputation(arch, tiny_gpt2, tiny_llama, minilm):
    path = {"gpt2": tiny_gpt2, "llama": tiny_llama, "bert": minilm}[arch]
    text = " ".join(WORDS[:6])
    # one window: the whole text (masked models: the last word's window)
    ds = extract_activations(text, path, kind="mlp", context=64, progress=False)
    model, _ = _bare(path)
    ids = _ids(path, text)
    with torch.no_grad():
        if arch == "gpt2":
            mlps = [b.mlp for b in model.h]
            act = transformers.activations.ACT2FN[model.config.activation_function]
            manual = [
                act(x @ m.c_fc.weight + m.c_fc.bias)
                for x, m in zip(_mlp_inputs(model, mlps, ids), mlps)
            ]
            keep = slice(None)
        elif arch == "llama":
            mlps = [b.mlp for b in model.layers]
            act = torch.nn.functional.silu
            manual = [
                act(x @ m.gate_proj.weight.T) * (x @ m.up_proj.weight.T)
                for x, m in zip(_mlp_inputs(model, mlps, ids), mlps)
            ]
            keep = slice(1, None)  # drop the BOS
        else:
            mlps = [b.intermediate for b in model.encoder.layer]
            act = torch.nn.functional.gelu
            manual = [
                act(x @ m.dense.weight.T + m.dense.bias)
                for x, m in zip(_mlp_inputs(model, mlps, ids), mlps)
            ]
            keep = slice(1, -1)  # drop [CLS] and [SEP]
    manual = torch.stack(manual).numpy()[:, keep]
    assert ds.sizes["layer"] == model.config.num_hidden_layers
    assert ds.sizes["unit"] == manual.shape[-1]
    ours = ds["activation"].values
    if arch == "bert":  # only the last word's tokens come from the full-text window
        last = ds["word_index"].values == ds["word_index"].values.max()
        ours, manual = ours[:, last], manual[:, last]
    np.testing.assert_allclose(ours, manual, atol=TOL, rtol=0)
    assert list(ds["depth"].values) == list(range(1, model.config.num_hidden_layers + 1))


def test_mlp_hooks_are_removed(tiny_gpt2):
    model, tok = _bare(tiny_gpt2)
    before = sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())
    extract_activations(WORDS, model, tokenizer=tok, kind="mlp", progress=False)
    after = sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())
    assert after == before


def test_unmapped_mlp_architecture_is_reported(tiny_gpt2, monkeypatch):
    monkeypatch.delitem(_hf.MLP_HOOKS, "gpt2")
    with pytest.raises(NotImplementedError, match="'gpt2' are not mapped"):
        extract_activations(WORDS, tiny_gpt2, kind="mlp", progress=False)


# --------------------------------------------------------------------------------------
# causality and determinism
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["minilm", "gpt2"])
def test_later_words_do_not_change_earlier_words(which, minilm, tiny_gpt2):
    path = minilm if which == "minilm" else tiny_gpt2
    changed = [*WORDS[:-1], "conversations"]
    a = extract_activations(WORDS, path, context=6, stride=4, pool="last", progress=False)
    b = extract_activations(changed, path, context=6, stride=4, pool="last", progress=False)
    early = slice(0, len(WORDS) - 1)
    np.testing.assert_allclose(
        a["activation"].values[:, early], b["activation"].values[:, early], atol=TOL, rtol=0
    )
    assert not np.allclose(a["activation"].values[:, -1], b["activation"].values[:, -1])


def test_deterministic_and_batch_size_invariant(tiny_gpt2):
    a = extract_activations(WORDS * 2, tiny_gpt2, context=4, stride=2, batch_size=1, progress=False)
    b = extract_activations(WORDS * 2, tiny_gpt2, context=4, stride=2, batch_size=7, progress=False)
    np.testing.assert_allclose(a["activation"].values, b["activation"].values, atol=TOL, rtol=0)


def test_bfloat16_compute_returns_float32(tiny_gpt2):
    ds = extract_activations(WORDS, tiny_gpt2, dtype="bfloat16", progress=False)
    ref = extract_activations(WORDS, tiny_gpt2, progress=False)
    assert ds["activation"].dtype == np.float32 and ds.attrs["dtype"] == "bfloat16"
    np.testing.assert_allclose(ds["activation"].values, ref["activation"].values, atol=0.1)


# --------------------------------------------------------------------------------------
# pooling, timing, stimuli
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", sorted(POOLS))
def test_pooling_matches_manual(how, minilm):
    tokens = extract_activations(WORDS, minilm, progress=False)
    words = pool_words(tokens, how)
    assert words["activation"].dims == ("layer", "word", "unit")
    assert words.sizes["word"] == len(WORDS)
    assert words["text"].values.tolist() == WORDS
    for w in range(len(WORDS)):
        sel = tokens["activation"].values[:, tokens["word_index"].values == w]
        expected = {"mean": sel.mean(axis=1), "first": sel[:, 0], "last": sel[:, -1]}[how]
        np.testing.assert_allclose(words["activation"].values[:, w], expected, atol=1e-6)
    assert words["n_tokens"].values[WORDS.index("unbelievably")] > 1


def test_timed_words_dataset_carries_onsets(tiny_gpt2):
    onset = np.arange(len(WORDS)) * 0.3 + 20.0
    stim = xr.Dataset(
        {
            "onset": ("word", onset, {"units": "s"}),
            "offset": ("word", onset + 0.25, {"units": "s"}),
        },
        coords={"word": np.array(WORDS, dtype=object)},
    )
    ds = extract_activations(stim, tiny_gpt2, pool="mean", progress=False)
    np.testing.assert_array_equal(ds["onset"].values, onset)
    np.testing.assert_array_equal(ds["offset"].values, onset + 0.25)
    assert ds["onset"].attrs["units"] == "s"
    tokens = extract_activations(stim, tiny_gpt2, progress=False)
    np.testing.assert_array_equal(tokens["onset"].values, onset[tokens["word_index"].values])


def test_as_words_accepts_annotations_and_rejects_bad_input():
    ann = xr.Dataset(
        {
            "onset": ("event", [1.0, 2.0], {"units": "s"}),
            "duration": ("event", [0.5, 0.5], {"units": "s"}),
            "label": ("event", np.array(["a", "b"], dtype=object)),
        }
    )
    words = as_words(ann)
    assert words["text"].values.tolist() == ["a", "b"]
    np.testing.assert_array_equal(words["offset"].values, [1.5, 2.5])
    assert np.isnan(as_words("a b")["onset"].values).all()
    with pytest.raises(SchemaError, match="empty or whitespace"):
        as_words(["a", " ", "b"])
    with pytest.raises(SchemaError, match="only strings"):
        as_words(["a", 3])
    with pytest.raises(SchemaError, match="not in increasing order"):
        as_words(
            xr.Dataset(
                {"text": ("word", ["a", "b"]), "onset": ("word", [2.0, 1.0], {"units": "s"})}
            )
        )


# --------------------------------------------------------------------------------------
# model resolution (offline) and parameter errors
# --------------------------------------------------------------------------------------


def test_missing_model_names_the_model_and_the_fix(tmp_path):
    with pytest.raises(NotFoundError, match=r"'someone/no-such-model'.*huggingface-cli download"):
        extract_activations(WORDS, "someone/no-such-model", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match=r"has no config\.json"):
        extract_activations(WORDS, tmp_path / "empty", progress=False)


def test_download_refused_when_hub_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(NotFoundError, match="HF_HUB_OFFLINE=1 forbids downloading"):
        _hf.resolve_model("someone/no-such-model", download=True)


def test_cached_hub_model_is_found_offline(tmp_path, tiny_gpt2):
    snapshot = tmp_path / "models--someone--tiny" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (tmp_path / "models--someone--tiny" / "refs").mkdir()
    (tmp_path / "models--someone--tiny" / "refs" / "main").write_text("abc123")
    for file in tiny_gpt2.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    ref = _hf.resolve_model("someone/tiny", hub_cache=tmp_path)
    assert ref.path == snapshot and ref.revision == "abc123"


def test_default_model_is_the_packaged_minilm():
    ref = _hf.resolve_model(_hf.DEFAULT_MODEL)
    assert (ref.path / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "attention"}, r"`kind` must be one of \['hidden', 'mlp'\]; got 'attention'"),
        ({"pool": "max"}, r"`pool` must be one of \['first', 'last', 'mean'\]; got 'max'"),
        ({"context": -1}, "`context` must be an integer >= 0"),
        ({"stride": 0}, "`stride` must be an integer >= 1"),
        ({"dtype": "int8"}, "`dtype` must be one of"),
        ({"context": 60, "stride": 10}, "takes at most 64 positions"),
    ],
)
def test_parameter_errors(kwargs, match, tiny_gpt2):
    with pytest.raises(ValueError, match=match):
        extract_activations(WORDS * 8, tiny_gpt2, progress=False, **kwargs)


# --------------------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------------------


def test_cache_skips_the_forward_pass_and_reattaches_timing(tmp_path, tiny_gpt2, monkeypatch):
    first = extract_activations(WORDS, tiny_gpt2, cache=tmp_path, progress=False)
    stores = list(tmp_path.glob("*.zarr"))
    assert len(stores) == 1

    def fail(*args, **kwargs):
        raise AssertionError("the model was loaded despite a cache hit")

    monkeypatch.setattr(_hf, "load_model", fail)
    onset = np.arange(len(WORDS), dtype=float)
    timed = xr.Dataset({"text": ("word", WORDS), "onset": ("word", onset, {"units": "s"})})
    again = extract_activations(timed, tiny_gpt2, cache=tmp_path, pool="first", progress=False)
    np.testing.assert_array_equal(
        again["activation"].values, pool_words(first, "first")["activation"].values
    )
    np.testing.assert_array_equal(again["onset"].values, onset)
    with pytest.raises(AssertionError, match="despite a cache hit"):  # other words: a miss
        extract_activations(WORDS[:3], tiny_gpt2, cache=tmp_path, progress=False)


# --------------------------------------------------------------------------------------
# the Alice stimulus (real data, skipped when absent)
# --------------------------------------------------------------------------------------


def _textgrid_words(path):
    """Words of a Praat TextGrid word tier (minimal parser for tests; silences dropped)."""
    import re

    rows = re.findall(
        r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "(.*?)"', path.read_text(encoding="utf-8")
    )
    rows = [(float(a), float(b), w) for a, b, w in rows if w.strip() and w.strip() != "sp"]
    onset, offset, text = map(list, zip(*rows))
    return xr.Dataset(
        {"onset": ("word", onset, {"units": "s"}), "offset": ("word", offset, {"units": "s"})},
        coords={"word": np.array(text, dtype=object)},
    )


ALICE = ("language", "alice", "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid")


def _alice(shared_data):
    path = shared_data.joinpath(*ALICE)
    if not path.is_file():
        pytest.skip(f"shared data not available: {path}")
    return path


def _alice_check(words):
    from neurodata.models import align

    ds = extract_activations(words, pool="mean", progress=False)
    assert ds["activation"].shape == (7, words.sizes["word"], 384)
    np.testing.assert_array_equal(ds["onset"].values, words["onset"].values)
    # 10 discarded volumes of the 20 s padding: scan k is at 20 + 2 k seconds of the audio
    bold_time = align(ds, tr=2.0, n_samples=362, start=20.0)
    assert bold_time["activation"].dims == ("layer", "time", "unit")
    assert bold_time["activation"].shape == (7, 362, 384)
    assert np.isfinite(bold_time["activation"].values).all()
    return ds


@pytest.mark.shared_data
def test_alice_first_words(shared_data):
    words = _textgrid_words(_alice(shared_data)).isel(word=slice(0, 40))
    ds = _alice_check(words)
    assert ds["text"].values[0] == "Alice"


@pytest.mark.slow
@pytest.mark.shared_data
def test_alice_all_words_acceptance(shared_data):
    words = _textgrid_words(_alice(shared_data))
    assert words.sizes["word"] == 2127
    _alice_check(words)


def test_loaded_model_is_used_as_it_is(tiny_gpt2):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_gpt2, local_files_only=True)
    tok = transformers.AutoTokenizer.from_pretrained(tiny_gpt2, local_files_only=True)
    model.train()
    ds = extract_activations(WORDS, model, tokenizer=tok, progress=False)
    ref = extract_activations(WORDS, tiny_gpt2, progress=False)
    np.testing.assert_allclose(ds["activation"].values, ref["activation"].values, atol=TOL)
    assert model.training and next(model.parameters()).dtype == torch.float32
    with pytest.raises(ValueError, match="a loaded model is used as it is"):
        extract_activations(WORDS, model, tokenizer=tok, dtype="bfloat16", progress=False)
    with pytest.raises(ValueError, match="`tokenizer` is needed"):
        extract_activations(WORDS, model, progress=False)


@pytest.mark.parametrize("progress", [False, True])
def test_progress_switches_transformers_loading_bars(tiny_gpt2, capfd, progress):
    from transformers.utils import logging as hf_logging

    import neurodata as nd

    ref = _hf.resolve_model(tiny_gpt2)
    with nd.config(progress=progress):
        _hf.load_model(ref, dtype=None, device="cpu")
    assert ("Loading weights" in capfd.readouterr().err) is progress
    assert hf_logging.is_progress_bar_enabled()  # transformers' own switch is left as it was
