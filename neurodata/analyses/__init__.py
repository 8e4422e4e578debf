"""Analyses on labelled data, one subpackage per analysis; functions are the source of truth.

``neurodata.analyses.rsa``, ``.encoding``, ``.frequency_tagging``, ``.connectome`` and
``.selectivity`` are imported on first attribute access, so ``import neurodata`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBPACKAGES = ("connectome", "encoding", "frequency_tagging", "rsa", "selectivity")

__all__ = list(_SUBPACKAGES)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBPACKAGES))
