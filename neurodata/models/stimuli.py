"""The coercion gate for word streams: strings, lists of words and word tables in one form.

Models take the words a subject heard or read. Loaders (e.g. of Praat
TextGrids) give them as a Dataset along ``word``; users often have a plain
string or a list. [`as_words`][] turns all of them into one validated form:

- dim ``word`` with an integer position coordinate ``word`` (0, 1, ...);
- ``text`` (word): the word strings;
- ``onset``, ``offset`` (word): float seconds (``units="s"``), NaN when the
  stimulus has no timing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SchemaError

__all__ = ["as_words", "words_hash"]

#: Variables that may hold the word strings, in order of preference.
_TEXT_NAMES = ("text", "word", "label", "token")


def as_words(stimulus: Any, *, name: str | None = None) -> xr.Dataset:
    """Coerce a stimulus into a Dataset of words along ``word``.

    Parameters
    ----------
    stimulus : str, sequence of str, pandas.DataFrame or xarray.Dataset
        - a string: split on whitespace;
        - a sequence of words;
        - a DataFrame or Dataset with the word strings in ``text``, ``word``
          or ``label``, along ``word`` (or ``event``, as annotations are), and
          optionally ``onset`` and ``offset`` (or ``duration``) in seconds.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.Dataset
        Dim ``word`` (integer positions) with ``text`` (str), ``onset`` and
        ``offset`` (float seconds, NaN when unknown); other variables along the
        input's word dim are kept.
    """
    where = name or "stimulus"
    if isinstance(stimulus, str):
        return _from_lists(stimulus.split(), None, None, where)
    if isinstance(stimulus, xr.Dataset):
        return _from_dataset(stimulus, where)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pd = None
    if pd is not None and isinstance(stimulus, pd.DataFrame):
        dim = "word"
        ds = xr.Dataset({str(c): (dim, stimulus[c].to_numpy()) for c in stimulus.columns})
        return _from_dataset(ds, where)
    if isinstance(stimulus, Sequence | np.ndarray):
        words = list(stimulus)
        bad = next((w for w in words if not isinstance(w, str)), None)
        if bad is not None:
            raise SchemaError(
                f"{where}: a list of words must hold only strings; found {type(bad).__name__} "
                f"({bad!r})"
            )
        return _from_lists(words, None, None, where)
    raise SchemaError(
        f"{where}: expected a string, a list of words, a DataFrame or a Dataset along 'word'; "
        f"got {type(stimulus).__name__}"
    )


def _from_dataset(ds: xr.Dataset, where: str) -> xr.Dataset:
    dim = "word" if "word" in ds.dims else "event" if "event" in ds.dims else None
    if dim is None:
        raise SchemaError(
            f"{where}: a words Dataset needs a 'word' (or 'event') dim; found dims "
            f"{tuple(map(str, ds.dims))}"
        )
    text_name = next(
        (
            n
            for n in _TEXT_NAMES
            if n in ds.variables
            and ds[n].dims == (dim,)
            and (ds[n].dtype.kind in "USO" or ds[n].dtype.kind == "T")
        ),
        None,
    )
    if text_name is None:
        raise SchemaError(
            f"{where}: no word strings along {dim!r}; expected a string variable named one of "
            f"{list(_TEXT_NAMES)}"
        )
    words = [str(w) for w in ds[text_name].values]
    onset = _seconds(ds, "onset", dim, where)
    offset = _seconds(ds, "offset", dim, where)
    if offset is None and onset is not None:
        duration = _seconds(ds, "duration", dim, where)
        if duration is not None:
            offset = onset + duration
    out = _from_lists(words, onset, offset, where)
    skip = {text_name, "onset", "offset", "duration", dim}
    extra = {
        str(k): ("word", np.asarray(v.values))
        for k, v in ds.variables.items()
        if k not in skip and v.dims == (dim,)
    }
    if extra:
        out = out.assign(extra)
    return out


def _seconds(ds: xr.Dataset, key: str, dim: str, where: str) -> np.ndarray | None:
    if key not in ds.variables:
        return None
    var = ds[key]
    if var.dims != (dim,):
        raise SchemaError(f"{where}: variable {key!r} has dims {var.dims}; expected ({dim!r},)")
    if var.dtype.kind not in "fiu":
        raise SchemaError(f"{where}: variable {key!r} has dtype {var.dtype}; expected seconds")
    units = var.attrs.get("units", "s")
    if units != "s":
        raise SchemaError(f"{where}: variable {key!r} has units {units!r}; expected 's'")
    return np.asarray(var.values, dtype=float)


def _from_lists(
    words: list[str], onset: np.ndarray | None, offset: np.ndarray | None, where: str
) -> xr.Dataset:
    n = len(words)
    if n == 0:
        raise SchemaError(f"{where}: holds no words")
    empty = [i for i, w in enumerate(words) if not w.strip()]
    if empty:
        raise SchemaError(
            f"{where}: word(s) at position(s) {empty[:5]} are empty or whitespace; "
            "drop silences ('sp', '') before extracting activations"
        )
    nan = np.full(n, np.nan)
    onset = nan if onset is None else onset
    offset = nan if offset is None else offset
    if np.any(np.diff(onset[np.isfinite(onset)]) < 0):
        raise SchemaError(f"{where}: word onsets are not in increasing order")
    if np.any(offset < onset):
        raise SchemaError(f"{where}: some word offsets precede their onsets")
    seconds = {"units": "s"}
    return xr.Dataset(
        {
            "text": ("word", np.array(words, dtype=object)),
            "onset": ("word", onset, seconds),
            "offset": ("word", offset, seconds),
        },
        coords={"word": np.arange(n)},
    )


def words_hash(words: xr.Dataset) -> str:
    """SHA-256 of the word strings (not their timing) of a words Dataset from [`as_words`][]."""
    digest = hashlib.sha256()
    for w in words["text"].values:
        digest.update(str(w).encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()
