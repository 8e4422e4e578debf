"""tRSA against an independent implementation of the authors' definition (Lin & Kriegeskorte 2024)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import squareform
from scipy.stats import rankdata

from neurodata.analyses import rsa
from neurodata.schema import validate


def _rdms(rng, n_rdm=3, n=14, p=6):
    x = rng.standard_normal((n_rdm, n, p)) * np.arange(1, n_rdm + 1)[:, None, None] ** 2
    return rsa.rdm(xr.DataArray(x, dims=("subject", "condition", "feature")))


# -- the definition, written out independently from the paper and the authors' code --


def _reference_rgtm(vector, lower, upper):
    r = rankdata(vector)
    r = (r - r.min()) / (r.max() - r.min())
    lo, up = np.quantile(r, lower), np.quantile(r, upper)
    out = np.empty_like(r)
    for k, value in enumerate(r):
        if value < lo:
            out[k] = 0.0
        elif value > up:
            out[k] = 1.0
        else:
            out[k] = (value - lo) / (up - lo)
    return out


def _reference_rgdm(vector, lower, upper, zero_edges):
    nx = pytest.importorskip("networkx")
    g = squareform(_reference_rgtm(vector, lower, upper))
    graph = nx.Graph()
    graph.add_nodes_from(range(g.shape[0]))
    for i in range(g.shape[0]):
        for j in range(i + 1, g.shape[0]):
            if g[i, j] < 1 and (zero_edges or g[i, j] > 0):
                graph.add_edge(i, j, weight=g[i, j])
    dist = np.asarray(nx.floyd_warshall_numpy(graph, nodelist=range(g.shape[0])))
    return rankdata(squareform(dist, checks=False))


LU = [(0.0, 1.0), (0.1, 0.6), (0.4, 0.5), (0.0, 0.075), (0.3, 0.95)]


@pytest.mark.parametrize(("lower", "upper"), LU)
def test_geotopological_matches_definition(rng, lower, upper):
    rdms = _rdms(rng)
    vectors = rsa.to_vectors(rdms, "condition")[0]
    ours = rsa.to_vectors(rsa.geotopological(rdms, lower, upper), "condition")[0]
    for v, o in zip(vectors, ours):
        np.testing.assert_allclose(o, _reference_rgtm(v, lower, upper), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("lower", "upper"), LU[:4])
@pytest.mark.parametrize("zero_edges", [True, False])
def test_geodesic_matches_definition(rng, lower, upper, zero_edges):
    rdms = _rdms(rng, n=10)
    vectors = rsa.to_vectors(rdms, "condition")[0]
    out = rsa.geodesic(rdms, lower, upper, zero_edges=zero_edges)
    ours = rsa.to_vectors(out, "condition")[0]
    for v, o in zip(vectors, ours):
        np.testing.assert_allclose(o, _reference_rgdm(v, lower, upper, zero_edges), atol=1e-12)
    validate(out, kind="rdm")


def test_geodesic_identifies_pairs_below_lower(rng):
    rdms = _rdms(rng, n_rdm=1, n=12)
    g = rsa.to_vectors(rsa.geotopological(rdms, 0.3, 0.7), "condition")[0][0]
    d = rsa.to_vectors(rsa.geodesic(rdms, 0.3, 0.7, zero_edges=True), "condition")[0][0]
    below = g == 0
    assert below.any()
    # with zero-length edges, geodesic distance 0 for every pair below `lower`
    assert np.all(d[below] == d.min())
    # the authors' graph (default) drops those edges: such pairs are only linked via others
    default = rsa.to_vectors(rsa.geodesic(rdms, 0.3, 0.7), "condition")[0][0]
    assert not np.all(default[below] == default.min())


def test_outputs_are_labelled_rdms_in_unit_interval(rng):
    rdms = _rdms(rng).assign_coords(
        condition=[f"c{i}" for i in range(14)], condition_2=[f"c{i}" for i in range(14)]
    )
    out = rsa.geotopological(rdms, 0.2, 0.8)
    assert out.dims == rdms.dims and out.attrs["lower"] == 0.2
    assert list(out.condition.values) == list(rdms.condition.values)
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0
    validate(out, kind="rdm")


def test_inputs_never_mutated(rng):
    rdms = _rdms(rng)
    before = rdms.copy(deep=True)
    rdms.values.flags.writeable = False  # any in-place write would raise
    rsa.geotopological(rdms, 0.1, 0.5)
    rsa.geodesic(rdms, 0.1, 0.5)
    rsa.model_selection(
        rdms.expand_dims(region=["a"])
        .transpose("subject", "region", ...)
        .pipe(lambda r: xr.concat([r, r.assign_coords(region=["b"]) * 2], "region")),
        grid=[(0.0, 1.0)],
    )
    xr.testing.assert_identical(rdms, before)


# -- rsatoolbox 0.3.2: document where it departs from the definition --------------------


def test_rsatoolbox_geotopological_departs_from_definition(rng):
    pytest.importorskip("rsatoolbox")
    from rsatoolbox.rdm import RDMs
    from rsatoolbox.rdm.transform import geotopological_transform

    rdms = _rdms(rng)
    vectors = rsa.to_vectors(rdms, "condition")[0]
    theirs_in = RDMs(vectors.copy())
    theirs = geotopological_transform(theirs_in, 0.2, 0.6).get_vectors()
    ours = rsa.to_vectors(rsa.geotopological(rdms, 0.2, 0.6), "condition")[0]
    # 1. in-place mutation: the input RDMs object now holds transformed values
    assert not np.array_equal(theirs_in.get_vectors(), vectors)
    # 2. pooled quantiles (and no rank transform): RDMs of different scale saturate
    assert not np.allclose(theirs, ours)
    assert np.mean(theirs[0] == 0) > 0.9 or np.mean(theirs[-1] == 1) > 0.9
    # 3. overwritten values: rescaled in-band values above the upper threshold become 1
    one = RDMs(np.linspace(0, 1, 45)[None])
    gt_max = np.quantile(np.linspace(0, 1, 45), 0.6)
    out = geotopological_transform(one, 0.2, 0.6).get_vectors()[0]
    in_band = np.linspace(0, 1, 45) <= gt_max
    assert np.any(out[in_band] == 1.0)  # should be < 1 inside the band
    mine = rsa.to_vectors(
        rsa.geotopological(
            xr.DataArray(squareform(np.linspace(0, 1, 45)), dims=("condition", "condition_2")),
            0.2,
            0.6,
        ),
        "condition",
    )[0][0]
    assert np.sum(mine == 1.0) == np.sum(~in_band)


# -- families and grid ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "upper", "name"),
    [
        (0.0, 1.0, "geometry sensitive"),
        (0.45, 0.55, "topology sensitive"),
        (0.0, 0.2, "local extractor"),
        (0.85, 1.0, "global extractor"),
        (0.2, 0.7, "intermediate"),
    ],
)
def test_families(lower, upper, name):
    assert rsa.family(lower, upper) == name


def test_lu_grid_and_errors():
    grid = rsa.lu_grid(0.05)
    assert len(grid) == 210 and all(0 <= lo < up <= 1 for lo, up in grid)
    assert (0.0, 1.0) in grid and (0.95, 1.0) in grid
    with pytest.raises(ValueError, match="0 <= lower <= upper <= 1"):
        rsa.family(0.6, 0.4)
    with pytest.raises(
        ValueError, match=r"`transform` must be one of \['geodesic', 'geotopological'\]"
    ):
        rsa.model_selection(
            xr.DataArray(
                np.zeros((2, 2, 3, 3)), dims=("subject", "region", "condition", "condition_2")
            ),
            transform="rank",
        )


# -- model selection ------------------------------------------------------------------


def test_nearest_centroid_matches_sklearn_loso(rng):
    from sklearn.neighbors import NearestCentroid

    n_sub, n_lab = 5, 3
    vectors = rng.standard_normal((n_sub * n_lab, 20)) + np.tile(np.eye(3, 20) * 1.5, (n_sub, 1))
    subjects = np.repeat(np.arange(n_sub), n_lab)
    labels = np.tile(np.array(["V1", "V2", "IT"]), n_sub)
    hits = 0
    for s in range(n_sub):
        clf = NearestCentroid().fit(vectors[subjects != s], labels[subjects != s])
        hits += (clf.predict(vectors[subjects == s]) == labels[subjects == s]).sum()
    assert rsa.nearest_centroid_accuracy(vectors, subjects, labels) == pytest.approx(hits / 15)


def test_model_selection_identifies_planted_regions(rng):
    n_sub, n = 4, 12
    protos = [rng.standard_normal((n, 5)) for _ in range(3)]
    x = np.stack([[p + 0.3 * rng.standard_normal((n, 5)) for p in protos] for _ in range(n_sub)])
    rdms = rsa.rdm(
        xr.DataArray(
            x,
            dims=("subject", "region", "condition", "feature"),
            coords={"region": ["V1", "V4", "IT"]},
        )
    )
    acc = rsa.model_selection(rdms, grid=[(0.0, 1.0), (0.4, 0.6), (0.1, 0.3)])
    assert acc.dims == ("lower", "upper")
    assert float(acc.sel(lower=0.0, upper=1.0)) == 1.0
    assert np.isnan(float(acc.sel(lower=0.4, upper=0.3)))
    geo = rsa.model_selection(rdms, grid=[(0.0, 0.5)], transform="geodesic")
    assert 0.0 <= float(geo.max()) <= 1.0


# -- properties -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), lower=st.floats(0, 0.5), width=st.floats(0.01, 0.5))
def test_property_permutation_equivariant_and_monotone(seed, lower, width):
    r = np.random.default_rng(seed)
    rdms = _rdms(r, n_rdm=1, n=8)
    upper = min(1.0, lower + width)
    perm = r.permutation(8)
    out = rsa.geotopological(rdms, lower, upper).values[0]
    permuted = rdms.isel(condition=perm, condition_2=perm)
    np.testing.assert_allclose(
        rsa.geotopological(permuted, lower, upper).values[0], out[np.ix_(perm, perm)], atol=1e-12
    )
    v = rsa.to_vectors(rdms, "condition")[0][0]
    g = out[np.triu_indices(8, 1)]
    order = np.argsort(v)
    assert np.all(np.diff(g[order]) >= -1e-12)  # monotone in the dissimilarity
    assert g.min() >= 0 and g.max() <= 1
