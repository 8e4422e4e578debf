"""Named public datasets, found locally (``data_dir`` or ``NEURODATA_DATA``), never downloaded silently."""

from .alice import load_alice

__all__ = ["load_alice"]
