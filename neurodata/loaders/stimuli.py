"""Word timings of a spoken stimulus: Praat TextGrid, word tables, BIDS ``events.tsv``.

Every reader returns a Dataset along ``word`` with coordinates ``text`` (str),
``onset`` and ``offset`` (float seconds, ``units="s"``), in time order.

Silence markers
---------------
Forced aligners mark pauses with intervals such as ``"sp"``, ``"sil"``,
``"<sil>"`` or an empty label. These are not words. With ``silence="drop"``
(default) they are removed; with ``silence="keep"`` they stay, flagged by the
boolean coordinate ``is_word`` (False for silences). The markers recognised are
`SILENCE_MARKERS` (compared case-insensitively after stripping
whitespace); pass ``silence_markers`` to use others.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._registry import pick
from ..errors import FormatError, SchemaError
from ..schema import validate, with_provenance
from ._tables import read_table

__all__ = [
    "SILENCE_MARKERS",
    "Tier",
    "parse_textgrid",
    "read_textgrid",
    "read_word_timings",
    "sniff_textgrid",
    "words_dataset",
]

PathLike = str | os.PathLike

#: Labels that mark silence or non-speech rather than a word (case-insensitive).
SILENCE_MARKERS: frozenset[str] = frozenset(
    {"", "sp", "sil", "<sil>", "sils", "silence", "<silence>", "#", "{sl}", "<s>", "</s>"}
)

_SILENCE_MODES = ("drop", "keep")


# --------------------------------------------------------------------------------------
# the Dataset along `word`
# --------------------------------------------------------------------------------------


def _silence_set(markers: Iterable[str] | None) -> frozenset[str]:
    return SILENCE_MARKERS if markers is None else frozenset(m.strip().lower() for m in markers)


def words_dataset(
    text: Sequence[str],
    onset: Sequence[float],
    offset: Sequence[float],
    *,
    silence: str = "drop",
    silence_markers: Iterable[str] | None = None,
    where: str = "words",
) -> xr.Dataset:
    """Build the Dataset along ``word`` from parallel sequences.

    Parameters
    ----------
    text : sequence of str
        Word labels (silence markers included or not).
    onset, offset : sequence of float
        Seconds; ``offset`` may be NaN when unknown (point tiers).
    silence : {"drop", "keep"}
        Remove silence markers, or keep them flagged by ``is_word``.
    silence_markers : iterable of str, optional
        Labels counted as silence (default `SILENCE_MARKERS`).
    where : str
        Name used in messages.

    Returns
    -------
    xarray.Dataset
        Coordinates along ``word``: ``word`` (int position), ``text``, ``onset``,
        ``offset`` (s) and, with ``silence="keep"``, ``is_word``; sorted by onset.
    """
    pick(_SILENCE_MODES, silence, "silence")
    text = [str(t).strip() for t in text]
    onset = np.asarray(onset, dtype=float)
    offset = np.asarray(offset, dtype=float)
    if not (len(text) == onset.size == offset.size):
        raise FormatError(
            f"{where}: {len(text)} words, {onset.size} onsets and {offset.size} offsets"
        )
    if np.isnan(onset).any():
        raise FormatError(f"{where}: {int(np.isnan(onset).sum())} word(s) have no onset")
    bad = np.flatnonzero(offset < onset)
    if bad.size:
        raise FormatError(
            f"{where}: word {text[bad[0]]!r} ends before it starts "
            f"(onset {onset[bad[0]]:g} s, offset {offset[bad[0]]:g} s)"
        )
    markers = _silence_set(silence_markers)
    is_word = np.array([t.lower() not in markers for t in text], dtype=bool)
    order = np.argsort(onset, kind="stable")
    if silence == "drop":
        order = order[is_word[order]]
    coords: dict[str, Any] = {
        "word": ("word", np.arange(order.size)),
        "text": ("word", np.array([text[i] for i in order], dtype=object)),
        "onset": ("word", onset[order], {"units": "s"}),
        "offset": ("word", offset[order], {"units": "s"}),
    }
    if silence == "keep":
        coords["is_word"] = ("word", is_word[order])
    ds = xr.Dataset(coords=coords)
    ds.attrs["silence"] = silence
    ds.attrs["silence_markers"] = sorted(markers)
    return ds


# --------------------------------------------------------------------------------------
# Praat TextGrid
# --------------------------------------------------------------------------------------


@dataclass
class Tier:
    """One tier of a TextGrid: intervals (xmin, xmax, text) or points (time, mark)."""

    name: str
    kind: str  # "IntervalTier" or "TextTier"
    xmin: float
    xmax: float
    start: list[float] = field(default_factory=list)
    stop: list[float] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


_TOKEN = re.compile(
    r'(?P<str>"(?:[^"]|"")*")'  # strings, "" escapes a quote
    r"|(?P<index>\[\s*\d*\s*\])"  # array indices of the long format: skipped
    r"|(?P<flag><[A-Za-z]+>)"  # <exists>, <absent>
    r"|(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<comment>!.*)"  # Praat comments run to the end of the line
)


def _tokens(text: str) -> list[Any]:
    out: list[Any] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind == "str":
            out.append(value[1:-1].replace('""', '"'))
        elif kind == "num":
            out.append(float(value))
        elif kind == "flag":
            out.append(value)
    return out


def _decode(raw: bytes, where: str) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(encoding)
    if raw[:2].count(0) == 1:  # UTF-16 without BOM: "F\0i\0..." or "\0F\0i..."
        return raw.decode("utf-16-le" if raw[1] == 0 else "utf-16-be")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # Praat's "try ISO Latin-1" text encoding


def sniff_textgrid(path: Path) -> bool:
    """Whether ``path`` is a Praat text TextGrid."""
    with open(path, "rb") as fh:
        head = _decode(fh.read(256), path.name)
    return "ooTextFile" in head and "TextGrid" in head


def parse_textgrid(path: PathLike) -> list[Tier]:
    """Parse a Praat TextGrid (long or short text format; UTF-8, UTF-16 or Latin-1).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of Tier
        In file order.
    """
    path = Path(path)
    where = path.name
    raw = path.read_bytes()
    if raw.startswith(b"ooBinaryFile"):
        raise FormatError(f"{where}: binary TextGrids are not supported; save it as text in Praat")
    tokens = _tokens(_decode(raw, where))
    if tokens[:2] != ["ooTextFile", "TextGrid"]:
        raise FormatError(
            f"{where}: not a Praat TextGrid; expected a header 'File type = \"ooTextFile\"' and "
            f"'Object class = \"TextGrid\"'; got {tokens[:2]}"
        )
    pos = 2

    def take(kind: type | str, what: str) -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise FormatError(f"{where}: file ends early, while reading {what} (truncated?)")
        value = tokens[pos]
        ok = value == kind if isinstance(kind, str) else isinstance(value, kind)
        if not ok:
            raise FormatError(f"{where}: expected {what}; got {value!r} (token {pos})")
        pos += 1
        return value

    take(float, "the grid's xmin")
    take(float, "the grid's xmax")
    if pos < len(tokens) and tokens[pos] == "<absent>":
        return []
    if pos < len(tokens) and tokens[pos] == "<exists>":
        pos += 1
    n_tiers = int(take(float, "the number of tiers"))
    tiers = []
    for t in range(n_tiers):
        kind = take(str, f"the class of tier {t + 1}")
        if kind not in ("IntervalTier", "TextTier"):
            raise FormatError(f"{where}: tier {t + 1} has unknown class {kind!r}")
        tier = Tier(take(str, f"the name of tier {t + 1}"), kind, 0.0, 0.0)
        tier.xmin = take(float, f"xmin of tier {tier.name!r}")
        tier.xmax = take(float, f"xmax of tier {tier.name!r}")
        count = int(take(float, f"the size of tier {tier.name!r}"))
        for n in range(count):
            what = f"item {n + 1} of tier {tier.name!r}"
            start = take(float, what)
            stop = take(float, what) if kind == "IntervalTier" else float("nan")
            tier.start.append(start)
            tier.stop.append(stop)
            tier.text.append(take(str, what))
        tiers.append(tier)
    return tiers


def _choose_tier(tiers: list[Tier], tier: str | int | None, where: str) -> Tier:
    names = [t.name for t in tiers]
    if not tiers:
        raise FormatError(f"{where}: TextGrid has no tier")
    if isinstance(tier, int):
        if not -len(tiers) <= tier < len(tiers):
            raise SchemaError(f"`tier` index {tier} out of range; the TextGrid has tiers {names}")
        return tiers[tier]
    if tier is not None:
        if tier not in names:
            raise SchemaError(f"`tier` must be one of {names}; got {tier!r}")
        return tiers[names.index(tier)]
    if len(tiers) == 1:
        return tiers[0]
    wordlike = [t for t in tiers if t.name.strip().lower() in ("word", "words")]
    if len(wordlike) == 1:
        return wordlike[0]
    raise FormatError(f"{where}: TextGrid has tiers {names}; pass `tier` to choose the words")


def read_textgrid(
    path: PathLike,
    *,
    tier: str | int | None = None,
    silence: str = "drop",
    silence_markers: Iterable[str] | None = None,
) -> xr.Dataset:
    """Read word timings from a Praat TextGrid.

    One tier is read (see ``tier``): each interval becomes a word from its ``xmin``
    to its ``xmax``, each point of a point tier a word at its time (NaN offset).
    This is the format of forced-aligner output such as the Montreal Forced
    Aligner's; word lists in a table or BIDS events file go to [`read_word_timings`][].

    Parameters
    ----------
    path : str or os.PathLike
        A text TextGrid (long or short format; UTF-8, UTF-16 or Latin-1).
    tier : str or int, optional
        Tier holding the words (name or position). Default: the only tier, or
        the one named "word"/"words".
    silence : {"drop", "keep"}
        Drop the tier's silence intervals (empty labels, ``sp``, ``sil``, ...; see
        the module notes), or keep them, flagged by ``is_word``.
    silence_markers : iterable of str, optional
        Labels counted as silence (default `SILENCE_MARKERS`).

    Returns
    -------
    xarray.Dataset
        Coordinates ``text``, ``onset``, ``offset`` (s) along ``word``; a point
        tier gives NaN offsets. Attrs ``tier`` and ``tiers`` (all tier names).
    """
    path = Path(path)
    tiers = parse_textgrid(path)
    chosen = _choose_tier(tiers, tier, path.name)
    ds = words_dataset(
        chosen.text,
        chosen.start,
        chosen.stop,
        silence=silence,
        silence_markers=silence_markers,
        where=path.name,
    )
    ds.attrs["tier"] = chosen.name
    ds.attrs["tiers"] = [t.name for t in tiers]
    ds = with_provenance(ds, source=path, source_format="textgrid")
    return validate(ds, name=path.name)


# --------------------------------------------------------------------------------------
# tables: CSV/TSV word lists and BIDS events.tsv
# --------------------------------------------------------------------------------------

_TEXT_COLUMNS = ("word", "text", "token", "words", "stim_word", "value", "trial_type", "label")
_ONSET_COLUMNS = ("onset", "start", "tmin", "xmin", "start_time", "begin")
_OFFSET_COLUMNS = ("offset", "end", "stop", "tmax", "xmax", "end_time")


def _column(
    frame: pd.DataFrame, given: str | None, candidates: Sequence[str], what: str, where: str
):
    if given is not None:
        if given not in frame.columns:
            raise FormatError(
                f"{where}: no column {given!r} for {what}; columns {list(frame.columns)}"
            )
        return given
    lower = {str(c).strip().lower(): c for c in frame.columns}
    return next((lower[c] for c in candidates if c in lower), None)


def read_word_timings(
    path: PathLike,
    *,
    text: str | None = None,
    onset: str | None = None,
    offset: str | None = None,
    trial_type: str | None = None,
    silence: str = "drop",
    silence_markers: Iterable[str] | None = None,
) -> xr.Dataset:
    """Read word timings from a CSV/TSV table or a BIDS ``events.tsv``.

    Each row is a word; onsets and offsets are read as seconds, ``"n/a"`` or an
    empty cell as NaN (a word without an onset is refused). The delimiter (tab,
    comma, semicolon, else whitespace) is told from the header line, not from the
    file extension. For Praat alignments use [`read_textgrid`][].

    Parameters
    ----------
    path : str or os.PathLike
        A table with a header. Columns are found by name unless given: text in
        one of ``word, text, token, ...``; onset in ``onset, start, tmin, ...``
        (seconds); offset in ``offset, end, stop, ...`` or, as in BIDS, a
        ``duration`` (offset = onset + duration; "n/a" -> NaN offset).
    text, onset, offset : str, optional
        Column names to use.
    trial_type : str, optional
        Keep only the rows whose ``trial_type`` equals this (BIDS events files
        that mix words with other events).
    silence : {"drop", "keep"}
        See the module notes on silence markers.
    silence_markers : iterable of str, optional
        Labels counted as silence (default `SILENCE_MARKERS`).

    Returns
    -------
    xarray.Dataset
        Coordinates ``text``, ``onset``, ``offset`` (s) along ``word``.
    """
    path = Path(path)
    where = path.name
    try:
        frame = read_table(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise FormatError(f"{path}: cannot read as a table: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if trial_type is not None:
        if "trial_type" not in frame.columns:
            raise FormatError(
                f"{where}: `trial_type` given but the table has no 'trial_type' column"
            )
        frame = frame[frame["trial_type"].str.strip() == trial_type]
    onset_col = _column(frame, onset, _ONSET_COLUMNS, "onsets", where)
    candidates = [c for c in _TEXT_COLUMNS if not (trial_type is not None and c == "trial_type")]
    text_col = _column(frame, text, candidates, "the words", where)
    offset_col = _column(frame, offset, _OFFSET_COLUMNS, "offsets", where)
    duration_col = _column(frame, None, ("duration",), "durations", where)
    if onset_col is None or text_col is None or (offset_col is None and duration_col is None):
        raise FormatError(
            f"{where}: need columns for the word, its onset and its offset (or duration); "
            f"got {list(frame.columns)} (name them with `text`, `onset`, `offset`)"
        )

    def numbers(col: str) -> np.ndarray:
        values = frame[col].str.strip().replace({"n/a": "nan", "": "nan"})
        try:
            return values.astype(float).to_numpy()
        except ValueError:
            raise FormatError(f"{where}: column {col!r} is not numeric (seconds)") from None

    starts = numbers(onset_col)
    stops = numbers(offset_col) if offset_col is not None else starts + numbers(duration_col)
    ds = words_dataset(
        frame[text_col].tolist(),
        starts,
        stops,
        silence=silence,
        silence_markers=silence_markers,
        where=where,
    )
    ds = with_provenance(ds, source=path, source_format="word-timings")
    return validate(ds, name=where)
