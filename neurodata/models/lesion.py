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

__all__ = ["lesion_effect", "lm_loss", "pool_lesion_effects", "random_masks"]


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

    The measure is taken on the intact model, with ``units`` silenced, and with
    each of ``n_random`` random masks of the same per-layer counts silenced
    instead. The random effects are the null: a localized set of units matters
    only if its lesion moves the measure further than lesions of as many
    units drawn at random. The model is restored after every lesion.

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
        ds = _against_null(ds, xr.concat(randoms, dim="random"))
    ds.attrs = {
        "mode": mode,
        "n_units": int(np.asarray(units.values).sum()),
        "n_random": int(n_random),
        "random_masks": "disjoint from the mask" if disjoint else "anywhere",
        "seed": int(seed),
        "history": f"lesion_effect(mode={mode!r}, n_random={n_random}, seed={seed})",
    }
    return ds


def _against_null(ds: xr.Dataset, null: xr.DataArray) -> xr.Dataset:
    """``ds`` with the random effects ``null`` (random, ...), the percentile and the p-value."""
    effect, n = ds["effect"], null.sizes["random"]
    below = (null < effect).sum("random") + 0.5 * (null == effect).sum("random")
    ds = ds.assign(random_effect=null)
    ds["percentile"] = 100.0 * below / n
    ds["p_value"] = (1 + (np.abs(null) >= np.abs(effect) - 1e-12).sum("random")) / (1 + n)
    return ds


def pool_lesion_effects(results: Sequence[xr.Dataset]) -> xr.Dataset:
    """One [`lesion_effect`][] result from runs of the same lesion with other random masks.

    Long measures are run in batches (``seed=0``, ``seed=1``, ...); this pools their
    random lesions into one null and recomputes ``percentile`` and ``p_value`` as
    [`lesion_effect`][] does. The batches' masks are independent draws (masks of
    different seeds may coincide, as two draws of one seed may not).

    Parameters
    ----------
    results : sequence of xarray.Dataset
        [`lesion_effect`][] results with the same ``intact`` and ``lesioned``
        measures (to 1e-9) and mode, each with ``random_effect`` (``random``, ...).

    Returns
    -------
    xarray.Dataset
        As [`lesion_effect`][], ``random_effect`` holding every batch's random
        lesions in order; attrs ``n_random`` (the total) and ``seeds``.
    """
    results = list(results)
    if not results or any("random_effect" not in r for r in results):
        raise SchemaError(
            "`results` must be lesion_effect results with random lesions (n_random > 0)"
        )
    first = results[0]
    for i, other in enumerate(results[1:], start=1):
        for name in ("intact", "lesioned"):
            if not np.allclose(other[name].values, first[name].values, rtol=0, atol=1e-9):
                raise SchemaError(
                    f"`results`: result {i} has another `{name}` measure than result 0 "
                    f"({np.asarray(other[name].values).ravel()[:3]} vs "
                    f"{np.asarray(first[name].values).ravel()[:3]}): not the same lesion and measure"
                )
        if other.attrs.get("mode") != first.attrs.get("mode"):
            raise SchemaError(
                f"`results`: result {i} has mode {other.attrs.get('mode')!r}; result 0 "
                f"{first.attrs.get('mode')!r}"
            )
    null = xr.concat([r["random_effect"] for r in results], dim="random")
    pooled = _against_null(first[["intact", "lesioned", "effect"]], null)
    seeds = [int(r.attrs.get("seed", -1)) for r in results]
    pooled.attrs = {**first.attrs, "n_random": int(null.sizes["random"]), "seeds": seeds,
                    "history": f"pool_lesion_effects({len(results)} results, seeds={seeds})"}  # fmt: skip
    return pooled


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
