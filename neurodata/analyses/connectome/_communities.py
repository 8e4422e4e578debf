"""Communities of weighted neuron graphs, and their comparison with anatomy.

[`detect_communities`][] turns each component's pair loadings into a weighted
undirected graph on neurons and partitions it by Louvain modularity
(`networkx.community.louvain_communities`), run at several seeds and several
resolutions. The partitions are combined by consensus clustering (Lancichinetti &
Fortunato 2012): the fraction of runs in which each pair of neurons is co-assigned
(``coassignment``) is thresholded at one half and partitioned again, until the runs
agree. The co-assignment of every pair is reported, and summarised per community
(``community_stability``: mean co-assignment of its pairs) and per component
(``stability``: mean adjusted Rand index of the runs with the consensus).

[`compare_structure`][] compares each component with an anatomical connectome
``weight(synapse_type, pre, post)``: overlap of the strongest functional edges with
anatomical edges, rank correlation of weights, and the fraction of anatomical
edges of each synapse type that fall within functional communities, each against
a degree-preserving null (Maslov-Sneppen edge swaps of the anatomical graph).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _progress
from ..._registry import check_int, check_seed
from ...errors import SchemaError
from ...schema import as_dataarray

__all__ = ["DEFAULT_RESOLUTIONS", "compare_structure", "detect_communities"]


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


#: Louvain resolutions combined by default (a range around modularity's 1).
DEFAULT_RESOLUTIONS = (0.8, 1.0, 1.25)

#: Co-assignment above which a pair is kept in the consensus graph.
CONSENSUS_THRESHOLD = 0.5


def _louvain(weights: np.ndarray, resolution: float, seed: int) -> np.ndarray:
    """Louvain labels of a symmetric weight matrix (0 = largest; -1 = no positive edge)."""
    import networkx as nx

    n = weights.shape[0]
    i, j = np.triu_indices(n, k=1)
    w = weights[i, j]
    keep = w > 0
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(i[keep].tolist(), j[keep].tolist(), w[keep].tolist()))
    labels = np.full(n, -1)
    if graph.number_of_edges() == 0:
        return labels
    parts = nx.community.louvain_communities(
        graph, weight="weight", resolution=resolution, seed=int(seed)
    )
    # largest community first (ties: by smallest member); isolated neurons stay -1
    parts = [p for p in parts if len(p) > 1 or graph.degree(next(iter(p))) > 0]
    parts.sort(key=lambda p: (-len(p), min(p)))
    for label, part in enumerate(parts):
        labels[list(part)] = label
    return labels


def _together(labels: np.ndarray) -> np.ndarray:
    return (labels[:, None] == labels[None, :]) & (labels >= 0)[:, None]


def _consensus(
    weights: np.ndarray, resolutions: list[float], n_seeds: int, seed: int, max_rounds: int = 10
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Consensus labels, co-assignment, modularity of the consensus, mean ARI runs vs consensus."""
    from sklearn.metrics import adjusted_rand_score

    runs = [_louvain(weights, r, seed + s) for r in resolutions for s in range(n_seeds)]
    coassign = np.mean([_together(lab) for lab in runs], axis=0)
    matrix = coassign
    labels = runs[0]
    for _ in range(max_rounds):
        graph = np.where(matrix >= CONSENSUS_THRESHOLD, matrix, 0.0)
        np.fill_diagonal(graph, 0.0)
        again = [_louvain(graph, 1.0, seed + s) for s in range(n_seeds)]
        labels = again[0]
        if all(np.array_equal(a, labels) for a in again[1:]):
            break
        matrix = np.mean([_together(lab) for lab in again], axis=0)
    isolated = ~(weights > 0).any(axis=1)
    labels = np.where(isolated, -1, labels)
    modularity = _modularity(weights, labels)
    stability = float(np.mean([adjusted_rand_score(labels, lab) for lab in runs]))
    return labels, coassign, modularity, stability


def _modularity(weights: np.ndarray, labels: np.ndarray) -> float:
    import networkx as nx

    if not (labels >= 0).any() or not (weights > 0).any():
        return float("nan")
    graph = nx.from_numpy_array(np.where(weights > 0, weights, 0.0))
    parts = [set(np.flatnonzero(labels == k).tolist()) for k in range(labels.max() + 1)]
    parts += [{int(k)} for k in np.flatnonzero(labels < 0)]
    return float(nx.community.modularity(graph, parts, weight="weight"))


