"""The activation cache: zarr stores keyed by what made them, validated by a content digest."""

from __future__ import annotations

import warnings
from pathlib import Path

import xarray as xr

from .._hashing import DIGEST_ATTR, content_digest, verify_digest
from ..errors import ConcurrentWriteError
from ..io import open as _open_store
from ..io import save as _save_store

__all__ = ["cached", "store_cache"]


def cached(store: Path, key: str) -> xr.Dataset | None:
    """The cached token activations, or None (with a warning) if the entry fails validation."""
    try:
        tokens = _open_store(store).load()
        problem = verify_digest(tokens)
        if problem is None and tokens.attrs.get("cache_key") != key:
            problem = "its key differs from the requested extraction"
    except Exception as exc:  # unreadable chunks, broken metadata: recompute
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        warnings.warn(
            f"{store}: activation cache entry failed validation ({problem}); recomputing it",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    for name in (DIGEST_ATTR, "cache_key"):
        tokens.attrs.pop(name, None)
    return tokens


def store_cache(tokens: xr.Dataset, store: Path, key: str) -> None:
    """Write a cache entry (atomically) with its content digest; skip if another process is."""
    entry = tokens.copy()
    entry.attrs.update({DIGEST_ATTR: content_digest(tokens), "cache_key": key})
    store.parent.mkdir(parents=True, exist_ok=True)
    try:
        _save_store(entry, store, overwrite=True)
    except ConcurrentWriteError:
        pass  # another process is caching the same extraction right now
