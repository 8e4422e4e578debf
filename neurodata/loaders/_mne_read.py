"""Calling MNE's readers: every documented option passes through, errors become one line.

[`reader_kwargs`][] checks the options a user gives ``read_eeg`` (or
``neurodata ... -o key=value``) against the signature of the MNE reader that owns
the file's format, so that e.g. ``read_raw_cnt(..., data_format="int16")`` is one
``-o data_format=int16`` away; an unknown name is refused with the reader's own
list of options. [`call_reader`][] runs the reader and turns whatever it raises
into one [`FormatError`][neurodata.errors.FormatError] line that keeps MNE's advice.

Defaults that differ from MNE's: EDF and BDF are read with ``infer_types=True``
(channel types from labels such as ``"ECG ECG1"``, ``"EMG chin"``; MNE then
names the channel without the type prefix), which is also how
[`neurodata.loaders.eeg_export.write_edf`][] writes them back.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import FormatError

__all__ = ["call_reader", "reader_kwargs"]

#: Arguments neurodata itself sets (the file and how it is loaded): not user options.
_OWNED = frozenset({"input_fname", "fname", "vhdr_fname", "preload", "verbose"})

#: neurodata's defaults for some MNE readers (the user's options override them).
_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "read_raw_edf": {"infer_types": True},
    "read_raw_bdf": {"infer_types": True},
}


def accepted_options(func: Callable) -> list[str]:
    """The options of an MNE reader a user may set (its documented parameters)."""
    return sorted(k for k in inspect.signature(func).parameters if k not in _OWNED)


def reader_kwargs(func: Callable, path: Path, options: Mapping[str, Any]) -> dict[str, Any]:
    """neurodata's defaults for ``func`` updated with the user's ``options`` (checked)."""
    accepted = accepted_options(func)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise FormatError(
            f"{path}: MNE's {func.__name__} does not take option(s) {unknown}; "
            f"it takes {accepted} (neurodata sets the file, preload and verbose itself)"
        )
    kwargs = {k: v for k, v in _DEFAULTS.get(func.__name__, {}).items() if k in accepted}
    kwargs.update(options)
    return kwargs


def call_reader(func: Callable, path: Path, kwargs: Mapping[str, Any]) -> Any:
    """``func(path, **kwargs)``; an exception becomes one FormatError line keeping its text."""
    try:
        return func(path, **kwargs)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # MNE readers raise anything on input they cannot read
        text = " ".join(str(exc).split()) or type(exc).__name__
        given = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k not in _OWNED)
        raise FormatError(
            f"{path}: MNE's {func.__name__}({given}) could not read the file: "
            f"{type(exc).__name__}: {text} (pass reader options with -o key=value / "
            "read_eeg(..., key=value))"
        ) from exc
