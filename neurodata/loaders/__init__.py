"""Readers and writers, one module per format family (path -> xarray).

Loaders are found by :func:`neurodata.load` through the table
:data:`neurodata.io.FORMATS`; none is imported before it is needed.
"""
