"""C. elegans connectomes as ``weight(synapse_type, pre, post)`` on the canonical axis.

Direction convention: ``weight.sel(synapse_type="chemical", pre=a, post=b)`` is
the connection *from* ``a`` *to* ``b`` (``a`` presynaptic); rows are ``pre``,
columns ``post``, as in cect's matrices and Cook et al.'s tables (wormneuroatlas
uses the transpose, ``[post, pre]``). Electrical (gap-junction) weights are
symmetric: ``weight[electrical, a, b] == weight[electrical, b, a]`` is the
number (or size) of gap junctions between ``a`` and ``b``.

Sources (``source=``), read from the published tables as distributed in
openworm/c302 (``<data_dir>/celegans/connectomes/``):

==============  =========================================  =================================
source          file                                       weight
==============  =========================================  =================================
white1986       aconnectome_white_1986_whole.csv           number of synapses (White 1986)
varshney2011    CElegansNeuronTables.xls (Connectome)      number of synapses
cook2019        cook2019_SI5_adjacency.xlsx (herm. sheets) EM serial sections (size-weighted)
witvliet2021    witvliet_2020_7.xlsx (dataset 7, adult)    number of synapses
==============  =========================================  =================================

Cells that are not among the 302 neurons (muscles, glia, end organs) are
dropped; ``attrs["dropped_edges"]`` counts the edges that involved them.
How each table lists gap junctions, and so how they are made symmetric, is in
`SOURCES` (``gap_listing``): ``"once"`` (each junction on one row, either
direction: ``G + G.T``), ``"both"`` (each junction on two mirrored rows, or a symmetric matrix:
``max(G, G.T)``, which also fills the few entries that lack their mirror), or
``"symmetric"`` (a symmetric matrix, checked). ``attrs["gap_pairs_unequal"]``
counts the neuron pairs whose two directions differed in the table and
``attrs["gap_rows_mirrored"]`` those listed in both directions. Cook et al.'s
"herm gap jn symmetric" sheet has a few unequal pairs (e.g. between end organs),
hence ``"both"``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._compat import require
from ..errors import FormatError, NotFoundError, SchemaError
from ..schema import validate, with_provenance
from .neurons import N_NEURONS, neuron_coords, neurons, normalize_name

__all__ = [
    "SOURCES",
    "SYNAPSE_TYPES",
    "compare_connectomes",
    "edges_to_connectome",
    "from_networkx",
    "load_connectome",
    "read_table",
    "to_networkx",
]

SYNAPSE_TYPES = ("chemical", "electrical")


@dataclass(frozen=True)
class ConnectomeSource:
    """One published connectome table."""

    filename: str
    citation: str
    weight: str
    gap_listing: str
    parse: Callable[[Path], pd.DataFrame]


#: Column layouts of connectome edge lists: c302's White/Witvliet tables and Cook's edge list.
_EDGE_LAYOUTS = (
    {"pre": "pre", "post": "post", "type": "type", "synapses": "synapses"},
    {"pre": "Source", "post": "Target", "type": "Type", "synapses": "Weight"},
)


def _tabular(path: Path) -> pd.DataFrame:
    sep = "\t" if path.read_text(errors="replace").split("\n", 1)[0].count("\t") else ","
    table = pd.read_csv(path, sep=sep, skipinitialspace=True)
    table.columns = [str(c).strip() for c in table.columns]
    layout = next(
        (lay for lay in _EDGE_LAYOUTS if set(lay.values()) <= set(table.columns)), _EDGE_LAYOUTS[0]
    )
    return _edges(table, path, layout)


def _edges(table: pd.DataFrame, path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    missing = [c for c in columns.values() if c not in table.columns]
    if missing:
        raise FormatError(
            f"{path}: expected columns {list(columns.values())}; missing {missing} "
            f"among {list(table.columns)}"
        )
    out = pd.DataFrame({k: table[v] for k, v in columns.items()})
    out["pre"] = out["pre"].astype(str).str.strip()
    out["post"] = out["post"].astype(str).str.strip()
    out["type"] = out["type"].astype(str).str.strip().str.lower()
    out["synapses"] = pd.to_numeric(out["synapses"], errors="raise").astype(float)
    return out


def _varshney(path: Path) -> pd.DataFrame:
    require("xlrd", "celegans", purpose="reading Varshney et al.'s .xls table")
    with warnings.catch_warnings():  # pandas deprecates xlrd; it is still the .xls reader
        warnings.filterwarnings("ignore", message=".*xlrd.*", category=Warning)
        table = pd.read_excel(path, sheet_name="Connectome", engine="xlrd")
    edges = _edges(
        table,
        path,
        {"pre": "Origin", "post": "Target", "type": "Type", "synapses": "Number of Connections"},
    )
    kinds = {
        "send": "chemical",
        "send_joint": "chemical",
        "gapjunction": "electrical",
        "receive": None,
        "receive_joint": None,
    }  # receives mirror the sends: not counted twice
    unknown = sorted(set(edges["type"]) - set(kinds))
    if unknown:
        raise FormatError(f"{path}: unknown connection types {unknown}; expected {sorted(kinds)}")
    edges["type"] = edges["type"].map(kinds)
    return edges.dropna(subset=["type"])


def _witvliet(path: Path) -> pd.DataFrame:
    require("openpyxl", "celegans", purpose="reading Witvliet et al.'s .xlsx table")
    table = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    return _edges(
        table, path, {"pre": "pre", "post": "post", "type": "type", "synapses": "synapses"}
    )


def _cook(path: Path) -> pd.DataFrame:
    require("openpyxl", "celegans", purpose="reading Cook et al.'s .xlsx tables")
    frames = []
    for sheet, kind in (
        ("hermaphrodite chemical", "chemical"),
        ("herm gap jn symmetric", "electrical"),
    ):
        raw = pd.read_excel(path, sheet_name=sheet, header=None, engine="openpyxl")
        post = raw.iloc[2, 3:].astype(str).str.strip().to_numpy()
        pre = raw.iloc[3:, 2]
        keep = pre.notna().to_numpy()
        values = raw.iloc[3:, 3:].to_numpy()[keep]
        pre = pre[keep].astype(str).str.strip().to_numpy()
        values = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce").to_numpy(float)
        rows, cols = np.nonzero(np.nan_to_num(values[:, : len(post)]))
        long = pd.DataFrame({"pre": pre[rows], "post": post[cols], "synapses": values[rows, cols]})
        long["type"] = kind
        frames.append(long[long["synapses"] > 0])
    return _edges(
        pd.concat(frames),
        path,
        {"pre": "pre", "post": "post", "type": "type", "synapses": "synapses"},
    )


#: The published connectomes ``load_connectome`` reads.
SOURCES: Mapping[str, ConnectomeSource] = {
    "white1986": ConnectomeSource(
        "aconnectome_white_1986_whole.csv",
        "White et al. (1986) Phil Trans R Soc B 314:1 (whole animal, via c302)",
        "number of synapses",
        "once",
        _tabular,
    ),
    "varshney2011": ConnectomeSource(
        "CElegansNeuronTables.xls",
        "Varshney et al. (2011) PLoS Comput Biol 7:e1001066",
        "number of synapses",
        "both",
        _varshney,
    ),
    "cook2019": ConnectomeSource(
        "cook2019_SI5_adjacency.xlsx",
        "Cook et al. (2019) Nature 571:63, SI 5 (hermaphrodite)",
        "number of EM serial sections of contact (synapse number x size)",
        "both",
        _cook,
    ),
    "witvliet2021": ConnectomeSource(
        "witvliet_2020_7.xlsx",
        "Witvliet et al. (2021) Nature 596:257, dataset 7 (adult)",
        "number of synapses",
        "once",
        _witvliet,
    ),
}


def _candidates(data_dir: str | os.PathLike | None) -> list[Path]:
    roots = []
    if data_dir is not None:
        roots.append(Path(data_dir))
    elif os.environ.get("NEURODATA_DATA"):
        roots.append(Path(os.environ["NEURODATA_DATA"]))
    else:  # ../shared/data beside the working directory, then beside the source checkout
        roots.append(Path.cwd().parent / "shared" / "data")
        repo = Path(__file__).resolve().parents[2]
        if (repo.parent / "shared" / "data") not in roots:
            roots.append(repo.parent / "shared" / "data")
    return [p for r in dict.fromkeys(roots) for p in (r / "celegans" / "connectomes", r)]


def find_table(source: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of a source's table under ``data_dir`` (or ``$NEURODATA_DATA``, or ``../shared/data``)."""
    spec = _pick(source)
    tried = []
    for folder in _candidates(data_dir):
        path = folder / spec.filename
        if path.is_file():
            return path
        tried.append(str(path))
    raise NotFoundError(
        f"connectome {source!r}: table {spec.filename!r} not found; looked in {tried}. "
        "Pass data_dir= or set NEURODATA_DATA to the folder holding celegans/connectomes/"
    )


