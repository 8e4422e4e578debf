"""Communities of weighted neuron graphs, and their comparison with anatomy.

[`detect_communities`][] turns each component's pair loadings into a weighted
undirected graph on neurons and partitions it by Louvain modularity
(`networkx.community.louvain_communities`), run at several seeds: the
partition of highest modularity is kept and the agreement between seeds
(mean pairwise adjusted Rand index) is reported as its stability.

[`compare_structure`][] compares each component with an anatomical connectome
``weight(synapse_type, pre, post)``: overlap of the strongest functional edges with
anatomical edges, rank correlation of weights, and the fraction of anatomical
edges of each synapse type that fall within functional communities, each against
a degree-preserving null (Maslov-Sneppen edge swaps of the anatomical graph).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...errors import SchemaError
from ...schema import as_dataarray

__all__ = ["compare_structure", "detect_communities"]


def _pair_neurons(pairs: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for name in ("neuron_i", "neuron_j"):
        if name not in pairs.coords:
            raise SchemaError(
                f"pair loadings need coordinates 'neuron_i' and 'neuron_j' along 'pair'; "
                f"found {sorted(map(str, pairs.coords))}"
            )
    ni = pairs["neuron_i"].values.astype(str)
    nj = pairs["neuron_j"].values.astype(str)
    names = list(dict.fromkeys([*ni, *nj]))
    index = {name: k for k, name in enumerate(names)}
    return (
        np.array(names, dtype=object),
        np.array([index[x] for x in ni]),
        np.array([index[x] for x in nj]),
    )


def _louvain(n: int, i, j, w, resolution: float, seed: int) -> tuple[np.ndarray, float]:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    keep = w > 0
    graph.add_weighted_edges_from(zip(i[keep].tolist(), j[keep].tolist(), w[keep].tolist()))
    labels = np.full(n, -1)
    if graph.number_of_edges() == 0:
        return labels, float("nan")
    parts = nx.community.louvain_communities(
        graph, weight="weight", resolution=resolution, seed=int(seed)
    )
    q = nx.community.modularity(graph, parts, weight="weight", resolution=resolution)
    # largest community first; isolated neurons (no positive edge) stay -1
    parts = sorted((p for p in parts if len(p) > 1 or graph.degree(next(iter(p))) > 0), key=len)
    for label, part in enumerate(reversed(parts)):
        labels[list(part)] = label
    return labels, float(q)


def detect_communities(
    pair_loadings: xr.DataArray,
    *,
    resolution: float = 1.0,
    n_seeds: int = 5,
    seed: int = 0,
) -> xr.Dataset:
    """Louvain communities of each component's neuron-pair graph.

    Parameters
    ----------
    pair_loadings : xarray.DataArray
        Dims (component, pair) (or just (pair,)), non-negative edge weights, with
        coordinates ``neuron_i`` and ``neuron_j`` along ``pair``.
    resolution : float
        Modularity resolution (> 1 favours smaller communities).
    n_seeds : int
        Louvain runs per component; the partition of highest modularity is kept.
    seed : int
        Seed of the first run (runs use ``seed, seed + 1, ...``).

    Returns
    -------
    xarray.Dataset
        ``community`` (component, neuron): integer labels (0 = largest community,
        -1 = neuron without any positive edge); ``modularity`` (component);
        ``n_communities`` (component); ``stability`` (component): mean adjusted
        Rand index between the partitions of the different seeds (1 = identical).
    """
    if not (np.isscalar(resolution) and resolution > 0):
        raise ValueError(f"`resolution` must be a positive number; got {resolution!r}")
    if int(n_seeds) < 1:
        raise ValueError(f"`n_seeds` must be >= 1; got {n_seeds!r}")
    da = as_dataarray(pair_loadings, name="pair loadings")
    if "pair" not in da.dims:
        raise SchemaError(f"pair loadings: expected a 'pair' dim; found dims {da.dims}")
    squeeze = "component" not in da.dims
    if squeeze:
        da = da.expand_dims(component=[0])
    da = da.transpose("component", "pair")
    from sklearn.metrics import adjusted_rand_score

    names, i, j = _pair_neurons(da)
    labels, modularity, stability = [], [], []
    for row in np.asarray(da.values, dtype=np.float64):
        w = np.nan_to_num(row, nan=0.0)
        runs = [_louvain(len(names), i, j, w, resolution, seed + s) for s in range(int(n_seeds))]
        best = max(range(len(runs)), key=lambda k: -np.inf if np.isnan(runs[k][1]) else runs[k][1])
        labels.append(runs[best][0])
        modularity.append(runs[best][1])
        aris = [
            adjusted_rand_score(runs[a][0], runs[b][0])
            for a in range(len(runs))
            for b in range(a + 1, len(runs))
        ]
        stability.append(float(np.mean(aris)) if aris else 1.0)
    labels = np.array(labels)
    out = xr.Dataset(
        {
            "community": (("component", "neuron"), labels),
            "modularity": ("component", np.array(modularity)),
            "n_communities": ("component", (labels.max(axis=1) + 1).astype(int)),
            "stability": ("component", np.array(stability)),
        },
        coords={"component": da["component"].values, "neuron": names.astype(str)},
        attrs={"resolution": float(resolution), "n_seeds": int(n_seeds), "seed": int(seed)},
    )
    out["community"].attrs["long_name"] = "Louvain community label (-1: no positive edge)"
    out["stability"].attrs["long_name"] = "mean adjusted Rand index between seeds"
    return out.isel(component=0) if squeeze else out


# --------------------------------------------------------------------------------------
# structure vs function
# --------------------------------------------------------------------------------------


def _anatomy(connectome, neurons: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    weight = as_dataarray(connectome, var="weight", kind="connectome", name="connectome")
    if "synapse_type" not in weight.dims:
        weight = weight.expand_dims(synapse_type=["any"])
    pre = weight["pre"].values.astype(str)
    post = weight["post"].values.astype(str)
    shared = [n for n in neurons if n in set(pre) and n in set(post)]
    if len(shared) < 3:
        raise SchemaError(
            f"connectome: shares {len(shared)} neurons with the functional graph; expected >= 3 "
            f"(functional neurons e.g. {list(neurons[:5])}, connectome pre e.g. {list(pre[:5])})"
        )
    w = weight.sel(pre=shared, post=shared).transpose("synapse_type", "pre", "post").values
    w = np.nan_to_num(np.asarray(w, dtype=np.float64), nan=0.0)
    sym = w + np.swapaxes(w, 1, 2)  # undirected: chemical i->j and j->i add up
    return sym, shared, weight["synapse_type"].values.astype(str)


def _null_graphs(adjacency: np.ndarray, n_null: int, seed: int) -> list[np.ndarray]:
    """Degree-preserving randomisations of a binary undirected graph (Maslov-Sneppen)."""
    import networkx as nx

    graph = nx.from_numpy_array((adjacency > 0).astype(int))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    m = graph.number_of_edges()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_null):
        g = graph.copy()
        if m >= 2:
            try:
                nx.double_edge_swap(
                    g, nswap=5 * m, max_tries=100 * m, seed=int(rng.integers(2**31))
                )
            except nx.NetworkXAlgorithmError:  # too few possible swaps: keep what was done
                pass
        out.append(nx.to_numpy_array(g, nodelist=range(adjacency.shape[0])) > 0)
    return out


def compare_structure(
    result: xr.Dataset,
    connectome,
    *,
    n_null: int = 100,
    seed: int = 0,
) -> xr.Dataset:
    """Compare functional components and communities with an anatomical connectome.

    Parameters
    ----------
    result : xarray.Dataset
        Output of [`neurodata.analyses.connectome.dynamic_connectome`][]: needs
        ``pair_loading`` (component, pair) and ``community`` (component, neuron).
    connectome : xarray.Dataset or xarray.DataArray
        ``weight`` with dims (synapse_type, pre, post) (e.g. chemical, electrical);
        matched to the functional neurons by name. Directed weights are made
        undirected (``w + w.T``).
    n_null : int
        Number of degree-preserving randomisations of each anatomical graph.
    seed : int
        Seed of the randomisations.

    Returns
    -------
    xarray.Dataset
        Along (component, synapse_type): ``edge_overlap`` (Jaccard index of the
        anatomical edges and the same number of strongest functional edges) with
        ``edge_overlap_null`` (null mean) and ``edge_overlap_p``;
        ``weight_correlation`` (Spearman rank correlation of functional and
        anatomical weights over all shared pairs); ``within_fraction`` (fraction of
        anatomical edges joining neurons of one functional community) with
        ``within_fraction_null``, ``within_fraction_z`` and ``within_fraction_p``
        (one-sided, ``(1 + #null >= observed) / (1 + n_null)``).
    """
    from scipy.stats import spearmanr

    if int(n_null) < 1:
        raise ValueError(f"`n_null` must be >= 1; got {n_null!r}")
    missing = [v for v in ("pair_loading", "community") if v not in result]
    if missing:
        raise SchemaError(
            f"result: missing variables {missing}; expected the output of dynamic_connectome"
        )
    names, pi, pj = _pair_neurons(result["pair_loading"])
    sym, shared, types = _anatomy(connectome, names)
    pos = {n: k for k, n in enumerate(shared)}
    sel = np.array([names[a] in pos and names[b] in pos for a, b in zip(pi, pj)])
    ai = np.array([pos[names[a]] for a in pi[sel]])
    aj = np.array([pos[names[b]] for b in pj[sel]])
    loadings = result["pair_loading"].transpose("component", "pair").values[:, sel]
    community = result["community"].sel(neuron=shared).transpose("component", "neuron").values

    stats = {k: np.full((loadings.shape[0], len(types)), np.nan) for k in (
        "edge_overlap", "edge_overlap_null", "edge_overlap_p", "weight_correlation",
        "within_fraction", "within_fraction_null", "within_fraction_z", "within_fraction_p",
    )}  # fmt: skip
    for t, _ in enumerate(types):
        anat_w = sym[t][ai, aj]
        nulls = [g[ai, aj] for g in _null_graphs(sym[t], int(n_null), seed + t)]
        edges = anat_w > 0
        m = int(edges.sum())
        for c in range(loadings.shape[0]):
            f = np.nan_to_num(loadings[c], nan=0.0)
            if m == 0 or not np.any(f > 0):
                continue
            top = np.zeros_like(edges)
            top[np.argsort(-f, kind="stable")[:m]] = True
            top &= f > 0

            def jaccard(e, top=top):
                union = np.sum(e | top)
                return np.sum(e & top) / union if union else np.nan

            obs = jaccard(edges)
            null = np.array([jaccard(e) for e in nulls])
            stats["edge_overlap"][c, t] = obs
            stats["edge_overlap_null"][c, t] = null.mean()
            stats["edge_overlap_p"][c, t] = (1 + np.sum(null >= obs)) / (1 + len(null))
            stats["weight_correlation"][c, t] = spearmanr(f, anat_w).statistic
            lab = community[c]
            same = (lab[ai] == lab[aj]) & (lab[ai] >= 0)
            obs = np.sum(same & edges) / m
            null = np.array([np.sum(same & e) / max(np.sum(e), 1) for e in nulls])
            stats["within_fraction"][c, t] = obs
            stats["within_fraction_null"][c, t] = null.mean()
            sd = null.std()
            stats["within_fraction_z"][c, t] = (obs - null.mean()) / sd if sd > 0 else np.nan
            stats["within_fraction_p"][c, t] = (1 + np.sum(null >= obs)) / (1 + len(null))
    out = xr.Dataset(
        {k: (("component", "synapse_type"), v) for k, v in stats.items()},
        coords={"component": result["component"].values, "synapse_type": types},
        attrs={"n_null": int(n_null), "seed": int(seed), "n_shared_neurons": len(shared),
               "null_model": "degree-preserving double edge swaps (networkx), 5 swaps per edge"},
    )  # fmt: skip
    return out
