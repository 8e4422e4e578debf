"""Lesion experiments against a null: a measure of the model intact, lesioned, and with
random lesions of the same size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._progress import progress as _progress
from ..errors import SchemaError
from .interventions import _mask, intervene

__all__ = ["lesion_effect", "lm_loss", "random_masks"]


def random_masks(
    units: xr.DataArray, n: int, *, disjoint: bool = True, seed: int = 0
) -> list[xr.DataArray]:
    """``n`` random masks with the same number of units per layer as ``units``.

    Parameters
    ----------
    units : xarray.DataArray
        Boolean mask (``layer``, ``unit``).
    n : int
        How many masks.
    disjoint : bool
        Draw only among the units outside ``units`` (a random lesion never
        includes a localized unit).
    seed : int
        Seed of the draws.

    Returns
    -------
    list of xarray.DataArray
        Masks like ``units``.
    """
    mask = _mask(units)
    if not isinstance(n, int | np.integer) or n < 0:
        raise SchemaError(f"`n_random` must be an integer >= 0; got {n!r}")
    rng = np.random.default_rng(seed)
    counts = mask.values.sum(axis=1)
    out = []
    for _ in range(n):
        values = np.zeros(mask.shape, dtype=bool)
        for li, count in enumerate(counts):
            pool = np.flatnonzero(~mask.values[li]) if disjoint else np.arange(mask.shape[1])
            if count > pool.size:
                raise SchemaError(
                    f"layer {mask['layer'].values[li]!r}: {count} units to draw, only {pool.size} "
                    "outside the mask; pass disjoint=False"
                )
            values[li, rng.choice(pool, size=int(count), replace=False)] = True
        out.append(mask.copy(data=values))
    return out


def _as_result(value: Any) -> xr.DataArray:
    if isinstance(value, xr.DataArray):
        return value
    if np.ndim(value) == 0:
        return xr.DataArray(float(value))
    raise SchemaError(f"`measure` must return a number or a DataArray; got {type(value).__name__}")


def lesion_effect(
    measure: Callable[[Any], Any],
    model: Any,
    units: xr.DataArray,
    *,
    n_random: int = 10,
    mode: str = "zero",
    value: Any = None,
    kind: str | None = None,
    disjoint: bool = True,
    progress: bool | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """What a lesion does to a measure, against lesions of random units of the same size.

    Parameters
    ----------
    measure : callable
        ``measure(model) -> number or DataArray``: any score of the model, e.g.
        an encoding brain score of its activations, a tagging SNR, or a
        language-model loss ([`lm_loss`][]).
    model : transformers.PreTrainedModel
        A loaded model ([`neurodata.models.load_model`][]).
    units : xarray.DataArray
        Boolean mask (``layer``, ``unit``) of the units to lesion.
    n_random : int
        Random masks with the same per-layer counts ([`random_masks`][]).
    mode, value, kind
        The intervention, as [`neurodata.models.intervene`][] (default:
        zero the units).
    disjoint : bool
        Random masks avoid the lesioned units.
    progress : bool, optional
        Progress bar over the random lesions (default ``neurodata.config``).
    seed : int
        Seed of the random masks.

    Returns
    -------
    xarray.Dataset
        ``intact``, ``lesioned`` and ``effect`` (lesioned - intact) with the
        measure's dims; ``random_effect`` (``random``, ...) of the random
        lesions; ``percentile`` (0-100: share of random effects below the
        effect, ties counted half) and ``p_value`` (``(1 + #{|random| >=
        |effect|}) / (1 + n_random)``).
    """
    from .._config import resolve

    masks = random_masks(units, n_random, disjoint=disjoint, seed=seed)
    intact = _as_result(measure(model))
    with intervene(model, units, mode, value, kind=kind):
        lesioned = _as_result(measure(model))
    randoms = []
    for mask in _progress(masks, desc="random lesions", enabled=resolve("progress", progress)):
        with intervene(model, mask, mode, value, kind=kind):
            randoms.append(_as_result(measure(model)) - intact)
    effect = lesioned - intact
    ds = xr.Dataset({"intact": intact, "lesioned": lesioned, "effect": effect})
    if randoms:
        null = xr.concat(randoms, dim="random")
        below = (null < effect).sum("random") + 0.5 * (null == effect).sum("random")
        ds["random_effect"] = null
        ds["percentile"] = 100.0 * below / n_random
        ds["p_value"] = (1 + (np.abs(null) >= np.abs(effect) - 1e-12).sum("random")) / (
            1 + n_random
        )
    ds.attrs = {
        "mode": mode,
        "n_units": int(np.asarray(units.values).sum()),
        "n_random": int(n_random),
        "random_masks": "disjoint from the mask" if disjoint else "anywhere",
        "seed": int(seed),
        "history": f"lesion_effect(mode={mode!r}, n_random={n_random}, seed={seed})",
    }
    return ds


def lm_loss(texts: Sequence[str], tokenizer: Any = None) -> Callable:
    """A measure for [`lesion_effect`][]: the mean language-model loss on ``texts``.

    Parameters
    ----------
    texts : sequence of str
        Independent texts, each scored alone.
    tokenizer : tokenizer or path, optional
        Default: the one the model remembers ([`load_model`][]).

    Returns
    -------
    callable
        ``measure(model) -> float``: the token-weighted mean next-token
        cross-entropy (nats) for a causal model with an LM head; a model
        without a head is refused.
    """
    from .._compat import require

    torch = require("torch", "models", purpose="language-model losses")
    texts = list(texts)
    if not texts:
        raise SchemaError("`texts` holds no texts")

    def measure(model: Any) -> float:
        from .activations import _load_tokenizer

        if not hasattr(model, "get_output_embeddings") or model.get_output_embeddings() is None:
            raise SchemaError(
                f"lm_loss: {type(model).__name__} has no language-model head; load it with "
                "AutoModelForCausalLM"
            )
        tok = _load_tokenizer(tokenizer or getattr(model.config, "neurodata_tokenizer", None))
        total, count = 0.0, 0
        with torch.no_grad():
            for text in texts:
                ids = torch.tensor([tok(text)["input_ids"]])
                if ids.shape[1] < 2:
                    continue
                out = model(input_ids=ids, labels=ids)
                total += float(out.loss) * (ids.shape[1] - 1)
                count += ids.shape[1] - 1
        return total / max(count, 1)

    return measure
