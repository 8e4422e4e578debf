"""Content digests of labelled data, to validate caches and partial results before reuse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["DIGEST_ATTR", "content_digest", "verify_digest"]

#: The attribute holding a store's content digest.
DIGEST_ATTR = "content_sha256"


def _feed(h: Any, name: str, var: xr.Variable) -> None:
    values = np.asarray(var.values)
    h.update(json.dumps([name, list(var.dims), list(values.shape)]).encode())
    if values.dtype.kind in "OUS":
        h.update(json.dumps([str(v) for v in values.ravel()]).encode())
    else:
        h.update(values.dtype.str.encode())
        h.update(np.ascontiguousarray(values).tobytes())


def content_digest(obj: xr.Dataset | xr.DataArray) -> str:
    """SHA-256 of the values, dims, dtypes and coordinates of ``obj`` (not its attrs).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        Any dims; dask-backed data are computed variable by variable.

    Returns
    -------
    str
        64 hex digits; equal for equal content, whatever the storage or chunking.
    """
    ds = obj.to_dataset(name=obj.name or "__values__") if isinstance(obj, xr.DataArray) else obj
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        _feed(h, name, ds.variables[name])
    return h.hexdigest()


def verify_digest(
    obj: xr.Dataset | xr.DataArray,
    digest: Callable[[Any], str] = content_digest,
    what: str = "content digest",
) -> str | None:
    """What is wrong with ``obj``'s content against the digest in its attrs, or None if it matches.

    An object without a recorded digest is reported too (it cannot be trusted).
    ``digest`` computes the digest to compare (default: ``content_digest``);
    ``what`` names it in the message.
    """
    expected = obj.attrs.get(DIGEST_ATTR)
    if not expected:
        return f"no {DIGEST_ATTR} attribute"
    found = digest(obj)
    if found != expected:
        return f"{what} {found[:12]}... differs from the recorded {str(expected)[:12]}..."
    return None
