"""neurodata: brain recordings, connectomes and neural-network activations as labelled data.

The public API is small and imports nothing heavy: MNE, pynwb, nibabel, torch and
transformers are imported only by the functions that need them.

>>> import neurodata as nd
>>> ds = nd.load("sub-01_eeg.edf")          # doctest: +SKIP
>>> nd.save(ds, "sub-01.zarr")              # doctest: +SKIP
"""

from __future__ import annotations

from . import errors
from ._config import config, get_config
from ._version import __version__
from .collections import open_collection, write_collection
from .errors import ConcurrentWriteError as ConcurrentWriteError
from .errors import DependencyError as DependencyError
from .errors import FormatError as FormatError
from .errors import NeurodataError as NeurodataError
from .errors import NotFoundError as NotFoundError
from .errors import OutputExistsError as OutputExistsError
from .errors import SchemaError as SchemaError
from .errors import SelectionError as SelectionError
from .errors import WriteError as WriteError
from .io import load, open, save, supported_formats
from .schema import as_annotations, as_dataarray, as_dataset, as_timeseries, validate
from .summary import summarize

__all__ = [
    "__version__",
    "as_annotations",
    "as_dataarray",
    "as_dataset",
    "as_timeseries",
    "config",
    "get_config",
    "load",
    "open",
    "open_collection",
    "save",
    "summarize",
    "supported_formats",
    "validate",
    "write_collection",
]
__all__ += errors.__all__  # every exception class is public at the top level (imported above)


_SUBPACKAGES = ("analyses", "celegans", "datasets", "loaders", "models", "plotting")


def __getattr__(name: str):
    """Import subpackages on first access (``neurodata.analyses.rsa`` without importing them all)."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
