"""Stimuli of the hierarchical frequency-tagging probe (HFTP) and their time series.

Sentences with a known constituent structure (e.g. four words ``[[w1 w2][w3 w4]]``)
are presented one word per ``1 / rate`` seconds, so that at 4 Hz words recur at
4 Hz, phrases at 2 Hz and sentences at 1 Hz. Controls keep the words and break
the structure:

- ``"structured"``: sentences intact, their order shuffled;
- ``"scrambled"``: words reordered within each sentence so that no two adjacent
  words come from the same phrase (no phrase survives);
- ``"random"``: all words of all sentences shuffled into one list.

[`hftp_stimuli`][] builds a condition (seeded) as a Dataset along ``word``
with each word's sentence, phrase, position, onset and sample index;
[`tagged_timeseries`][] lays word-level activations ``(layer, word, unit)``
out in time as ``(layer, unit, time)`` for
[`neurodata.analyses.frequency_tagging.tag_test`][].
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from itertools import permutations
from typing import Any

import numpy as np
import xarray as xr

from .._registry import check_int, pick
from .._registry import rng as _rng
from ..errors import NotFoundError, SchemaError
from ..schema import as_dataarray

__all__ = [
    "CONDITIONS",
    "hftp_frequencies",
    "hftp_stimuli",
    "read_sentences",
    "tagged_timeseries",
]

#: The stimulus conditions.
CONDITIONS = ("structured", "scrambled", "random")

#: A small embedded English corpus of four-word sentences [[adjective noun] [verb noun]]
#: written for neurodata (so that the probe runs without external files); the
#: published HFTP corpus (An et al. 2025) can be read with [`read_sentences`][].
EXAMPLE_SENTENCES: tuple[str, ...] = (
    "old man lost keys",
    "small dog chased cats",
    "young girl painted walls",
    "tired cook burned bread",
    "brave knight drew swords",
    "quiet child read books",
    "angry bees stung kids",
    "wise owl watched mice",
    "green frog caught flies",
    "lazy cat ignored birds",
    "rich king bought ships",
    "poor farmer sold goats",
    "fast horse won races",
    "kind nurse helped patients",
    "strong wind broke trees",
    "cold rain soaked roads",
    "happy baby hugged bears",
    "loud band played songs",
    "sharp knife cut ropes",
    "hungry wolf hunted deer",
    "clever fox stole eggs",
    "busy bees made honey",
    "proud queen wore crowns",
    "silent monk wrote letters",
    "bright sun warmed fields",
    "tall giant crushed houses",
    "tiny ants carried leaves",
    "sweet girl baked cakes",
    "wild lion chased zebras",
    "sad boy lost marbles",
    "red fire burned forests",
    "dark clouds hid stars",
    "careful pilot flew planes",
    "noisy crowd cheered players",
    "gentle mother sang lullabies",
    "curious student asked questions",
    "sleepy bear ate berries",
    "bold sailor crossed oceans",
    "shy rabbit ate carrots",
    "old clock rang bells",
    "eager puppy fetched sticks",
    "thin spider spun webs",
    "fat rat sensed fear",
    "warm fire dried clothes",
    "heavy snow blocked doors",
    "wet dog shook water",
    "blind beggar sang hymns",
    "famous actor signed photos",
)


def _split(text: str, split: str | Callable[[str], list[str]]) -> list[str]:
    if callable(split):
        return list(split(text))
    if split == "whitespace":
        return text.split()
    if split == "characters":
        return [c for c in text if not c.isspace()]
    if split == "auto":
        words = text.split()
        return words if len(words) > 1 else [c for c in text if not c.isspace()]
    raise SchemaError(
        f"`split` must be one of ['auto', 'whitespace', 'characters'] or a callable; got {split!r}"
    )


def read_sentences(
    path: str | os.PathLike,
    *,
    column: str | None = None,
    split: str | Callable[[str], list[str]] = "auto",
) -> list[list[str]]:
    """Sentences of a one-column CSV/text corpus, each as a list of words.

    The first row is a header (as in HFTP's corpora, whose released code read the
    header ``text`` as a stimulus): it is never returned as a sentence.

    Parameters
    ----------
    path : path
        CSV with a header row.
    column : str, optional
        Column holding the sentences (default: the first).
    split : {"auto", "whitespace", "characters"} or callable
        How a sentence becomes words; ``"auto"`` splits on whitespace and falls
        back to characters for scripts written without spaces (e.g. Chinese).
    """
    import pandas as pd

    path = os.fspath(path)
    if not os.path.exists(path):
        raise NotFoundError(f"{path}: no such sentence file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    column = column or frame.columns[0]
    if column not in frame.columns:
        raise SchemaError(f"{path}: no column {column!r}; columns are {list(frame.columns)}")
    texts = [t.strip() for t in frame[column] if t.strip()]
    return [_split(t, split) for t in texts]


def hftp_frequencies(rate: float = 4.0, structure: Sequence[int] = (2, 2)) -> dict[str, float]:
    """Tagged frequencies: ``{"sentence": 1, "phrase": 2, "word": 4}`` at 4 Hz with
    two two-word phrases per sentence (``structure`` = phrase lengths)."""
    n_words = sum(structure)
    out = {"sentence": rate / n_words}
    if len(set(structure)) == 1 and len(structure) > 1:
        out["phrase"] = rate / structure[0]
    out["word"] = float(rate)
    return out


def _phrase_of(structure: Sequence[int]) -> np.ndarray:
    return np.repeat(np.arange(len(structure)), structure)


def _scramble_orders(structure: Sequence[int]) -> list[tuple[int, ...]]:
    """Orders of positions in which no two adjacent words share a phrase."""
    phrase = _phrase_of(structure)
    n = phrase.size
    if n > 8:
        raise SchemaError(f"scrambling supports sentences of <= 8 words; got {n}")
    return [
        order
        for order in permutations(range(n))
        if all(phrase[order[i]] != phrase[order[i + 1]] for i in range(n - 1))
    ]


def hftp_stimuli(
    sentences: Sequence[Sequence[str]] | Sequence[str],
    condition: str = "structured",
    *,
    structure: Sequence[int] = (2, 2),
    rate: float = 4.0,
    samples_per_word: int = 1,
    n_sentences: int | None = None,
    seed: int | np.random.Generator = 0,
    sep: str = " ",
) -> xr.Dataset:
    """One HFTP condition: a seeded sequence of words along ``word``.

    Parameters
    ----------
    sentences : sequence of sequence of str (or of str)
        Sentences as word lists (strings are split on whitespace, or into
        characters when they hold none). Every sentence must have
        ``sum(structure)`` words.
    condition : {"structured", "scrambled", "random"}
        See the module docstring.
    structure : sequence of int
        Phrase lengths of every sentence, e.g. (2, 2) for ``[[w1 w2][w3 w4]]``.
    rate : float
        Words per second (4 Hz: word 4 Hz, phrase 2 Hz, sentence 1 Hz).
    samples_per_word : int
        Samples of the tagged time series per word (sampling rate
        ``rate * samples_per_word``).
    n_sentences : int, optional
        Use only this many sentences (drawn at random). Default: all.
    seed : int or numpy.random.Generator
        Seed of every random choice (default 0: reproducible).
    sep : str
        Separator of words in the ``text`` attr (``""`` for Chinese).

    Returns
    -------
    xarray.Dataset
        Along ``word``: ``text`` (the word), ``sentence`` (index of the source
        sentence in the input, -1 for "random"), ``position`` (0-based within its
        source sentence), ``phrase`` (its phrase there), ``onset``/``offset`` (s),
        ``sample`` (first sample in the tagged series), ``char_start``/
        ``char_stop`` (span in the ``text`` attr, the running text to feed a
        model). Attrs: ``condition``, ``rate`` (Hz), ``sfreq``, ``seed``, ``text``.
    """
    pick(CONDITIONS, condition, "condition")
    if not rate > 0:
        raise SchemaError(f"`rate` must be positive (words per second); got {rate!r}")
    check_int(samples_per_word, "samples_per_word", minimum=1)
    rng = _rng(seed)
    words_of = [_split(s, "auto") if isinstance(s, str) else list(s) for s in sentences]
    n_words = sum(structure)
    wrong = [i for i, w in enumerate(words_of) if len(w) != n_words]
    if wrong:
        raise SchemaError(
            f"sentences: every sentence needs {n_words} words for structure {tuple(structure)}; "
            f"sentence {wrong[0]} has {len(words_of[wrong[0]])}: {words_of[wrong[0]]!r}"
        )
    if not words_of:
        raise SchemaError("`sentences` is empty")
    order = rng.permutation(len(words_of))
    if n_sentences is not None:
        if not 0 < n_sentences <= len(words_of):
            raise SchemaError(f"`n_sentences` must be in 1..{len(words_of)}; got {n_sentences!r}")
        order = order[:n_sentences]
    phrase = _phrase_of(structure)
    src_sentence, src_position = [], []
    if condition == "random":
        pairs = [(s, p) for s in order for p in range(n_words)]
        for i in rng.permutation(len(pairs)):
            src_sentence.append(pairs[i][0])
            src_position.append(pairs[i][1])
    else:
        orders = (
            _scramble_orders(structure) if condition == "scrambled" else [tuple(range(n_words))]
        )
        if not orders:
            raise SchemaError(f"no order of structure {tuple(structure)} separates every phrase")
        for s in order:
            chosen = orders[rng.integers(len(orders))]
            src_sentence.extend([s] * n_words)
            src_position.extend(chosen)
    src_sentence = np.asarray(src_sentence)
    src_position = np.asarray(src_position)
    text = [words_of[s][p] for s, p in zip(src_sentence, src_position)]
    starts = np.cumsum([0] + [len(w) + len(sep) for w in text[:-1]])
    n = len(text)
    onset = np.arange(n) / rate
    return xr.Dataset(
        {
            "text": ("word", np.array(text, dtype=object)),
            "sentence": ("word", src_sentence if condition != "random" else np.full(n, -1)),
            "source_sentence": ("word", src_sentence),
            "position": ("word", src_position),
            "phrase": ("word", phrase[src_position]),
            "onset": ("word", onset, {"units": "s"}),
            "offset": ("word", onset + 1 / rate, {"units": "s"}),
            "sample": ("word", np.arange(n) * int(samples_per_word)),
            "char_start": ("word", starts),
            "char_stop": ("word", starts + np.array([len(w) for w in text])),
        },
        coords={"word": np.arange(n)},
        attrs={
            "condition": condition,
            "rate": float(rate),
            "sfreq": float(rate) * int(samples_per_word),
            "structure": list(map(int, structure)),
            "seed": str(seed),
            "text": sep.join(text),
        },
    )


def tagged_timeseries(
    activations: Any,
    *,
    rate: float = 4.0,
    samples_per_word: int = 1,
    word_dim: str = "word",
    var: str | None = None,
) -> xr.DataArray:
    """Word-level activations laid out in time at the presentation rate.

    Parameters
    ----------
    activations : xarray.DataArray or xarray.Dataset
        Dims (``layer``, ``word``, ``unit``) (what
        ``extract_activations(..., pool=...)`` returns), one entry per presented
        word in presentation order.
    rate : float
        Words per second.
    samples_per_word : int
        1: one sample per word (sampling rate = ``rate``). More: each word's value
        is held for that many samples (zero-order hold), raising Nyquist.
    var : str, optional
        Variable to take from a Dataset.

    Returns
    -------
    xarray.DataArray
        Dims (..., ``time``) with ``word_dim`` replaced by ``time`` (seconds,
        ``attrs["sfreq"] = rate * samples_per_word``) and coordinate ``word``
        along ``time`` giving the word shown at each sample.
    """
    da = as_dataarray(activations, var=var, name="activations")
    if word_dim not in da.dims:
        raise SchemaError(f"activations: needs a {word_dim!r} dim; found dims {da.dims}")
    if not rate > 0:
        raise SchemaError(f"`rate` must be positive (words per second); got {rate!r}")
    if int(samples_per_word) != samples_per_word or samples_per_word < 1:
        raise SchemaError(f"`samples_per_word` must be an integer >= 1; got {samples_per_word!r}")
    k = int(samples_per_word)
    n_words = da.sizes[word_dim]
    index = np.repeat(np.arange(n_words), k)
    out = da.isel({word_dim: index})
    keep = {name: c for name, c in out.coords.items() if word_dim not in c.dims}
    out = xr.DataArray(out.data, dims=["time" if d == word_dim else d for d in out.dims],
                       coords=keep, attrs=dict(da.attrs))  # fmt: skip
    sfreq = float(rate) * k
    out = out.assign_coords(
        time=xr.Variable("time", np.arange(n_words * k) / sfreq, {"units": "s"}),
        word=("time", index),
    )
    out.attrs["sfreq"] = sfreq
    out.name = da.name or "activation"
    return out.transpose(..., "time")
