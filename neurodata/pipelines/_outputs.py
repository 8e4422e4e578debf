"""The output folder of a job: a store and a report, never overwritten unless asked."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import NotFoundError, OutputExistsError

__all__ = ["model_provenance", "prepare_outputs", "write_job_report", "write_outputs"]


def prepare_outputs(
    out: str | os.PathLike | None, names: Sequence[str], overwrite: bool
) -> Path | None:
    """Create ``out`` (its parent must exist); refuse if it holds any of ``names``.

    Returns ``out`` as a path (None when the job writes no outputs).
    """
    if out is None:
        return None
    out = Path(out)
    if not out.parent.is_dir():
        raise NotFoundError(f"{out}: parent directory {str(out.parent)!r} does not exist")
    out.mkdir(exist_ok=True)
    existing = [p for p in names if (out / p).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{out}: already holds {existing}; pass --overwrite (Python: overwrite=True)"
        )
    return out


def write_outputs(
    result: Any, out: Path | None, store: str, report: str, write_report: Callable[..., Any], *,
    overwrite: bool,
) -> Any:  # fmt: skip
    """Save ``result`` as ``out/store`` and its HTML report as ``out/report`` (nothing when
    ``out`` is None); returns ``result``."""
    from ..io import save

    if out is not None:
        save(result, out / store, overwrite=overwrite)
        write_report(result, out / report, overwrite=overwrite)
    return result


def model_provenance(job: str, model_attrs: Mapping[str, Any], **params: Any) -> dict[str, Any]:
    """The attrs every job result records: the network it ran, neurodata's version and the
    call, ``job(model='...', key=value, ...)`` (strings quoted)."""
    args = [f"model={model_attrs['model']!r}"]
    args += [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in params.items()]
    return {
        "model": model_attrs["model"],
        "model_revision": model_attrs.get("model_revision", ""),
        "neurodata_version": __version__,
        "history": f"{job}({', '.join(args)})",
    }


def write_job_report(
    path: str | os.PathLike, title: str, sections: Sequence[Any], parameters: Mapping[str, Any],
    attrs: Mapping[str, Any], *, overwrite: bool,
) -> Path:  # fmt: skip
    """Render ``sections`` as a self-contained HTML page at ``path``, versions from ``attrs``."""
    from ..report import render_html, write_report

    text = render_html(title, sections, parameters=parameters,
                       versions={"neurodata": attrs.get("neurodata_version")})  # fmt: skip
    return write_report(path, text, overwrite=overwrite)
