"""Interventions on units: edit masked hidden states or MLP neurons during forward passes.

[`intervene`][] is a context manager that, on every forward pass inside it,
replaces (or scales) exactly the units of a boolean (``layer``, ``unit``) mask --
as [`neurodata.analyses.selectivity.top_units`][] returns -- at the points
[`extract_activations`][] reads:

- ``kind="hidden"``: ``"embeddings"`` is the input of the first block, block
  ``i`` its output (for models with a final norm -- GPT-2's ``ln_f``, Llama's
  ``norm`` -- the last layer is the norm's output, as ``output_hidden_states``
  reports it);
- ``kind="mlp"``: the MLP neurons after the nonlinearity (the hooks of
  ``neurodata.models._hf.MLP_HOOKS``).

Edits are made in place on the activations, so the edited values are what the
next module sees and what ``output_hidden_states`` (and so
[`extract_activations`][]) reports. Weights are never changed; the hooks are
removed on exit, also after an exception.

[`random_like`][] builds the same architecture with random weights: the
control that every selectivity map needs.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._config import resolve
from .._registry import pick as _pick
from ..errors import NeurodataError, SchemaError
from . import _hf

__all__ = ["MODES", "intervene", "layer_modules", "load_model", "mask_kind", "random_like"]

#: ``mode=`` of [`intervene`][]: set the units to a value, or scale them.
MODES = ("zero", "mean", "clamp", "scale", "patch")

_FINAL_NORMS = ("ln_f", "norm", "final_layer_norm", "final_layernorm", "decoder.final_layer_norm")


def _base(model: Any) -> Any:
    torch = require("torch", "models", purpose="interventions on units")
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise SchemaError(
            "`model` must be a loaded transformers model (e.g. AutoModel.from_pretrained(...) "
            f"or random_like(...)); got {type(model).__name__}"
        )
    return getattr(model, "base_model", model)


def layer_modules(model: Any, kind: str = "hidden") -> dict[str, tuple[Any, str]]:
    """Layer name -> (module, where) of the edit points of ``model``.

    ``where`` is ``"input"`` (a forward pre-hook edits the module's first
    argument) or ``"output"`` (a forward hook edits its output, the first element
    of a tuple). The names are those [`extract_activations`][] writes.
    """
    base = _base(model)
    kind = _pick(("hidden", "mlp"), kind, "kind")
    try:
        if kind == "mlp":
            names, modules, where = _hf.mlp_modules(base)
            return {n: (m, where) for n, m in zip(names, modules)}
        path, blocks = _hf.block_list(base)
    except NotImplementedError as exc:
        raise NeurodataError(f"intervene(kind={kind!r}): {exc}") from None
    named = dict(base.named_modules())
    out = {"embeddings": (blocks[0], "input")}
    out.update({f"{path}.{i}": (block, "output") for i, block in enumerate(blocks)})
    norm = next((named[n] for n in _FINAL_NORMS if n in named), None)
    if norm is not None:
        out[f"{path}.{len(blocks) - 1}"] = (norm, "output")
    return out


def _width(base: Any, kind: str, module: Any, where: str) -> int | None:
    if kind == "hidden":
        return int(base.config.hidden_size)
    weight = getattr(module, "weight", None)
    if where == "input" and weight is not None:
        # nn.Linear stores (out, in); GPT-2's Conv1D stores (in, out)
        return int(weight.shape[1] if type(module).__name__ != "Conv1D" else weight.shape[0])
    dense = getattr(module, "dense", None)
    return int(dense.out_features) if dense is not None else None


def _infer_kind(model: Any, layers: list[str]) -> str:
    hidden = layer_modules(model, "hidden")
    if all(name in hidden for name in layers):
        return "hidden"
    with contextlib.suppress(NeurodataError):
        if all(name in layer_modules(model, "mlp") for name in layers):
            return "mlp"
    raise SchemaError(
        f"`units`: layer(s) {[n for n in layers if n not in hidden][:3]} are not layers of "
        f"{type(model).__name__}; expected hidden layers {list(hidden)[:3]}... or MLP layers "
        "(as extract_activations names them)"
    )


def mask_kind(model: Any, units: xr.DataArray) -> str:
    """Which activations a (``layer``, ``unit``) mask addresses in ``model``: "hidden" or "mlp".

    The kind [`intervene`][] infers from the mask's layer names; a name that is neither
    a hidden nor an MLP layer of ``model`` raises ``SchemaError`` naming both.
    """
    return _infer_kind(model, [str(n) for n in _mask(units)["layer"].values])


def _mask(units: Any) -> xr.DataArray:
    if not isinstance(units, xr.DataArray) or set(units.dims) != {"layer", "unit"}:
        found = tuple(map(str, units.dims)) if isinstance(units, xr.DataArray) else type(units)
        raise SchemaError(
            f"`units` must be a boolean DataArray with dims ('layer', 'unit') (from top_units); "
            f"got {found}"
        )
    if units.dtype != bool:
        raise SchemaError(f"`units` must be boolean; got dtype {units.dtype}")
    return units.transpose("layer", "unit")


def _values(mode: str, value: Any, mask: xr.DataArray) -> xr.DataArray | float:
    """The per-(layer, unit) values (or a scalar) that ``mode`` writes."""
    if mode == "zero":
        if value is not None:
            raise SchemaError("mode 'zero' takes no `value`")
        return 0.0
    if value is None:
        need = {
            "mean": "reference activations (layer, ..., unit) to average",
            "clamp": "a number or a (layer, unit) DataArray",
            "scale": "a factor or a (layer, unit) DataArray",
            "patch": "the activations of another stimulus, (layer, unit)",
        }[mode]
        raise SchemaError(f"mode {mode!r} needs `value`: {need}")
    if isinstance(value, xr.Dataset):
        value = value["activation"]
    if not isinstance(value, xr.DataArray):
        if np.ndim(value) != 0:
            raise SchemaError(
                f"`value` must be a number or a DataArray; got {type(value).__name__}"
            )
        return float(value)
    extra = [d for d in value.dims if d not in ("layer", "unit")]
    if mode == "mean":
        value = value.mean(extra)
    elif extra:
        sizes = {d: value.sizes[d] for d in extra}
        if any(n != 1 for n in sizes.values()):
            raise SchemaError(
                f"mode {mode!r}: `value` must be one (layer, unit) map; it has extra dims {sizes} "
                "(select one stimulus, e.g. acts.isel(stimulus=3))"
            )
        value = value.squeeze(extra, drop=True)
    missing = [str(n) for n in mask["layer"].values if n not in value["layer"].values]
    if missing:
        raise SchemaError(f"`value` lacks layer(s) {missing[:3]} of `units`")
    return value.sel(layer=mask["layer"].values).transpose("layer", "unit")


def _hook(idx: Any, val: Any, scale: bool, where: str) -> Callable:
    cache: dict = {}

    def edit(t: Any) -> None:
        key = (t.device, t.dtype)
        if key not in cache:
            cache[key] = (idx.to(t.device), val if isinstance(val, float) else val.to(*key))
        i, v = cache[key]
        if scale:
            t[..., i] *= v
        else:
            t[..., i] = v

    if where == "input":

        def pre(module: Any, args: tuple, kwargs: dict) -> None:
            edit(args[0] if args else kwargs["hidden_states"])

        return pre

    def post(module: Any, args: tuple, output: Any) -> None:
        edit(output[0] if isinstance(output, tuple) else output)

    return post


def _intervention_key(mask: xr.DataArray, mode: str, values: Any, kind: str) -> str:
    """A digest of an intervention (for activation cache keys: same weights, other activations)."""
    digest = hashlib.sha256(f"{kind}:{mode}:".encode())
    digest.update("|".join(map(str, mask["layer"].values)).encode())
    digest.update(np.packbits(mask.values).tobytes())
    vals = values if isinstance(values, float) else np.asarray(values.values, np.float32)
    digest.update(np.asarray(vals, np.float32).tobytes())
    return "intervention-" + digest.hexdigest()[:16]


@contextlib.contextmanager
def intervene(
    model: Any,
    units: xr.DataArray,
    mode: str = "zero",
    value: Any = None,
    *,
    kind: str | None = None,
) -> Iterator[Any]:
    """Edit the masked units on every forward pass of ``model`` inside the block.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A loaded model, base or with a head (BERT/MiniLM, GPT-2, Llama-style
        blocks, and the other types of ``neurodata.models._hf.MLP_HOOKS``).
    units : xarray.DataArray
        Boolean mask with dims (``layer``, ``unit``), e.g. from
        [`neurodata.analyses.selectivity.top_units`][]; ``layer`` holds names
        that [`extract_activations`][] writes (a subset is fine).
    mode : {"zero", "mean", "clamp", "scale", "patch"}
        Set the units to 0, to their mean over reference activations, to a
        value, multiply them by a factor, or set them to another stimulus's
        activations.
    value : float, xarray.DataArray or Dataset, optional
        ``"mean"``: reference activations (``layer``, any item dims, ``unit``),
        averaged over the item dims; ``"clamp"``/``"scale"``: a number or a
        (``layer``, ``unit``) map; ``"patch"``: one stimulus's (``layer``,
        ``unit``) activations (e.g. ``acts.isel(stimulus=3)``).
    kind : {"hidden", "mlp"}, optional
        Which activations the mask addresses; default: inferred from its layer
        names.

    Yields
    ------
    model
        The same model, hooked.
    """
    torch = require("torch", "models", purpose="interventions on units")
    mode = _pick(MODES, mode, "mode")
    mask = _mask(units)
    layers = [str(n) for n in mask["layer"].values]
    kind = _infer_kind(model, layers) if kind is None else _pick(("hidden", "mlp"), kind, "kind")
    points = layer_modules(model, kind)
    unknown = [n for n in layers if n not in points]
    if unknown:
        raise SchemaError(
            f"`units`: layer(s) {unknown[:3]} are not {kind} layers of {type(model).__name__}; "
            f"expected names from {list(points)[:4]}..."
        )
    base = _base(model)
    values = _values(mode, value, mask)
    plan = []
    for li, name in enumerate(layers):
        module, where = points[name]
        width = _width(base, kind, module, where)
        if width is not None and mask.sizes["unit"] != width:
            raise SchemaError(
                f"`units`: layer {name!r} has {width} units; the mask has {mask.sizes['unit']}"
            )
        idx = np.flatnonzero(mask.values[li])
        if idx.size == 0:
            continue
        val = values if isinstance(values, float) else values.values[li, idx]
        val = val if isinstance(val, float) else torch.as_tensor(np.asarray(val, np.float32))
        plan.append((module, where, _hook(torch.as_tensor(idx), val, mode == "scale", where)))
    handles = []
    key = _intervention_key(mask, mode, values, kind)
    active = base.__dict__.setdefault("_neurodata_interventions", [])
    active.append(key)
    try:
        for module, where, hook in plan:
            if where == "input":
                handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(hook))
        yield model
    finally:
        for handle in handles:
            handle.remove()
        active.remove(key)


def load_model(
    model: Any = _hf.DEFAULT_MODEL, *, dtype: str = "float32", device: str | None = None
) -> Any:
    """A model loaded for [`intervene`][], that remembers its tokenizer.

    Parameters
    ----------
    model : str or os.PathLike
        A model name or folder, as [`extract_activations`][] takes (default
        the packaged MiniLM).
    dtype, device : str
        As [`extract_activations`][].

    Returns
    -------
    transformers.PreTrainedModel
        The base model in eval mode; ``extract_activations(stimuli, loaded)``
        needs no ``tokenizer``.
    """
    from ._hf import _dtype

    ref = _hf.resolve_model(model)
    base, _ = _hf.load_model(ref, dtype=_dtype(dtype), device=resolve("device", device))
    base.config.neurodata_tokenizer = str(ref.path)
    base.config.neurodata_name = ref.name
    return base


def random_like(model: Any, *, seed: int = 0) -> Any:
    """The same architecture with random weights (the initialisation of its config).

    Parameters
    ----------
    model : str, os.PathLike or transformers.PreTrainedModel
        A model name or folder (as [`extract_activations`][] takes) or a loaded
        model.
    seed : int
        Seed of the initialisation.

    Returns
    -------
    transformers.PreTrainedModel
        In eval mode. Built from a name or folder, it remembers that folder's
        tokenizer, so ``extract_activations(stimuli, random_like(name))`` works
        as with the trained model, and its activations are labelled
        ``"<name> (random weights, seed=<seed>)"``.
    """
    torch = require("torch", "models", purpose="random-weight controls")
    transformers = require("transformers", "models", purpose="random-weight controls")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise SchemaError(f"`seed` must be an integer; got {seed!r}")
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        ref = _hf.resolve_model(model)
        config = transformers.AutoConfig.from_pretrained(ref.path, local_files_only=True)
        build: Callable = transformers.AutoModel.from_config
        config.neurodata_tokenizer = str(ref.path)
        name = ref.name
    else:
        _base(model)
        config = type(model.config).from_dict(model.config.to_dict())
        build = type(model)._from_config
        name = _hf.loaded_name(model).split(" (random weights")[0]
    config.neurodata_random_seed = int(seed)
    config.neurodata_name = f"{name} (random weights, seed={int(seed)})"
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(int(seed))
        out = build(config)
    finally:
        torch.random.set_rng_state(state)
    return out.eval()
