"""Where a named dataset's files are looked for: ``data_dir``, else ``$NEURODATA_DATA``."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import NotFoundError

__all__ = ["data_root", "find_folder"]


def data_root(
    data_dir: str | os.PathLike | None, dataset: str, how_to_get: str
) -> tuple[Path, str]:
    """(the folder to search, where it came from: "data_dir" or "NEURODATA_DATA").

    Raises
    ------
    NotFoundError
        When neither is given, with ``how_to_get`` in the message.
    """
    if data_dir is not None:
        return Path(data_dir).expanduser(), "data_dir"
    env = os.environ.get("NEURODATA_DATA")
    if not env:
        raise NotFoundError(f"{dataset}: no data_dir given and NEURODATA_DATA unset; {how_to_get}")
    return Path(env).expanduser(), "NEURODATA_DATA"


def find_folder(
    data_dir: str | os.PathLike | None,
    dataset: str,
    source: str,
    marker: str,
    places: tuple[str, ...],
) -> Path:
    """The first of ``places`` (relative to the data root; "" for the root itself) that
    holds the file ``marker``.

    ``source`` says what to get from where (e.g. "the ROI time courses of ... from
    github.com/..."); the messages add where to put it: the first named place.

    Raises
    ------
    NotFoundError
        Naming the root, where it came from, the places looked in and how to get the data.
    """
    home = next(place for place in places if place)
    how_to_get = (
        f"it is not downloaded automatically: get {source} into <folder>/{home} and pass "
        "data_dir=<folder> or set NEURODATA_DATA=<folder>"
    )
    base, origin = data_root(data_dir, dataset, how_to_get)
    for place in places:
        folder = base / place
        if (folder / marker).is_file():
            return folder
    looked = ", ".join(place or "the folder itself" for place in places)
    raise NotFoundError(
        f"{dataset}: {marker} not found in {base} ({origin}; looked in {looked}); {how_to_get}"
    )