def _pick(source: str) -> ConnectomeSource:
    try:
        return SOURCES[source]
    except (KeyError, TypeError):
        raise SchemaError(f"`source` must be one of {sorted(SOURCES)}; got {source!r}") from None


def read_table(source: str, path: str | os.PathLike) -> pd.DataFrame:
    """The raw edge list of a published table: columns pre, post, type, synapses."""
    return _pick(source).parse(Path(path))


def edges_to_connectome(
    edges: pd.DataFrame, *, gap_listing: str = "once", name: str = "edges"
) -> xr.Dataset:
    """Edge list (pre, post, type, synapses) -> ``weight(synapse_type, pre, post)``.

    Parameters
    ----------
    edges : pandas.DataFrame
        Columns ``pre``, ``post`` (names, normalised), ``type`` (chemical or
        electrical) and ``synapses``. Repeated rows of one (pre, post, type) add up.
    gap_listing : {"once", "both", "symmetric", "auto"}
        How the table lists each gap junction (see module docs). ``"auto"``
        picks ``"both"`` when at least 90% of the listed (off-diagonal) gap
        junctions have their mirror row, else ``"once"``; the choice is
        recorded in ``attrs["gap_listing"]``.
    name : str
        Used in messages.

    Returns
    -------
    xarray.Dataset
        ``weight`` (float, 0 where no connection was annotated) over the 302
        neurons; ``attrs["dropped_edges"]`` counts rows naming non-neurons.
        Coordinates ``pre_in_table``/``post_in_table`` (bool) mark the neurons
        the table names at all (``attrs["neurons_in_table"]`` counts them): a
        0 between neurons the table does not cover means "not reconstructed",
        not "no connection" (Witvliet et al.'s adult dataset covers 181).
    """
    listings = ("once", "both", "symmetric", "auto")
    if gap_listing not in listings:
        raise SchemaError(f"`gap_listing` must be one of {sorted(listings)}; got {gap_listing!r}")
    edges = edges.copy()
    bad = sorted(set(edges["type"]) - set(SYNAPSE_TYPES))
    if bad:
        raise FormatError(f"{name}: synapse types must be {list(SYNAPSE_TYPES)}; got {bad}")
    edges["pre"] = edges["pre"].map(normalize_name)
    edges["post"] = edges["post"].map(normalize_name)
    slot = {n: i for i, n in enumerate(neurons())}
    known = edges["pre"].isin(slot) & edges["post"].isin(slot)
    named = np.zeros(N_NEURONS, dtype=bool)  # neurons the table names at all (reconstructed)
    for side in ("pre", "post"):
        named[edges[side][edges[side].isin(slot)].map(slot).to_numpy(dtype=int)] = True
    weight = np.zeros((2, N_NEURONS, N_NEURONS))
    kept = edges[known]
    np.add.at(
        weight,
        (
            kept["type"].map({"chemical": 0, "electrical": 1}).to_numpy(),
            kept["pre"].map(slot).to_numpy(),
            kept["post"].map(slot).to_numpy(),
        ),
        kept["synapses"].to_numpy(),
    )
    gap = weight[1]
    mirrored = (gap > 0) & (gap.T > 0)
    if gap_listing == "auto":
        off = ~np.eye(N_NEURONS, dtype=bool)
        listed = int(((gap > 0) & off).sum())
        gap_listing = "both" if listed and (mirrored & off).sum() >= 0.9 * listed else "once"
    unequal = int(np.triu(gap != gap.T, 1).sum())
    if gap_listing == "once":
        weight[1] = gap + gap.T - np.diag(np.diag(gap))
    elif gap_listing == "both":
        weight[1] = np.maximum(gap, gap.T)
    elif not np.allclose(gap, gap.T):
        raise FormatError(f"{name}: gap-junction matrix said to be symmetric is not")
    coords = {**neuron_coords("pre"), **neuron_coords("post"), "synapse_type": list(SYNAPSE_TYPES)}
    in_table = {"long_name": "neuron named in the table (False: not covered, weights 0 by default)"}
    coords["pre_in_table"] = ("pre", named, in_table)
    coords["post_in_table"] = ("post", named, in_table)
    ds = xr.Dataset(
        {
            "weight": (
                ("synapse_type", "pre", "post"),
                weight,
                {
                    "long_name": "connection strength as the table gives it (synapse or EM-section "
                    "counts), dimensionless"
                },
            )
        },
        coords=coords,
        attrs={
            "dropped_edges": int((~known).sum()),
            "neurons_in_table": int(named.sum()),
            "gap_listing": gap_listing,
            "gap_rows_mirrored": int(np.triu(mirrored, 1).sum()),
            "gap_pairs_unequal": unequal,
            "direction": "weight[chemical, pre, post]: from pre to post",
        },
    )
    return ds


