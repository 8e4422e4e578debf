"""The HDF5 guard lives in the core (``neurodata._hdf5guard``): netCDF stores need it too."""

from .._hdf5guard import check_hdf5

__all__ = ["check_hdf5"]
