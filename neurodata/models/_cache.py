"""The activation cache: zarr stores keyed by what made them, validated by a digest.

The digest (SHA-256) covers the values, dims, dtypes and coordinates of an entry
(``content_digest``) and all its attrs, including the key it was computed for
(model, revision, kind, context, tokenizer, hash of the words or stimuli). It
detects damage — a flipped value, a lost chunk, an edited attribute — but it has
no secret: whoever can write the cache folder can write a consistent entry.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from .._hashing import DIGEST_ATTR, content_digest, verify_digest
from ..errors import ConcurrentWriteError
from ..io import open as _open_store
from ..io import save as _save_store
from ._hf import _slug

__all__ = ["cached", "lookup", "store_cache"]


def _plain(value: Any) -> Any:
    """``value`` as JSON would store it (arrays and numpy scalars as lists and numbers)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def entry_digest(entry: xr.Dataset) -> str:
    """SHA-256 of ``entry``'s content and of all its attrs but the digest itself."""
    attrs = {str(k): v for k, v in entry.attrs.items() if k != DIGEST_ATTR}
    text = json.dumps(attrs, sort_keys=True, default=_plain)
    return hashlib.sha256(f"{content_digest(entry)}\n{text}".encode()).hexdigest()


def _problem(entry: xr.Dataset, key: str) -> str | None:
    problem = verify_digest(entry, entry_digest, "digest of values and attrs")
    if problem is not None:
        return problem
    if entry.attrs.get("cache_key") != key:
        return "its key differs from the requested extraction"
    return None


def cached(store: Path, key: str) -> xr.Dataset | None:
    """The cached token activations, or None (with a warning) if the entry fails validation."""
    try:
        tokens = _open_store(store).load()
        problem = _problem(tokens, key)
    except Exception as exc:  # unreadable chunks, broken metadata: recompute
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        warnings.warn(
            f"{store}: activation cache entry failed validation ({problem}); recomputing it",
            RuntimeWarning,
            stacklevel=4,
        )
        return None
    for name in (DIGEST_ATTR, "cache_key"):
        tokens.attrs.pop(name, None)
    return tokens


def lookup(
    cache: str | Path, name: str, kind: str, fields: Mapping[str, Any]
) -> tuple[Path, str, xr.Dataset | None]:
    """Where the extraction described by ``fields`` is cached, its key, and the entry.

    The key is ``fields`` as sorted JSON; the store is ``<cache>/<model>-<kind>-<hash>.zarr``.
    The entry is None when the store is absent or fails validation (then a warning).
    """
    key = json.dumps(dict(fields), sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    store = Path(cache) / f"{_slug(name)}-{kind}-{digest}.zarr"
    return store, key, cached(store, key) if store.is_dir() else None


def store_cache(tokens: xr.Dataset, store: Path, key: str) -> None:
    """Write a cache entry (atomically) with its content digest; skip if another process is."""
    entry = tokens.copy()
    entry.attrs["cache_key"] = key
    entry.attrs[DIGEST_ATTR] = entry_digest(entry)
    store.parent.mkdir(parents=True, exist_ok=True)
    try:
        _save_store(entry, store, overwrite=True)
    except ConcurrentWriteError:
        pass  # another process is caching the same extraction right now