def load_connectome(source: str, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a published C. elegans connectome onto the canonical neuron axis.

    Parameters
    ----------
    source : {"white1986", "varshney2011", "cook2019", "witvliet2021"}
        Which publication's table (see `SOURCES`).
    data_dir : str or os.PathLike, optional
        Folder holding ``celegans/connectomes/`` (or the tables themselves).
        Default: ``$NEURODATA_DATA``, else ``../shared/data`` beside the working
        directory or beside the source checkout. Nothing is downloaded.

    Returns
    -------
    xarray.Dataset
        ``weight(synapse_type, pre, post)`` with ``synapse_type`` in
        (chemical, electrical), ``pre``/``post`` the 302 canonical neurons (with
        ``pre_neuron_class``... coordinates); ``weight[chemical, a, b]`` is from
        ``a`` to ``b``; electrical is symmetric. attrs: ``source``,
        ``citation``, ``weight_units``, ``dropped_edges``.

    Raises
    ------
    NotFoundError
        When the table is not found (the message lists where it looked).
    """
    spec = _pick(source)
    path = find_table(source, data_dir)
    ds = edges_to_connectome(spec.parse(path), gap_listing=spec.gap_listing, name=path.name)
    ds.attrs.update({"connectome": source, "citation": spec.citation, "weight_units": spec.weight})
    ds["weight"].attrs["long_name"] = spec.weight
    ds = with_provenance(ds, source=path, source_format=f"connectome-{source}")
    return validate(ds, "connectome")


# --------------------------------------------------------------------------------------
# networkx, comparison
# --------------------------------------------------------------------------------------


def to_networkx(connectome: xr.Dataset | xr.DataArray, synapse_type: str = "chemical") -> Any:
    """A networkx graph of one synapse type (edges where weight > 0).

    Parameters
    ----------
    connectome : xarray.Dataset or xarray.DataArray
        ``weight(synapse_type, pre, post)``.
    synapse_type : {"chemical", "electrical"}
        Chemical -> `networkx.DiGraph` (edge pre -> post); electrical ->
        `networkx.Graph`. Edge attribute ``weight``; every neuron is a node
        with its class/type attributes.
    """
    import networkx as nx

    if synapse_type not in SYNAPSE_TYPES:
        raise SchemaError(
            f"`synapse_type` must be one of {list(SYNAPSE_TYPES)}; got {synapse_type!r}"
        )
    weight = _weights(connectome).sel(synapse_type=synapse_type).transpose("pre", "post")
    graph = nx.DiGraph() if synapse_type == "chemical" else nx.Graph()
    pre = [str(n) for n in weight["pre"].values]
    post = [str(n) for n in weight["post"].values]
    attrs = [c[4:] for c in weight.coords if str(c).startswith("pre_")]
    for i, n in enumerate(pre):
        graph.add_node(n, **{a: str(weight[f"pre_{a}"].values[i]) for a in attrs})
    values = np.nan_to_num(weight.values)
    rows, cols = np.nonzero(values)
    graph.add_weighted_edges_from(
        (pre[i], post[j], float(values[i, j])) for i, j in zip(rows, cols)
    )
    return graph


def from_networkx(graphs: Mapping[str, Any] | Any) -> xr.Dataset:
    """``weight(synapse_type, pre, post)`` from networkx graphs on neuron names.

    Parameters
    ----------
    graphs : networkx graph or mapping
        ``{"chemical": DiGraph, "electrical": Graph}`` (either may be missing), or
        one DiGraph whose edges have a ``synapse_type`` attribute. Edge
        ``weight`` defaults to 1; undirected graphs fill both directions.
    """
    if not isinstance(graphs, Mapping):
        graph = graphs
        graphs = {}
        for kind in SYNAPSE_TYPES:
            sub = graph.edge_subgraph(
                [(u, v) for u, v, d in graph.edges(data=True) if d.get("synapse_type") == kind]
            )
            graphs[kind] = sub
    rows = []
    for kind, graph in graphs.items():
        if kind not in SYNAPSE_TYPES:
            raise SchemaError(f"graph keys must be in {list(SYNAPSE_TYPES)}; got {kind!r}")
        for u, v, d in graph.edges(data=True):
            rows.append((u, v, kind, float(d.get("weight", 1.0))))
            if not graph.is_directed() and kind == "electrical" and u != v:
                rows.append((v, u, kind, float(d.get("weight", 1.0))))
    edges = pd.DataFrame(rows, columns=["pre", "post", "type", "synapses"])
    unknown = sorted(
        {n for n in pd.concat([edges["pre"], edges["post"]]).map(normalize_name)} - set(neurons())
    )
    if unknown:
        raise SchemaError(f"graph nodes are not C. elegans neuron names: {unknown[:5]}")
    ds = edges_to_connectome(edges, gap_listing="both", name="graph")
    return validate(ds, "connectome")


def _weights(obj: xr.Dataset | xr.DataArray) -> xr.DataArray:
    da = obj["weight"] if isinstance(obj, xr.Dataset) else obj
    if "pre" not in da.dims or "post" not in da.dims or "synapse_type" not in da.dims:
        raise SchemaError(f"expected weight(synapse_type, pre, post); got dims {da.dims}")
    return da


def compare_connectomes(
    connectomes: Mapping[str, xr.Dataset] | Sequence[xr.Dataset],
    *,
    threshold: float = 0.0,
    neurons: str = "shared",
) -> xr.Dataset:
    """Which edges agree across annotations.

    Parameters
    ----------
    connectomes : mapping of name -> Dataset, or sequence of Datasets
        ``weight(synapse_type, pre, post)`` on the canonical axis (e.g. from
        [`load_connectome`][]). A sequence is named by ``attrs["connectome"]``.
    threshold : float
        An edge is present where weight > threshold.
    neurons : {"shared", "all"}
        Which neuron pairs the Jaccard index of two connectomes is computed
        over: ``"shared"`` (default) the pairs of neurons both tables cover
        (coordinate ``pre_in_table``; all 302 when a connectome lacks it), so
        that a partial reconstruction is not scored as missing edges; ``"all"``
        every pair of the 302.

    Returns
    -------
    xarray.Dataset
        ``present(model, synapse_type, pre, post)`` (bool, ``model`` = the
        connectome names), ``n_sources(synapse_type, pre, post)`` (how many
        connectomes have the edge), ``consensus`` (present in all) and
        ``jaccard(synapse_type, model, model_2)`` (edge-set overlap), plus
        ``n_edges(model, synapse_type)`` and ``n_shared_neurons(model, model_2)``.
    """
    scopes = ("all", "shared")
    if neurons not in scopes:
        raise SchemaError(f"`neurons` must be one of {list(scopes)}; got {neurons!r}")
    if not isinstance(connectomes, Mapping):
        connectomes = {str(c.attrs.get("connectome", i)): c for i, c in enumerate(connectomes)}
    if len(connectomes) < 2:
        raise SchemaError(f"`connectomes` must hold at least 2 connectomes; got {len(connectomes)}")
    names = list(connectomes)
    weights = [_weights(c).transpose("synapse_type", "pre", "post") for c in connectomes.values()]
    ref = weights[0]
    for name, w in zip(names, weights):
        if w.shape != ref.shape or not all(
            np.array_equal(w[d].values, ref[d].values) for d in ("pre", "post", "synapse_type")
        ):
            raise SchemaError(
                f"connectome {name!r} is not on the same (synapse_type, pre, post) axes"
            )
    present = np.stack([np.nan_to_num(w.values) > threshold for w in weights])
    sizes = present.sum(axis=(2, 3))  # (model, synapse_type)
    covered = np.stack([_covered(c, neurons) for c in connectomes.values()])  # (model, neuron)
    shared = covered[:, None, :] & covered[None, :, :]  # (model, model_2, neuron)
    pairs = (shared[:, :, :, None] & shared[:, :, None, :]).astype(np.int64)
    hits = present.astype(np.int64)
    inter = np.einsum("msij,nsij,mnij->smn", hits, hits, pairs)
    within = np.einsum("msij,mnij->smn", hits, pairs)  # model m's edges among shared neurons
    union = within + within.transpose(0, 2, 1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, inter / union, np.nan)
    dims = ("synapse_type", "pre", "post")
    out = xr.Dataset(
        {
            "present": (("model", *dims), present),
            "n_sources": (dims, present.sum(axis=0)),
            "consensus": (dims, present.all(axis=0)),
            "jaccard": (("synapse_type", "model", "model_2"), jaccard),
            "n_edges": (("model", "synapse_type"), sizes),
            "n_shared_neurons": (("model", "model_2"), shared.sum(axis=2)),
        },
        coords={
            "model": names,
            "model_2": names,
            "synapse_type": ref["synapse_type"].values,
            "pre": ref["pre"].values,
            "post": ref["post"].values,
        },
        attrs={"threshold": float(threshold), "neurons": neurons},
    )
    return out


def _covered(connectome: xr.Dataset | xr.DataArray, neurons: str) -> np.ndarray:
    """Which of the 302 neurons a connectome's table covers (all, for ``neurons="all"``)."""
    if neurons == "shared" and "pre_in_table" in connectome.coords:
        return np.asarray(connectome["pre_in_table"].values, dtype=bool)
    return np.ones(connectome["pre"].size, dtype=bool)