def detect_communities(
    pair_loadings: xr.DataArray,
    *,
    resolution: float | Sequence[float] = DEFAULT_RESOLUTIONS,
    n_seeds: int = 4,
    seed: int = 0,
    progress: bool | None = None,
) -> xr.Dataset:
    """Consensus Louvain communities of each component's neuron-pair graph.

    Each component's pair loadings weight an undirected graph on the neurons (NaN:
    no edge), partitioned by Louvain modularity at every ``resolution`` and seed. The
    co-assignment fractions of at least one half weight a consensus graph, partitioned
    again at resolution 1 until its ``n_seeds`` runs agree (at most 10 rounds; consensus
    clustering, Lancichinetti & Fortunato 2012).

    Parameters
    ----------
    pair_loadings : xarray.DataArray
        Dims (component, pair) (or just (pair,)), non-negative edge weights, with
        coordinates ``neuron_i`` and ``neuron_j`` along ``pair``.
    resolution : float or sequence of float
        Modularity resolution(s) (> 1 favours smaller communities). Louvain runs at
        every resolution and seed; the communities are their consensus. Default
        ``DEFAULT_RESOLUTIONS`` (0.8, 1.0, 1.25).
    n_seeds : int
        Louvain runs per resolution (seeds ``seed, seed + 1, ...``).
    seed : int
        Seed of the first run.
    progress : bool, optional
        Progress bar over components (None: ``nd.config``).

    Returns
    -------
    xarray.Dataset
        ``community`` (component, neuron): consensus labels (0 = largest community,
        -1 = neuron without any positive edge); ``coassignment`` (component, neuron,
        neuron_2): fraction of the runs (resolutions x seeds) that put each pair in
        one community; ``community_stability`` (component, neuron): the stability of
        the neuron's consensus community, the mean co-assignment of its pairs (NaN
        for neurons without a community); ``modularity`` (component, of the consensus
        at resolution 1); ``n_communities`` (component); ``stability``
        (component): mean adjusted Rand index of the runs with the consensus (1 =
        every run found it).
    """
    resolutions = [resolution] if np.isscalar(resolution) else list(resolution)
    if not resolutions or not all(np.isscalar(r) and r > 0 for r in resolutions):
        raise SchemaError(
            f"`resolution` must be a positive number or a list of them; got {resolution!r}"
        )
    n_seeds = check_int(n_seeds, "n_seeds", minimum=1)
    seed = check_seed(seed)
    da = as_dataarray(pair_loadings, name="pair loadings")
    if "pair" not in da.dims:
        raise SchemaError(f"pair loadings: expected a 'pair' dim; found dims {da.dims}")
    squeeze = "component" not in da.dims
    if squeeze:
        da = da.expand_dims(component=[0])
    da = da.transpose("component", "pair")
    names, i, j = _pair_neurons(da)
    n = len(names)
    labels, coassign, modularity, stability = [], [], [], []
    rows = np.asarray(da.values, dtype=np.float64)
    for row in _progress(rows, desc="communities", enabled=resolve("progress", progress)):
        weights = np.zeros((n, n))
        weights[i, j] = weights[j, i] = np.nan_to_num(row, nan=0.0)
        lab, co, q, st = _consensus(weights, resolutions, int(n_seeds), int(seed))
        labels.append(lab)
        coassign.append(co)
        modularity.append(q)
        stability.append(st)
    labels = np.array(labels)
    n_comm = (labels.max(axis=1) + 1).astype(int)
    per_neuron = np.full(labels.shape, np.nan)  # stability of each neuron's community
    for c, (lab, co) in enumerate(zip(labels, coassign)):
        for k in range(n_comm[c]):
            members = np.flatnonzero(lab == k)
            sub = co[np.ix_(members, members)][np.triu_indices(members.size, k=1)]
            per_neuron[c, members] = sub.mean() if sub.size else 1.0
    out = xr.Dataset(
        {
            "community": (("component", "neuron"), labels),
            "coassignment": (("component", "neuron", "neuron_2"), np.array(coassign)),
            "community_stability": (("component", "neuron"), per_neuron),
            "modularity": ("component", np.array(modularity)),
            "n_communities": ("component", n_comm),
            "stability": ("component", np.array(stability)),
        },
        coords={
            "component": da["component"].values,
            "neuron": names.astype(str),
            "neuron_2": names.astype(str),
        },
        attrs={
            "resolution": [float(r) for r in resolutions],
            "n_seeds": int(n_seeds),
            "seed": int(seed),
            "consensus": f"Louvain over {len(resolutions)} resolutions x {int(n_seeds)} seeds, "
            f"consensus clustering of co-assignments >= {CONSENSUS_THRESHOLD}",
        },
    )
    out["community"].attrs["long_name"] = "consensus Louvain community (-1: no positive edge)"
    out["coassignment"].attrs["long_name"] = "fraction of runs co-assigning the pair"
    out["community_stability"].attrs["long_name"] = (
        "mean co-assignment within the neuron's community"
    )
    out["stability"].attrs["long_name"] = "mean adjusted Rand index of the runs with the consensus"
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

    For each component and synapse type, over the pairs of neurons found in both: the
    Jaccard overlap of the anatomical edges with the same number of strongest functional
    edges, the Spearman correlation of the weights, and the fraction of anatomical edges
    inside one functional community. Overlap and fraction are tested against ``n_null``
    degree-preserving rewirings of each anatomical graph (Maslov-Sneppen edge swaps).

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

    n_null = check_int(n_null, "n_null", minimum=1)
    seed = check_seed(seed)
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
