"""Selectivity statistics against scipy/sklearn and analytic answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from neurodata.analyses.selectivity import (
    CONTRASTS,
    PROBE_RANKINGS,
    census,
    contrast,
    lape,
    permutation_test,
    reliability,
    sparse_probe,
    top_units,
)
from neurodata.errors import SchemaError

LAYERS = ["embeddings", "encoder.layer.0", "encoder.layer.1"]


def _acts(seed=0, n=40, units=30, effect=1.5):
    """(layer, stimulus, unit) activations with units 0-2 of layer 1 selective for 'a'."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(LAYERS), n, units))
    cond = np.array(["a", "b"] * (n // 2), dtype=object)
    x[1, cond == "a", :3] += effect
    x[2, :, 5] = 3.0  # a constant unit
    return xr.DataArray(
        x.astype(np.float32),
        dims=("layer", "stimulus", "unit"),
        coords={
            "layer": LAYERS,
            "depth": ("layer", [0, 1, 2]),
            "stimulus": np.arange(n),
            "unit": np.arange(units),
            "condition": ("stimulus", cond),
        },
    )


def test_welch_and_cohen_and_auc_equal_scipy():
    acts = _acts()
    x = acts.transpose("stimulus", "layer", "unit").values.astype(np.float64)
    a, b = x[acts["condition"].values == "a"], x[acts["condition"].values == "b"]
    ok = np.ones(x.shape[1:], bool)
    ok[2, 5] = False
    welch = contrast(acts, positive="a")
    ok = ok & (x.std(axis=0) > 0)
    with np.errstate(all="ignore"):
        ref = stats.ttest_ind(a[:, ok], b[:, ok], equal_var=False, axis=0)
    np.testing.assert_allclose(welch["statistic"].values[ok], ref.statistic, rtol=1e-9)
    np.testing.assert_allclose(welch["p_value"].values[ok], ref.pvalue, rtol=1e-7)
    student = stats.ttest_ind(a[:, ok], b[:, ok], equal_var=True, axis=0)
    d = contrast(acts, positive="a", method="cohen_d")
    sd = np.sqrt((a.var(0, ddof=1) * 19 + b.var(0, ddof=1) * 19) / 38)
    sd[~ok] = 1.0
    np.testing.assert_allclose(d["statistic"].values[ok], ((a.mean(0) - b.mean(0)) / sd)[ok])
    np.testing.assert_allclose(d["p_value"].values[ok], student.pvalue, rtol=1e-7)
    auc = contrast(acts, positive="a", method="auc")
    mw = stats.mannwhitneyu(a[:, ok], b[:, ok], axis=0, method="asymptotic")
    np.testing.assert_allclose(auc["statistic"].values[ok], mw.statistic / 400)
    np.testing.assert_allclose(auc["p_value"].values[ok], mw.pvalue, rtol=1e-7)
    assert welch["statistic"].dims == ("layer", "unit")
    assert list(welch["depth"].values) == [0, 1, 2]
    assert welch.attrs["n_positive"] == 20 and welch.attrs["negative"] == "b"


@pytest.mark.parametrize("method", sorted(CONTRASTS))
def test_constant_units_are_finite_and_flagged(method):
    res = contrast(_acts(), positive="a", method=method)
    assert bool(res["degenerate"].sel(layer=LAYERS[2], unit=5))
    assert int(res["degenerate"].sum()) == 1
    assert np.isfinite(res["statistic"]).all() and np.isfinite(res["p_value"]).all()
    assert float(res["p_value"].sel(layer=LAYERS[2], unit=5)) == 1.0


def test_permutation_null_finds_the_planted_units_and_is_seeded():
    acts = _acts(effect=2.5)
    res = permutation_test(acts, positive="a", n_permutations=999, progress=False, seed=1)
    sig = res["significant"].values
    assert sig[1, :3].all()
    assert sig.sum() <= 5
    again = permutation_test(acts, positive="a", n_permutations=999, progress=False, seed=1)
    xr.testing.assert_identical(res, again)
    assert res["p_permutation"].min() >= 1 / 1000


def test_top_units_whole_network_and_per_layer():
    stat = contrast(_acts(), positive="a")["statistic"]
    mask = top_units(stat, k=3)
    assert mask.dims == ("layer", "unit") and mask.dtype == bool
    assert mask.sel(layer=LAYERS[1], unit=[0, 1, 2]).all() and int(mask.sum()) == 3
    per = top_units(stat, fraction=0.1, per_layer=True)
    assert per.sum("unit").values.tolist() == [3, 3, 3]
    assert int(top_units(stat).sum()) == 1  # default fraction 0.01 of 90 units, at least one
    with pytest.raises(SchemaError, match="give exactly one of `fraction` and `k`"):
        top_units(stat, fraction=0.1, k=2)
    with pytest.raises(SchemaError, match=r"`k` must be an integer in \[1, 90\]; got 91"):
        top_units(stat, k=91)


def test_reliability_of_maps_and_masks():
    s1 = contrast(_acts(seed=1, effect=3), positive="a")["statistic"]
    s2 = contrast(_acts(seed=2, effect=3), positive="a")["statistic"]
    rel = reliability(s1, s2, fraction=3 / 90)
    ref = stats.pearsonr(s1.values.ravel(), s2.values.ravel())[0]
    assert float(rel["correlation"]) == pytest.approx(ref)
    assert float(rel["dice"]) == 1.0
    assert float(rel["chance_dice"]) == pytest.approx(3 / 90)
    m = top_units(s1, k=4)
    other = m.copy(data=np.roll(m.values, 1, axis=1))
    out = reliability(m, other)
    expected = 2 * (m.values & other.values).sum() / 8
    assert float(out["dice"]) == expected and np.isnan(float(out["correlation"]))
    with pytest.raises(SchemaError, match="must cover the same units"):
        reliability(s1, s1.isel(unit=slice(0, 10)))


def _lape_direct(x, labels):
    """Tang et al.'s definition, transcribed: entropy of normalised activation probabilities."""
    out = np.zeros(x.shape[1:])
    for idx in np.ndindex(*x.shape[1:]):
        p = np.array([(x[(labels == c, *idx)] > 0).mean() for c in sorted(set(labels))])
        if p.sum() == 0:
            out[idx] = np.log(len(p))
            continue
        q = p / p.sum()
        out[idx] = -sum(v * np.log(v) for v in q if v > 0)
    return out


def test_lape_equals_its_definition():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2, 8))
    labels = np.array(["en", "fr", "zh"] * 20, dtype=object)
    x[labels != "fr", 0, 0] = -1.0  # active only on French
    x[:, 1, 1] = -2.0  # never active
    acts = xr.DataArray(x, dims=("token", "layer", "unit"), coords={"lang": ("token", labels)})
    res = lape(acts, "lang", dim="token")
    np.testing.assert_allclose(
        res["entropy"].transpose("layer", "unit").values, _lape_direct(x, labels), atol=1e-12
    )
    assert float(res["entropy"][0, 0]) == 0.0
    assert bool(res["inactive"][1, 1])
    assert res["probability"].dims[0] == "condition"
    with pytest.raises(SchemaError, match="has one level"):
        lape(acts, np.array(["en"] * 60), dim="token")


