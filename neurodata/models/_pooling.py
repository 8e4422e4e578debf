"""Token pooling: the registry behind ``pool=`` and [`pool_words`][].

Shared by word streams (tokens -> words) and stimulus sets (tokens -> stimuli).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from .._registry import pick as _pick
from ..errors import NeurodataError

__all__ = ["POOLS", "pool_tokens", "pool_words"]


def _pool_first(acts: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return acts[:, starts]


def _pool_last(acts: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return acts[:, starts + counts - 1]


def _pool_mean(acts: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    sums = np.add.reduceat(acts, starts, axis=1, dtype=np.float64)
    return (sums / counts[None, :, None]).astype(acts.dtype)


#: Token -> word pooling: the registry behind ``pool=``.
POOLS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "first": _pool_first,
    "last": _pool_last,
    "mean": _pool_mean,
}


def pool_tokens(
    acts: np.ndarray, owner: np.ndarray, n: int, how: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pool (layer, token, unit) activations over runs of tokens of the same owner.

    ``owner`` (token) is the non-decreasing index (word or stimulus) of each
    token, every index in ``range(n)`` owning at least one token. Returns
    the pooled (layer, n, unit) array and the number of tokens per owner.
    """
    fn = _pick(POOLS, how, "pool")
    counts = np.bincount(owner, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return fn(acts, starts, counts), counts


def pool_words(tokens: xr.Dataset, how: str = "mean") -> xr.Dataset:
    """Pool token activations into word activations.

    Parameters
    ----------
    tokens : xarray.Dataset
        From [`extract_activations`][] (dims ``layer``, ``token``, ``unit``),
        with coordinates ``word_index``, ``text``, ``onset`` and ``offset`` along
        ``token``.
    how : {"mean", "last", "first"}
        The mean of a word's tokens, or its last or first token.

    Returns
    -------
    xarray.Dataset
        ``activation`` with dims (``layer``, ``word``, ``unit``); ``word``
        positions with ``text``, ``onset``, ``offset`` and ``n_tokens``.
    """
    _pick(POOLS, how, "pool")
    widx = np.asarray(tokens["word_index"].values)
    if np.any(np.diff(widx) < 0):
        raise NeurodataError("tokens are not in word order (`word_index` decreases)")
    n_words = int(widx.max()) + 1 if widx.size else 0
    acts = np.asarray(tokens["activation"].transpose("layer", "token", "unit").values)
    pooled, counts = pool_tokens(acts, widx, n_words, how)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    coords = {
        "layer": tokens["layer"].values,
        "depth": ("layer", tokens["depth"].values),
        "word": np.arange(n_words),
        "unit": tokens["unit"].values,
        "n_tokens": ("word", counts),
    }
    for name in ("text", "onset", "offset"):
        if name in tokens.coords:
            coords[name] = ("word", tokens[name].values[first], tokens[name].attrs)
    out = xr.Dataset(
        {"activation": (("layer", "word", "unit"), pooled, tokens["activation"].attrs)},
        coords=coords,
        attrs=dict(tokens.attrs),
    )
    out.attrs["pool"] = how
    out.attrs["history"] = f"{tokens.attrs.get('history', '')}\npool_words(how={how!r})".strip()
    return out
