"""Provenance attrs of `neurodata.schema` (private; the package re-exports the public names)."""

from __future__ import annotations

import os

import xarray as xr

# --------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------


def with_provenance(
    obj: xr.Dataset | xr.DataArray, *, source: str | os.PathLike, source_format: str
) -> xr.Dataset | xr.DataArray:
    """Set the provenance attrs every loader adds: ``source``, ``source_format``,
    ``neurodata_version`` and a first ``history`` line. Returns a shallow copy."""
    attrs = provenance_attrs(source=source, source_format=source_format)
    history = attrs.pop("history")
    obj = obj.copy(deep=False)
    obj.attrs.update(attrs)
    return append_history(obj, history)


def provenance_attrs(*, source: str | os.PathLike, source_format: str) -> dict[str, str]:
    """The attrs `with_provenance` adds, for a loader building its object from parts."""
    from .._version import __version__

    return {
        "source": os.fspath(source),
        "source_format": source_format,
        "neurodata_version": __version__,
        "history": f"read {os.path.basename(os.fspath(source))} ({source_format})",
    }


def append_history(obj: xr.Dataset | xr.DataArray, line: str) -> xr.Dataset | xr.DataArray:
    """Append one line to ``attrs["history"]`` (a newline-separated string, as in CF).

    Returns a shallow copy; ``obj`` is not modified.
    """
    obj = obj.copy(deep=False)
    obj.attrs = dict(obj.attrs)
    previous = obj.attrs.get("history")
    obj.attrs["history"] = f"{previous}\n{line}" if previous else line
    return obj
