"""Linear CKA and orthogonal Procrustes distance."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import procrustes as scipy_procrustes
from scipy.stats import ortho_group

from neurodata.analyses import rsa


def _da(x, feature="unit"):
    return xr.DataArray(x, dims=("condition", feature))


def _hsic(k, g):
    n = k.shape[0]
    h = np.eye(n) - 1.0 / n
    return np.trace(k @ h @ g @ h)


def _hsic_unbiased_loops(k, g):
    """Song et al. (2012), eq. 5, written term by term."""
    n = k.shape[0]
    kt, gt = k.copy(), g.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(gt, 0)
    one = np.ones(n)
    term = np.trace(kt @ gt) + (one @ kt @ one) * (one @ gt @ one) / ((n - 1) * (n - 2))
    term -= 2.0 / (n - 2) * one @ kt @ gt @ one
    return term / (n * (n - 3))


def test_cka_matches_hsic_definitions(rng):
    x, y = rng.standard_normal((20, 6)), rng.standard_normal((20, 9))
    k, g = x @ x.T, y @ y.T
    expected = _hsic(k, g) / np.sqrt(_hsic(k, k) * _hsic(g, g))
    assert float(rsa.linear_cka(_da(x), _da(y, "voxel"))) == pytest.approx(expected, abs=1e-12)
    expected = _hsic_unbiased_loops(k, g) / np.sqrt(
        _hsic_unbiased_loops(k, k) * _hsic_unbiased_loops(g, g)
    )
    assert float(rsa.linear_cka(_da(x), _da(y), debiased=True)) == pytest.approx(
        expected, abs=1e-12
    )


def test_debiased_cka_removes_bias_for_independent_data(rng):
    x, y = rng.standard_normal((30, 500)), rng.standard_normal((30, 500))
    biased = float(rsa.linear_cka(_da(x), _da(y)))
    debiased = float(rsa.linear_cka(_da(x), _da(y), debiased=True))
    assert biased > 0.5  # many features, few conditions: strongly biased upwards
    assert abs(debiased) < 0.1


def test_procrustes_matches_scipy(rng):
    x, y = rng.standard_normal((15, 4)), rng.standard_normal((15, 4))
    d = float(rsa.procrustes(_da(x), _da(y)))
    nuclear = 1 - d**2 / 2
    assert 1 - nuclear**2 == pytest.approx(scipy_procrustes(x, y)[2], abs=1e-12)
    angular = float(rsa.procrustes(_da(x), _da(y), metric="angular"))
    assert np.cos(angular) == pytest.approx(nuclear, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.1, 10), shift=st.floats(-5, 5))
def test_property_invariances(seed, scale, shift):
    r = np.random.default_rng(seed)
    x = r.standard_normal((12, 5))
    q = ortho_group.rvs(5, random_state=seed)
    moved = scale * x @ q + shift
    assert float(rsa.linear_cka(_da(x), _da(moved))) == pytest.approx(1.0, abs=1e-9)
    assert float(rsa.procrustes(_da(x), _da(moved))) == pytest.approx(0.0, abs=1e-6)
    y = r.standard_normal((12, 3))
    assert float(rsa.linear_cka(_da(x), _da(y))) == pytest.approx(
        float(rsa.linear_cka(_da(y), _da(x))), abs=1e-12
    )


def test_broadcast_and_dask(rng):
    layers = xr.DataArray(
        rng.standard_normal((3, 10, 8)),
        dims=("layer", "condition", "unit"),
        coords={"layer": ["a", "b", "c"]},
    )
    brain = xr.DataArray(rng.standard_normal((2, 10, 5)), dims=("subject", "condition", "voxel"))
    out = rsa.linear_cka(layers, brain)
    assert set(out.dims) == {"layer", "subject"}
    expected = rsa.linear_cka(layers.isel(layer=1), brain.isel(subject=0))
    assert float(out.sel(layer="b").isel(subject=0)) == pytest.approx(float(expected))
    lazy = rsa.procrustes(layers.chunk({"layer": 1}), brain)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.compute().values, rsa.procrustes(layers, brain).values)


def test_errors(rng):
    x = _da(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="same conditions"):
        rsa.linear_cka(x, _da(rng.standard_normal((9, 3))))
    with pytest.raises(ValueError, match=r"`metric` must be one of \['angular', 'euclidean'\]"):
        rsa.procrustes(x, x, metric="cosine")
    with pytest.raises(ValueError, match="at least 4 conditions"):
        rsa.linear_cka(x.isel(condition=[0, 1, 2]), x.isel(condition=[0, 1, 2]), debiased=True)
