"""Named public datasets, found locally (``data_dir`` or ``NEURODATA_DATA``), never downloaded silently."""

from .alice import load_alice
from .localizer import load_localizer

__all__ = ["load_alice", "load_localizer"]
