"""Image sets as stimuli: the coercion gate and the explicit preprocessing of vision models.

An image set is a DataArray with dims (``stimulus``, ``y``, ``x``, ``color``), of
``uint8`` (0-255) or float (0-1) values; [`as_images`][] builds one from a
folder or a list of image files (read with Pillow), a numpy array, or a Dataset
holding such a variable. [`Preprocess`][] turns it into the float32 tensor a
network takes: resize (shorter side), centre crop, scale to 0-1, normalise per
colour channel. Every step is explicit and recorded in the result's attrs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._compat import require
from .._registry import pick as _pick
from ..errors import FormatError, SchemaError

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "Preprocess",
    "as_images",
    "is_image_set",
]

IMAGE_DIMS = ("stimulus", "y", "x", "color")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Pillow resampling filters by name (the ``resample`` of [`Preprocess`][]).
RESAMPLE = ("bilinear", "bicubic", "nearest", "lanczos", "box")


def is_image_set(obj: Any) -> bool:
    """Whether ``obj`` looks like an image set (so that activations take the image path)."""
    if isinstance(obj, xr.DataArray):
        return "y" in obj.dims and "x" in obj.dims
    if isinstance(obj, xr.Dataset):
        return any("y" in v.dims and "x" in v.dims for v in obj.data_vars.values())
    if isinstance(obj, np.ndarray):
        return obj.ndim == 4
    if isinstance(obj, os.PathLike) or (isinstance(obj, str) and "\n" not in obj):
        path = Path(obj).expanduser()
        return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES
    if isinstance(obj, Sequence) and obj and not isinstance(obj, str):
        first = obj[0]
        return isinstance(first, os.PathLike) or (
            isinstance(first, str) and Path(first).suffix.lower() in IMAGE_SUFFIXES
        )
    return False


def _read(path: Path, size: int | None) -> np.ndarray:
    image_mod = require("PIL.Image", "vision", purpose="reading images")
    try:
        with image_mod.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("L", "I", "I;16", "F", "1"):
                im = im.convert("L")
            elif mode != "RGB":
                im = im.convert("RGB")
            if size is not None:
                im = _resize_pil(im, size, "bilinear")
            arr = np.asarray(im)
    except (OSError, ValueError) as exc:
        raise FormatError(
            f"{path}: not an image Pillow can read ({type(exc).__name__}: {exc}); an image "
            f"folder must hold only images ({', '.join(IMAGE_SUFFIXES)})"
        ) from None
    return arr[..., None] if arr.ndim == 2 else arr


def _files(images: Any) -> list[Path]:
    if isinstance(images, str | os.PathLike):
        path = Path(images).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not files:
                raise FormatError(f"{path}: image folder holds no files")
            return files
        return [path]
    return [Path(p).expanduser() for p in images]


def _from_files(files: list[Path], size: int | None) -> xr.DataArray:
    for path in files:
        if not path.is_file():
            raise FormatError(f"{path}: no such image file")
    arrays = [_read(p, size) for p in files]
    shapes = {a.shape for a in arrays}
    if len({s[:2] for s in shapes}) > 1:
        sizes = sorted({f"{s[1]}x{s[0]}" for s in shapes})
        raise SchemaError(
            f"{files[0].parent}: images of mixed sizes ({', '.join(sizes[:4])}) and no resize "
            "rule; pass `preprocess={'size': N}` (resize the shorter side to N, then crop N x N)"
        )
    if len({s[2] for s in shapes}) > 1:
        grey = next(p for p, a in zip(files, arrays) if a.shape[2] == 1)
        raise SchemaError(
            f"{grey}: a grey-scale image among colour images; convert it to RGB first"
        )
    data = np.stack(arrays)
    return xr.DataArray(
        data,
        dims=IMAGE_DIMS,
        coords={
            "stimulus": np.arange(len(files)),
            "file": ("stimulus", np.array([p.name for p in files], dtype=object)),
        },
        attrs={"source": os.fspath(files[0].parent), "source_format": "image files"},
    )


def as_images(images: Any, *, size: int | None = None, name: str | None = None) -> xr.DataArray:
    """Coerce an image set into a DataArray (``stimulus``, ``y``, ``x``, ``color``).

    Parameters
    ----------
    images : xarray.DataArray, xarray.Dataset, numpy.ndarray, path or list of paths
        - a DataArray with dims (``stimulus``, ``y``, ``x``[, ``color``]), uint8
          (0-255) or float (0-1);
        - a Dataset holding one such variable (e.g. from
          [`neurodata.datasets.load_kriegeskorte2008`][]);
        - an array (stimulus, y, x, color);
        - a folder of image files (sorted by name; dotfiles ignored) or a list
          of image files, read with Pillow (RGB, or grey-scale as one channel).
    size : int, optional
        Resize files while reading (shorter side to ``size``, then centre crop),
        needed when they differ in size.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    xarray.DataArray
        Dims (``stimulus``, ``y``, ``x``, ``color``); the input's coordinates along
        ``stimulus`` are kept (files add ``file``).
    """
    where = name or "images"
    if isinstance(images, xr.Dataset):
        found = [k for k, v in images.data_vars.items() if "y" in v.dims and "x" in v.dims]
        if len(found) != 1:
            raise SchemaError(
                f"{where}: a Dataset must hold one image variable with dims ('stimulus', 'y', "
                f"'x', 'color'); found {sorted(map(str, found))}"
            )
        images = images[found[0]]
    elif isinstance(images, np.ndarray):
        if images.ndim != 4:
            raise SchemaError(
                f"{where}: an image array needs 4 dims {IMAGE_DIMS}; got {images.ndim}"
            )
        images = xr.DataArray(images, dims=IMAGE_DIMS, coords={"stimulus": np.arange(len(images))})
    elif not isinstance(images, xr.DataArray):
        if not is_image_set(images) and not isinstance(images, Sequence | os.PathLike | str):
            raise SchemaError(
                f"{where}: expected a DataArray ('stimulus', 'y', 'x', 'color'), a Dataset "
                f"holding one, a folder or a list of image files; got {type(images).__name__}"
            )
        images = _from_files(_files(images), size)
    if "color" not in images.dims:
        images = images.expand_dims("color", axis=-1)
    missing = [d for d in IMAGE_DIMS if d not in images.dims]
    if missing or images.ndim != 4:
        raise SchemaError(f"{where}: has dims {images.dims}; expected {IMAGE_DIMS}")
    images = images.transpose(*IMAGE_DIMS)
    if images.sizes["stimulus"] < 2:
        raise SchemaError(
            f"{where}: an image set needs at least 2 stimuli along 'stimulus'; got "
            f"{images.sizes['stimulus']}"
        )
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise SchemaError(
            f"{where}: expected uint8 (0-255) or float (0-1) values; got {images.dtype}"
        )
    return images


def _resize_pil(im: Any, size: int, resample: str) -> Any:
    """Shorter side to ``size`` (aspect kept), then the centre ``size`` x ``size`` crop."""
    image_mod = require("PIL.Image", "vision", purpose="resizing images")
    filt = getattr(image_mod.Resampling, resample.upper())
    w, h = im.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    if new != (w, h):
        im = im.resize(new, filt)
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    return im.crop((left, top, left + size, top + size)) if new != (size, size) else im


@dataclass(frozen=True)
class Preprocess:
    """How images become a network's input.

    Attributes
    ----------
    size : int or None
        Resize the shorter side to ``size`` (Pillow, ``resample``); ``None``
        keeps the images' size.
    crop : int or None
        Centre crop ``crop`` x ``crop`` after resizing (``None``: ``size``, i.e.
        a square input).
    mean, std : tuple of float
        Per-channel normalisation of the 0-1 values: ``(v - mean) / std``.
    resample : str
        Pillow filter: ``"bilinear"`` (default), ``"bicubic"``, ``"lanczos"``, ...
    to_rgb : bool
        Repeat a grey-scale channel three times (otherwise grey-scale images into
        an RGB network are an error).
    """

    size: int | None = 224
    crop: int | None = None
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    resample: str = "bilinear"
    to_rgb: bool = False

    def updated(self, options: Preprocess | Mapping[str, Any] | None) -> Preprocess:
        """These defaults overridden by the user's ``preprocess=`` (a dict or a Preprocess)."""
        if options is None:
            return self
        if isinstance(options, Preprocess):
            return options
        if not isinstance(options, Mapping):
            raise SchemaError(
                f"`preprocess` must be a dict or a Preprocess; got {type(options).__name__}"
            )
        unknown = sorted(set(options) - set(asdict(self)))
        if unknown:
            raise SchemaError(
                f"`preprocess` keys must be among {sorted(asdict(self))}; got {unknown}"
            )
        out = replace(self, **dict(options))
        _pick(RESAMPLE, out.resample, "preprocess['resample']")
        for key in ("mean", "std"):
            object.__setattr__(out, key, tuple(float(v) for v in getattr(out, key)))
        return out

    def attrs(self) -> dict[str, Any]:
        """The steps as netCDF-safe attrs (``preprocess_*``)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None:
                value = "none"
            elif isinstance(value, bool):
                value = int(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f"preprocess_{key}"] = value
        return out

    def __call__(self, batch: np.ndarray, channels: int, where: str = "images") -> np.ndarray:
        """(n, y, x, color) uint8 or float -> (n, channels, y', x') float32, normalised."""
        n_color = batch.shape[-1]
        if n_color != channels:
            if n_color == 1 and channels == 3 and self.to_rgb:
                batch = np.repeat(batch, 3, axis=-1)
            else:
                hint = " (pass `preprocess={'to_rgb': True}` to repeat the grey channel)"
                raise SchemaError(
                    f"{where}: {n_color} colour channel(s) along 'color'; the model takes "
                    f"{channels}{hint if n_color == 1 and channels == 3 else ''}"
                )
        if self.size is not None:
            batch = np.stack([self._resize(image) for image in batch])
        values = batch.astype(np.float32)
        if batch.dtype == np.uint8:
            values /= 255.0
        if len(self.mean) != channels or len(self.std) != channels:
            raise SchemaError(
                f"`preprocess` mean/std have {len(self.mean)}/{len(self.std)} values; the model "
                f"takes {channels} channels"
            )
        values -= np.asarray(self.mean, dtype=np.float32)
        values /= np.asarray(self.std, dtype=np.float32)
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2))

    def _resize(self, image: np.ndarray) -> np.ndarray:
        image_mod = require("PIL.Image", "vision", purpose="resizing images")
        assert self.size is not None
        crop = self.crop or self.size
        if image.shape[0] == image.shape[1] == crop and crop == self.size:
            return image
        if image.dtype == np.uint8 and image.shape[-1] == 3:
            planes = [image_mod.fromarray(image)]
        elif image.dtype == np.uint8:
            planes = [image_mod.fromarray(image[..., c]) for c in range(image.shape[-1])]
        else:
            planes = [
                image_mod.fromarray(image[..., c].astype(np.float32))
                for c in range(image.shape[-1])
            ]
        out = []
        for plane in planes:
            plane = _resize_pil(plane, self.size, self.resample)
            if crop != self.size:
                left = (self.size - crop) // 2
                plane = plane.crop((left, left, left + crop, left + crop))
            out.append(np.asarray(plane))
        stacked = out[0] if len(out) == 1 and out[0].ndim == 3 else np.stack(out, axis=-1)
        return stacked.astype(image.dtype, copy=False)
