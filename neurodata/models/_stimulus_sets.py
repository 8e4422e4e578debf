"""Stimulus sets: independent stimuli, each encoded alone, pooled to one vector per stimulus.

A *word stream* (a story, a TextGrid) is one text read in order: every word
is encoded with the words before it as context. A *stimulus set* (the
sentences and non-word lists of a localizer, the items of an experiment) is a
collection of independent texts: each is run through the model on its own
(``[CLS] text [SEP]`` for masked models, ``<bos> text`` for causal ones), so no
item leaks into another, and its tokens are pooled into one vector.

Which is which ([`coerce`][]):

==============================================  ========================================
input                                           treated as
==============================================  ========================================
Dataset along ``stimulus`` with ``text``        a stimulus set (condition coords kept)
list of strings, some holding whitespace        a stimulus set (one stimulus per string)
list of single words                            a word stream (one word per string)
a string; a Dataset/DataFrame along ``word``    a word stream
any list with ``stream=True``                   a word stream (the strings joined)
any list or string with ``stream=False``        a stimulus set
==============================================  ========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import NeurodataError, SchemaError
from ._pooling import pool_tokens
from .stimuli import as_words

__all__ = ["as_stimuli", "coerce", "pool_stimuli", "tokenize_set"]


def _is_string_list(stimulus: Any) -> bool:
    return (
        isinstance(stimulus, Sequence | np.ndarray)
        and not isinstance(stimulus, str)
        and len(stimulus) > 0
        and all(isinstance(s, str) for s in stimulus)
    )


def coerce(stimulus: Any, stream: bool | None) -> tuple[xr.Dataset | None, xr.Dataset | None]:
    """(stimulus set, None) or (None, words): how ``extract_activations`` reads its input."""
    if stream is not None and not isinstance(stream, bool):
        raise SchemaError(f"`stream` must be True, False or None; got {stream!r}")
    is_set_ds = isinstance(stimulus, xr.Dataset) and "stimulus" in stimulus.dims
    if is_set_ds:
        if stream:
            raise SchemaError(
                "stimulus: `stream=True` needs a word stream; got a Dataset along 'stimulus' "
                "(a stimulus set): pass its words along 'word' to encode them as one stream"
            )
        return as_stimuli(stimulus), None
    if isinstance(stimulus, str) and stream is False:
        return as_stimuli([stimulus]), None
    if _is_string_list(stimulus):
        if stream:
            return None, as_words(" ".join(stimulus))
        if stream is False or any(len(s.split()) != 1 for s in stimulus):
            return as_stimuli(stimulus), None
    elif stream is False:
        raise SchemaError(
            "stimulus: `stream=False` needs a stimulus set (a list of strings or a Dataset "
            f"along 'stimulus' with 'text'); got {type(stimulus).__name__}"
        )
    return None, as_words(stimulus)


def as_stimuli(stimulus: Any) -> xr.Dataset:
    """Coerce a stimulus set into a Dataset along ``stimulus``.

    Parameters
    ----------
    stimulus : sequence of str or xarray.Dataset
        Independent texts, or a Dataset along ``stimulus`` with a string
        variable ``text`` and any condition coordinates (``condition``, ...).

    Returns
    -------
    xarray.Dataset
        Dim ``stimulus`` (the input's coordinate, else 0, 1, ...), with ``text``
        (str) and every other variable along ``stimulus`` of the input.
    """
    if isinstance(stimulus, xr.Dataset):
        if "text" not in stimulus.variables or stimulus["text"].dims != ("stimulus",):
            raise SchemaError(
                "stimulus set: expected a string variable 'text' along 'stimulus'; found "
                f"variables {sorted(map(str, stimulus.variables))}"
            )
        texts = [str(t) for t in stimulus["text"].values]
        extra = {
            str(k): ("stimulus", np.asarray(v.values), v.attrs)
            for k, v in stimulus.variables.items()
            if v.dims == ("stimulus",) and k not in ("text", "stimulus")
        }
        index = (
            stimulus["stimulus"].values if "stimulus" in stimulus.coords else np.arange(len(texts))
        )
        attrs = dict(stimulus.attrs)
    elif _is_string_list(stimulus):
        texts, extra, index, attrs = list(stimulus), {}, np.arange(len(stimulus)), {}
    else:
        raise SchemaError(
            "stimulus set: expected a list of strings or a Dataset along 'stimulus' with 'text'; "
            f"got {type(stimulus).__name__}"
        )
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise SchemaError(
            f"stimulus set: stimulus/stimuli at position(s) {empty[:5]} have empty text; "
            "expected at least one word in each"
        )
    return xr.Dataset(
        coords={
            "stimulus": index,
            "text": ("stimulus", np.array(texts, dtype=object)),
            **extra,
        },
        attrs=attrs,
    )


def tokenize_set(
    tokenizer: Any, stimuli: xr.Dataset, *, n_special: int, limit: int | None, name: str
) -> tuple[np.ndarray, list[str], np.ndarray, list[tuple[int, int, int]]]:
    """Token ids, strings, owning stimulus and one (start, start, stop) window per stimulus.

    Each text is tokenized on its own (as ``tokenizer(text)`` would, without
    the special tokens, which the forward pass adds around every window).
    """
    texts = [str(t) for t in stimuli["text"].values]
    enc = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    lengths = np.array([len(e) for e in enc])
    if np.any(lengths == 0):
        bad = np.flatnonzero(lengths == 0)[:5].tolist()
        raise NeurodataError(
            f"tokenizer of {name!r}: stimulus/stimuli at position(s) {bad} produced no tokens"
        )
    if limit is not None and lengths.max() + n_special > limit:
        worst = int(np.argmax(lengths))
        raise SchemaError(
            f"model {name!r} takes at most {limit} positions; stimulus {worst} has "
            f"{int(lengths[worst])} tokens (+ {n_special} special); shorten it"
        )
    ids = np.concatenate([np.asarray(e, dtype=np.int64) for e in enc])
    owner = np.repeat(np.arange(len(texts)), lengths)
    stops = np.cumsum(lengths)
    starts = stops - lengths
    # longest first, so that a batch holds stimuli of similar length (little padding)
    order = np.argsort(-lengths, kind="stable")
    windows = [(int(starts[i]), int(starts[i]), int(stops[i])) for i in order]
    strings = [str(s) for s in tokenizer.convert_ids_to_tokens(ids.tolist())]
    return ids, strings, owner, windows


def pool_stimuli(tokens: xr.Dataset, stimuli: xr.Dataset, how: str) -> xr.Dataset:
    """Pool the token activations of each stimulus: (``layer``, ``stimulus``, ``unit``)."""
    acts = np.asarray(tokens["activation"].transpose("layer", "token", "unit").values)
    n = stimuli.sizes["stimulus"]
    pooled, counts = pool_tokens(acts, np.asarray(tokens["word_index"].values), n, how)
    out = xr.Dataset(
        {"activation": (("layer", "stimulus", "unit"), pooled, tokens["activation"].attrs)},
        coords={
            "layer": tokens["layer"].values,
            "depth": ("layer", tokens["depth"].values),
            "unit": tokens["unit"].values,
            "n_tokens": ("stimulus", counts),
        },
        attrs=dict(tokens.attrs),
    )
    out = out.assign_coords(stimuli.coords)
    for key in ("context", "stride"):
        out.attrs.pop(key, None)
    out.attrs.update({"pool": how, "stimuli": "independent"})
    out.attrs["history"] = (
        f"{tokens.attrs.get('history', '')}\n{n} independent stimuli, each encoded alone "
        f"(no context); pool={how!r}"
    ).strip()
    return out
