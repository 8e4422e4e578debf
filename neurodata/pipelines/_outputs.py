"""The output folder of a job: a store and a report, never overwritten unless asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, OutputExistsError

__all__ = ["prepare_outputs", "write_outputs"]


def prepare_outputs(out: Path, names: Sequence[str], overwrite: bool) -> None:
    """Create ``out`` (its parent must exist); refuse if it holds any of ``names``."""
    if not out.parent.is_dir():
        raise NotFoundError(f"{out}: parent directory {str(out.parent)!r} does not exist")
    out.mkdir(exist_ok=True)
    existing = [p for p in names if (out / p).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{out}: already holds {existing}; pass --overwrite")


def write_outputs(
    result: Any, out: Path, store: str, report: str, write_report: Callable[..., Any], *,
    overwrite: bool,
) -> None:  # fmt: skip
    """Save ``result`` as ``out/store`` and its HTML report as ``out/report``."""
    from ..io import save

    save(result, out / store, overwrite=overwrite)
    write_report(result, out / report, overwrite=overwrite)
