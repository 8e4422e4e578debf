"""The EvLab language localizer (Fedorenko et al. 2010): sentences and non-word lists.

The standard fMRI language localizer contrasts reading sentences with reading
lists of pronounceable non-words; AlKhamissi et al. (2024) localize the
"language network" of LLMs with the same stimuli. The stimuli come as CSV files
(``langloc_fmri_run1_stim_set1.csv`` ...), one per set, one row per item:
``stim1`` the item number, ``stim2``..``stim13`` the 12 words (upper case),
``stim14`` the condition (``S`` a sentence, ``N`` a non-word list).

Reference: Fedorenko, E., Hsieh, P.-J., Nieto-Castañón, A., Whitfield-Gabrieli,
S., & Kanwisher, N. (2010). New method for fMRI investigations of language:
defining ROIs functionally in individual subjects. *J Neurophysiol*, 104,
1177-1194.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from .._version import __version__
from ..errors import FormatError, NotFoundError

__all__ = ["CONDITIONS", "load_localizer"]

#: ``stim14`` codes -> condition names.
CONDITIONS = {"S": "sentence", "N": "nonword"}
_N_WORDS = 12
_COLUMNS = ["stim1"] + [f"stim{i}" for i in range(2, 2 + _N_WORDS)] + ["stim14"]
_PATTERN = "*stim_set*.csv"


def _files(source: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[Path]:
    if source is None:
        env = os.environ.get("NEURODATA_DATA")
        if not env:
            raise NotFoundError(
                "language localizer: no source given and NEURODATA_DATA unset; pass the folder "
                "of the langloc_*_stim_set*.csv files (e.g. lukekorthals/language-localizer's "
                "pkg_resources/stimuli) or a data folder holding localizer/"
            )
        source = Path(env) / "localizer"
    if isinstance(source, str | os.PathLike):
        path = Path(source).expanduser()
        if path.is_file():
            return [path]
        if not path.is_dir():
            raise NotFoundError(f"language localizer: {path} is neither a folder nor a file")
        files = sorted(path.glob(_PATTERN))
        if not files and (path / "localizer").is_dir():
            files = sorted((path / "localizer").glob(_PATTERN))
        if not files:
            found = sorted(p.name for p in path.iterdir())[:8]
            raise NotFoundError(f"language localizer: no {_PATTERN} files in {path}; found {found}")
        return files
    files = [Path(f).expanduser() for f in source]
    if not files:
        raise NotFoundError("language localizer: the list of files is empty")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise NotFoundError(f"language localizer: file(s) not found: {missing[:3]}")
    return files


def _set_number(path: Path, position: int) -> int:
    match = re.search(r"set_?(\d+)", path.stem)
    return int(match.group(1)) if match else position + 1


def _read(path: Path) -> list[tuple[int, str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        absent = [c for c in _COLUMNS if c not in header]
        if absent:
            raise FormatError(
                f"{path}: expected localizer columns {_COLUMNS[0]}..{_COLUMNS[-1]}; "
                f"missing {absent}, found {header}"
            )
        rows = []
        for line, row in enumerate(reader, start=2):
            code = (row["stim14"] or "").strip().upper()
            if code not in CONDITIONS:
                raise FormatError(
                    f"{path}, line {line}: stim14 must be one of {sorted(CONDITIONS)}; "
                    f"got {row['stim14']!r}"
                )
            words = [(row[c] or "").strip() for c in _COLUMNS[1:-1]]
            if not all(words):
                raise FormatError(
                    f"{path}, line {line}: expected {_N_WORDS} words in stim2..stim13; "
                    f"found {sum(map(bool, words))}"
                )
            try:
                item = int(row["stim1"])
            except (TypeError, ValueError):
                raise FormatError(
                    f"{path}, line {line}: stim1 (item number) must be an integer; "
                    f"got {row['stim1']!r}"
                ) from None
            rows.append((item, " ".join(words).lower(), CONDITIONS[code]))
    if not rows:
        raise FormatError(f"{path}: holds no localizer items")
    return rows


def load_localizer(
    source: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
) -> xr.Dataset:
    """Read the EvLab language localizer's stimuli into a stimulus set.

    Parameters
    ----------
    source : str, os.PathLike or sequence of them, optional
        A folder of ``*stim_set*.csv`` files (or a data folder holding
        ``localizer/``), one CSV file, or a list of files. Default: the
        ``localizer`` folder of ``NEURODATA_DATA``.

    Returns
    -------
    xarray.Dataset
        Dim ``stimulus`` (0, 1, ...; sets in file order, items in row order)
        with coordinates ``text`` (the 12 words, lower case, space-separated),
        ``condition`` (``"sentence"`` or ``"nonword"``), ``set`` (from the
        file name, e.g. 3 for ``..._stim_set3.csv``) and ``item`` (``stim1``).
        Feed it to [`neurodata.models.extract_activations`][] to get
        (``layer``, ``stimulus``, ``unit``) activations.

    Raises
    ------
    NotFoundError
        No such folder or files.
    FormatError
        A file lacks the localizer columns, or a row a condition or a word.
    """
    files = _files(source)
    items, texts, conditions, sets = [], [], [], []
    for position, path in enumerate(files):
        number = _set_number(path, position)
        for item, text, condition in _read(path):
            items.append(item)
            texts.append(text)
            conditions.append(condition)
            sets.append(number)
    n = len(texts)
    return xr.Dataset(
        coords={
            "stimulus": np.arange(n),
            "text": ("stimulus", np.array(texts, dtype=object)),
            "condition": ("stimulus", np.array(conditions, dtype=object)),
            "set": ("stimulus", np.array(sets, dtype=np.int64)),
            "item": ("stimulus", np.array(items, dtype=np.int64)),
        },
        attrs={
            "name": "language localizer (Fedorenko et al. 2010)",
            "source": ";".join(str(f) for f in files),
            "source_format": "EvLab localizer CSV",
            "neurodata_version": __version__,
            "history": f"load_localizer({len(files)} file(s), {n} items)",
        },
    )
