"""Named public datasets, found locally (``data_dir`` or ``NEURODATA_DATA``), never downloaded silently."""

from .alice import load_alice
from .kriegeskorte2008 import load_kriegeskorte2008
from .localizer import load_localizer

__all__ = ["load_alice", "load_kriegeskorte2008", "load_localizer"]
