"""Connectome edge-list files (``pre, post, type, synapses``) -> ``weight(synapse_type, pre, post)``.

The published connectomes are loaded by name with
[`neurodata.celegans.load_connectome`][]; this module lets [`neurodata.load`][]
read any edge list in the layout of White et al. 1986 / Witvliet et al. 2021 as
distributed by c302 (tab- or comma-separated, columns ``pre``, ``post``,
``type`` in {chemical, electrical}, ``synapses``) or Cook et al.'s edge list
(``Source, Target, Weight, Type``), e.g. one written by hand or by another tool. Rows naming cells outside the 302 neurons are counted in
``attrs["dropped_edges"]``; the direction convention is that of
`neurodata.celegans.connectome` (chemical ``pre`` -> ``post``).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..celegans.connectome import edges_to_connectome, read_table
from ..errors import FormatError
from ..schema import validate, with_provenance

__all__ = ["read_edgelist", "sniff_edgelist"]

_LAYOUTS = ({"pre", "post", "type", "synapses"}, {"source", "target", "type", "weight"})


def sniff_edgelist(path: Path) -> bool:
    """Whether the first line of a text table names pre, post, type and synapses."""
    with path.open("r", errors="replace") as fh:
        head = fh.readline()
    sep = "\t" if "\t" in head else ","
    columns = {c.strip().strip("\ufeff\"'").strip().lower() for c in head.split(sep)}
    return any(layout <= columns for layout in _LAYOUTS)


def read_edgelist(path: Path, *, gap_listing: str = "auto") -> xr.Dataset:
    """Read a connectome edge list onto the canonical neuron axis.

    Parameters
    ----------
    path : pathlib.Path
        CSV/TSV with columns ``pre``, ``post``, ``type``, ``synapses`` (c302's
        White/Witvliet tables) or ``Source``, ``Target``, ``Weight``, ``Type``
        (Cook et al.'s ``herm_full_edgelist.csv``).
    gap_listing : {"auto", "once", "both", "symmetric"}
        How the file lists gap junctions: see
        `neurodata.celegans.connectome.edges_to_connectome`. ``"auto"``
        (default) detects mirrored listings; pass ``"once"`` or ``"both"`` to be explicit.

    Returns
    -------
    xarray.Dataset
        ``weight(synapse_type, pre, post)``.
    """
    if not sniff_edgelist(path):
        with path.open("r", errors="replace") as fh:
            head = fh.readline().strip()
        raise FormatError(
            f"{path.name}: not a connectome edge list: its first line {head[:80]!r} does not "
            "name pre, post, type, synapses (or Source, Target, Weight, Type). For region "
            "time series pass format='parcellated-table' and tr=<seconds> (CLI: --format "
            "parcellated-table -o tr=2.0); for word timings format='word-timings'"
        )
    edges = read_table("white1986", path)  # the generic pre/post/type/synapses parser
    ds = edges_to_connectome(edges, gap_listing=gap_listing, name=path.name)
    ds = with_provenance(ds, source=path, source_format="connectome-edgelist")
    return validate(ds, "connectome")