def test_census_finds_planted_classes():
    rng = np.random.default_rng(4)
    n = 300
    token_id = rng.integers(0, 20, n)
    position = np.tile(np.arange(10), 30)
    x = rng.normal(size=(n, 6)) * 0.1
    x[:, 0] = -1.0  # dead
    x[:, 1] = 1.0 + rng.random(n)  # always active
    x[:, 2] = np.where(token_id == 7, 2.0, -1.0)  # fires on token 7 only
    x[:, 3] = position - 4.5  # positional
    acts = xr.DataArray(
        x[:, None, :],
        dims=("token", "layer", "unit"),
        coords={"layer": ["h.0"], "token_id": ("token", token_id), "position": ("token", position)},
    )
    res = census(acts)
    assert res["dead"].values[0].tolist()[:4] == [True, False, False, False]
    assert res["always_active"].values[0, 1] and not res["always_active"].values[0, 0]
    assert res["token_specific"].values[0].tolist() == [False, False, True, False, False, False]
    assert res["positional"].values[0, 3] and res["positional"].values[0].sum() == 1
    assert res["counts"].sel(layer="h.0", **{"class": "dead"}) == 1


@pytest.mark.parametrize("method", sorted(PROBE_RANKINGS))
def test_sparse_probe_finds_the_informative_unit(method):
    acts = _acts(effect=3.0, n=80)
    res = sparse_probe(acts, "condition", k=1, method=method, progress=False)
    assert res["accuracy"].sel(layer=LAYERS[1]) > 0.85
    assert res["accuracy"].sel(layer=LAYERS[0]) < 0.75
    assert res["selected"].sel(layer=LAYERS[1]).isel(unit=slice(0, 3)).sum() == 1.0
    with pytest.raises(SchemaError, match="must have two levels"):
        sparse_probe(acts, np.arange(80) % 3, progress=False)


def test_bad_contrasts_say_what_was_expected():
    acts = _acts()
    with pytest.raises(SchemaError, match=r"has one level \['a'\]"):
        contrast(acts, np.array(["a"] * 40), positive="a")
    with pytest.raises(
        SchemaError, match=r"`positive` must name level\(s\) of 'condition', one of"
    ):
        contrast(acts, positive="zzz")
    with pytest.raises(SchemaError, match="is not a coordinate of the activations"):
        contrast(acts, "nope", positive="a")
    with pytest.raises(
        ValueError, match=r"`method` must be one of \['auc', 'cohen_d', 'welch_t'\]"
    ):
        contrast(acts, positive="a", method="t")
    with pytest.raises(SchemaError, match="holds 3 labels; expected one per 'stimulus'"):
        contrast(acts, np.array(["a", "b", "a"]), positive="a")
