"""Exceptions raised by neurodata.

Every error neurodata raises on purpose is a [`NeurodataError`][]. The
subclasses also inherit from the matching builtin (``ValueError``,
``ImportError``, ...) so that generic ``except`` clauses keep working.

Messages follow one form: *where* (file, variable, parameter), *what was
expected*, *what was found*::

    FormatError: sub-01.edf: header says 3600 records of 1 s, file holds 2211 (truncated?)
    SchemaError: dataset 'alice': variable 'bold' has dims ('time', 'roi'); expected ('time', 'parcel')
    DependencyError: reading NWB needs pynwb: pip install 'neurodata[nwb]'
"""

from __future__ import annotations

__all__ = [
    "ConcurrentWriteError",
    "DependencyError",
    "FormatError",
    "NeurodataError",
    "NotFoundError",
    "OutputExistsError",
    "SchemaError",
    "SelectionError",
    "WriteError",
]


class NeurodataError(Exception):
    """Base class of every error neurodata raises on purpose."""


class FormatError(NeurodataError, ValueError):
    """A file is not in the format it claims to be, is broken, or is not supported."""


class SchemaError(NeurodataError, ValueError):
    """Labelled data break neurodata's conventions (dims, coords, attrs, units)."""


class DependencyError(NeurodataError, ImportError):
    """An optional dependency is missing; the message gives the extra to install."""


class NotFoundError(NeurodataError, FileNotFoundError):
    """A file, store or named resource (dataset, model) does not exist."""


class OutputExistsError(NeurodataError, FileExistsError):
    """An output already exists and overwriting was not asked for."""


class ConcurrentWriteError(OutputExistsError):
    """Another process is writing the same output (its lock file is held)."""


class WriteError(NeurodataError, OSError):
    """An output could not be written (full disk, read-only folder, a leftover that stays)."""


class SelectionError(NeurodataError, KeyError):
    """Labels asked of an index (``.sel``) are not among its labels."""

    def __str__(self) -> str:  # the message as written, not KeyError's repr of it
        return str(self.args[0]) if self.args else ""
