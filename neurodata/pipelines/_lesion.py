"""A lesion applied to a job's forward passes (``compare --lesion``, ``tag --model --lesion``).

[`Lesion`][] reads a mask -- the ``mask`` (``layer``, ``unit``) variable of the store
``neurodata localize`` writes, or any boolean mask with those dims -- checks it
against the model before any long work starts, and runs the job's feature extraction
inside [`neurodata.models.intervene`][]. Its ``attrs`` say, in the job's result store
and report, that a lesion was applied: which mask (path and content digest), how many
units per layer, which activations and which mode.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._hashing import content_digest
from .._registry import pick
from ..errors import NeurodataError, SchemaError

__all__ = ["LESION_MODES", "Lesion", "describe_lesion"]

#: ``lesion_mode=``: set the masked units to 0, or to their mean over the job's own stimuli
#: in the intact model.
LESION_MODES = ("zero", "mean")

_EXPECTED = (
    "a store written by `neurodata localize` (its localizer.zarr, or the --out folder "
    "holding it) with a boolean variable 'mask' of dims ('layer', 'unit')"
)


def _read_store(path: Path) -> xr.DataArray:
    from ..io import open as open_store

    try:
        store = open_store(path)
    except NeurodataError as exc:
        if not path.exists():
            raise
        raise SchemaError(f"lesion mask {path}: expected {_EXPECTED}; {exc}") from None
    if not isinstance(store, xr.Dataset) or "mask" not in store.data_vars:
        found = sorted(map(str, store.data_vars)) if isinstance(store, xr.Dataset) else "an array"
        raise SchemaError(f"lesion mask {path}: expected {_EXPECTED}; found variables {found}")
    return store["mask"].load()


def _as_mask(mask: xr.DataArray, source: str) -> xr.DataArray:
    if set(mask.dims) != {"layer", "unit"}:
        raise SchemaError(
            f"lesion mask {source}: expected dims ('layer', 'unit'); found {tuple(map(str, mask.dims))}"
        )
    values = np.asarray(mask.values)
    if values.dtype != bool:
        if values.dtype.kind not in "iu" or not np.isin(values, (0, 1)).all():
            raise SchemaError(
                f"lesion mask {source}: expected boolean values (or 0/1); found dtype {values.dtype}"
            )
        mask = mask.astype(bool)
    if not mask.values.any():
        raise SchemaError(f"lesion mask {source}: expected at least one selected unit; found none")
    return mask.transpose("layer", "unit")


@dataclass(frozen=True)
class Lesion:
    """A mask of units to lesion, where it came from, and how.

    Attributes
    ----------
    mask : xarray.DataArray
        Boolean, dims (``layer``, ``unit``); ``layer`` holds the names
        [`extract_activations`][neurodata.models.extract_activations] writes.
    source : str
        The mask's file, or ``"<in-memory mask>"``.
    mode : {"zero", "mean"}
        Set the masked units to 0, or to their mean over the job's own stimuli
        in the intact model.
    """

    mask: xr.DataArray
    source: str
    mode: str = "zero"

    @classmethod
    def read(cls, lesion: Any, mode: str = "zero") -> Lesion:
        """A path (store or ``localize`` output folder), a Dataset with ``mask``, or a mask."""
        mode = pick(LESION_MODES, mode, "lesion_mode")
        if isinstance(lesion, Lesion):
            return cls(lesion.mask, lesion.source, mode)
        if isinstance(lesion, str | os.PathLike):
            path = Path(lesion)
            if path.is_dir() and (path / "localizer.zarr").is_dir():  # localize's --out folder
                path = path / "localizer.zarr"
            return cls(_as_mask(_read_store(path), str(path)), str(path), mode)
        if isinstance(lesion, xr.Dataset) and "mask" in lesion.data_vars:
            lesion = lesion["mask"]
        if not isinstance(lesion, xr.DataArray):
            raise SchemaError(
                f"`lesion` must be {_EXPECTED}, or such a mask; got {type(lesion).__name__}"
            )
        return cls(_as_mask(lesion, "<in-memory mask>"), "<in-memory mask>", mode)

    def bind(self, model: Any) -> tuple[Any, str]:
        """The loaded model (loading a name or folder) and the mask's kind, checked against it.

        Every check of [`intervene`][neurodata.models.intervene] (layer names, units per
        layer) runs here, before any long work; a mismatch raises ``SchemaError`` naming
        the mask's file, what the model has and what the mask holds.
        """
        from ..models.interventions import intervene, load_model, mask_kind

        if isinstance(model, str | os.PathLike):
            model = load_model(model)
        try:
            kind = mask_kind(model, self.mask)
            with intervene(model, self.mask, kind=kind):  # validates, then unhooks
                pass
        except NeurodataError as exc:
            raise SchemaError(f"lesion mask {self.source}: {exc}") from None
        return model, kind

    @contextlib.contextmanager
    def applied(
        self, model: Any, kind: str, reference: Any = None, **extract: Any
    ) -> Iterator[Any]:
        """Inside, every forward pass of ``model`` (from [`bind`][]) has the units lesioned.

        ``reference`` (mode "mean"): the stimuli whose intact activations give each masked
        unit's mean, extracted with ``extract`` (the job's own ``context``, ``pool``...).
        """
        from ..models import extract_activations, intervene

        value = None
        if self.mode == "mean":
            value = extract_activations(reference, model, kind=kind, **extract)["activation"]
        with intervene(model, self.mask, self.mode, value, kind=kind) as hooked:
            yield hooked

    def attrs(self, kind: str) -> dict[str, Any]:
        """Provenance of the lesion for a result's attrs (zarr/netCDF-safe values)."""
        counts = self.mask.sum("unit")
        return {
            "lesion_mask": self.source,
            "lesion_mask_sha256": content_digest(self.mask),
            "lesion_mode": self.mode,
            "lesion_kind": kind,
            "lesion_units": int(counts.sum()),
            "lesion_layers": [str(v) for v in self.mask["layer"].values],
            "lesion_units_per_layer": [int(v) for v in counts.values],
        }


def describe_lesion(attrs: dict[str, Any]) -> str | None:
    """One sentence on the lesion recorded in ``attrs`` (None when there was none)."""
    if "lesion_mask" not in attrs:
        return None
    what = {"zero": "set to 0", "mean": "set to their mean over the job's stimuli"}
    per_layer = ", ".join(
        f"{layer} {int(n)}"
        for layer, n in zip(attrs["lesion_layers"], attrs["lesion_units_per_layer"])
    )
    return (
        f"LESIONED MODEL: {int(attrs['lesion_units'])} {attrs['lesion_kind']} units "
        f"{what.get(str(attrs['lesion_mode']), str(attrs['lesion_mode']))} on every forward pass "
        f"(mask {attrs['lesion_mask']}; per layer: {per_layer})."
    )
