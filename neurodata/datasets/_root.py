"""Where a named dataset's files are looked for: ``data_dir``, else ``$NEURODATA_DATA``."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import NotFoundError

__all__ = ["data_root"]


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
