"""Readers and writers, one module per format family (path -> xarray).

Loaders are found by [`neurodata.load`][] through the table
[`neurodata.io.FORMATS`][]; none is imported before it is needed.
"""
