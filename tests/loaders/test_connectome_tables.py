"""Published connectomes: counts against the publications and cect's readers.

The cect numbers were measured with cect 0.3.5's readers (White_whole,
VarshneyDataReader, Cook2019HermReader, WitvlietDataReader7) in a private
virtual environment, restricted to the 302 neurons; cect is not a test
dependency. When cect is installed, ``test_against_cect_live`` recomputes them.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

import neurodata as nd
from neurodata import celegans
from neurodata.celegans.neurons import neuron_table
from neurodata.errors import NotFoundError

# source -> (chemical edges, chemical weight, electrical non-zero entries, electrical weight),
# all 302 neurons, as cect's reader of the same publication gives them
CECT = {
    "white1986": (2266, 6509.0, 1132, 1916.0),
    "varshney2011": None,  # cect reads NeuronConnect.xls, another table: see test_varshney_2011
    "cook2019": (3709, 20965.0, 2196, 11523.0),  # cect reads the July 2020 correction
    "witvliet2021": (1944, 6587.0, 528, 732.0),
}


@functools.cache
def _load(source: str, data_dir: str):
    return celegans.load_connectome(source, data_dir=data_dir)


def _data_dir(shared_data):
    folder = shared_data / "celegans" / "connectomes"
    if not folder.is_dir():
        pytest.skip("connectome tables not available")
    return shared_data


def _counts(ds):
    w = ds["weight"].values
    return int((w[0] > 0).sum()), float(w[0].sum()), int((w[1] > 0).sum()), float(w[1].sum())


@pytest.mark.parametrize("source", sorted(celegans.SOURCES))
def test_layout_and_symmetry(shared_data, source):
    ds = _load(source, str(_data_dir(shared_data)))
    w = ds["weight"]
    assert w.dims == ("synapse_type", "pre", "post")
    assert list(w["synapse_type"].values) == ["chemical", "electrical"]
    assert list(w["pre"].values) == list(celegans.neurons())
    gap = w.sel(synapse_type="electrical").values
    np.testing.assert_array_equal(gap, gap.T)
    chem = w.sel(synapse_type="chemical").values
    assert not np.array_equal(chem, chem.T)  # direction kept
    assert (w.values >= 0).all()
    assert ds.attrs["connectome"] == source
    assert "pre_neuron_type" in ds.coords
    nd.validate(ds, "connectome")


@pytest.mark.parametrize("source", ["white1986", "cook2019", "witvliet2021"])
def test_counts_match_cect(shared_data, source):
    ds = _load(source, str(_data_dir(shared_data)))
    ours = _counts(ds)
    if source == "cook2019":
        # our table is the original SI 5; the July 2020 correction (cect's copy) removed
        # the BDU-PLM gap junctions (23 sections on each side): 4 entries, 92 sections
        gap = ds["weight"].sel(synapse_type="electrical")
        for a, b in (("BDUL", "PLML"), ("BDUR", "PLMR")):
            assert float(gap.sel(pre=a, post=b)) == 23.0
        ours = (ours[0], ours[1], ours[2] - 4, ours[3] - 4 * 23.0)
    assert ours == CECT[source]


def test_varshney_2011_matches_the_paper(shared_data):
    """Varshney et al. 2011: 279 somatic neurons, 2194 directed chemical connections,
    514 gap-junction connections made of 890 gap junctions."""
    ds = _load("varshney2011", str(_data_dir(shared_data)))
    table = neuron_table()
    somatic = table.loc[table["neuron_type"] != "pharyngeal", "neuron"].tolist()
    w = ds["weight"].sel(pre=somatic, post=somatic).values
    assert int((w[0] > 0).sum()) == 2194
    gap = w[1]
    assert int(np.triu(gap > 0, 1).sum()) == 514
    assert np.triu(gap, 1).sum() + np.trace(gap) == 890.0
    active = (w.sum(axis=(0, 1)) + w.sum(axis=(0, 2))) > 0
    assert int(active.sum()) == 279
    # the shipped xls counts 6262 chemical synapses among them (paper: 6393; cect's
    # NeuronConnect.xls: 6394) -- documented in docs/celegans.md
    assert w[0].sum() == 6262.0


def test_white_1986_somatic_matches_varshney_edges(shared_data):
    white = _load("white1986", str(_data_dir(shared_data)))
    varshney = _load("varshney2011", str(_data_dir(shared_data)))
    table = neuron_table()
    somatic = table.loc[table["neuron_type"] != "pharyngeal", "neuron"].tolist()
    a = white["weight"].sel(synapse_type="chemical", pre=somatic, post=somatic).values > 0
    b = varshney["weight"].sel(synapse_type="chemical", pre=somatic, post=somatic).values > 0
    np.testing.assert_array_equal(a, b)  # c302's White table is Varshney's reanalysis


def test_against_cect_live(shared_data):
    cect_readers = pytest.importorskip("cect.readers.WitvlietDataReader7")
    ds = _load("witvliet2021", str(_data_dir(shared_data)))
    ref = cect_readers.get_instance(from_cache=False)
    nodes = [celegans.normalize_name(n) for n in ref.nodes]
    keep = [i for i, n in enumerate(nodes) if celegans.is_neuron(n)]
    mat = ref.connections["Generic_CS"][np.ix_(keep, keep)]
    ours = ds["weight"].sel(
        synapse_type="chemical", pre=[nodes[i] for i in keep], post=[nodes[i] for i in keep]
    )
    np.testing.assert_array_equal(ours.values, mat)


def test_not_found_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURODATA_DATA", raising=False)
    with pytest.raises(NotFoundError, match=r"witvliet_2020_7\.xlsx.*not found; looked in"):
        celegans.load_connectome("witvliet2021", data_dir=tmp_path)
    monkeypatch.setenv("NEURODATA_DATA", str(tmp_path))
    with pytest.raises(NotFoundError, match=str(tmp_path)):
        celegans.load_connectome("cook2019")


def test_env_var_finds_tables(shared_data, monkeypatch):
    monkeypatch.setenv("NEURODATA_DATA", str(_data_dir(shared_data)))
    assert celegans.load_connectome("white1986").sizes["pre"] == 302


def test_unknown_source():
    with pytest.raises(ValueError, match=r"`source` must be one of \['cook2019', 'varshney2011'"):
        celegans.load_connectome("durbin1987")


def test_edgelist_through_load(tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text(
        "pre\tpost\ttype\tsynapses\n"
        "AVAL\tAVBL\tchemical\t3\n"
        "AVAL\tAVAR\telectrical\t2\n"
        "VB02\tDD01\tchemical\t1\n"
        "AVAL\tBWM-DL01\tchemical\t4\n"
    )
    ds = nd.load(path)
    w = ds["weight"]
    assert float(w.sel(synapse_type="chemical", pre="AVAL", post="AVBL")) == 3
    assert float(w.sel(synapse_type="chemical", pre="AVBL", post="AVAL")) == 0
    assert float(w.sel(synapse_type="electrical", pre="AVAR", post="AVAL")) == 2
    assert float(w.sel(synapse_type="chemical", pre="VB2", post="DD1")) == 1
    assert ds.attrs["dropped_edges"] == 1
    assert ds.attrs["source_format"] == "connectome-edgelist"


def test_cook_layout_edgelist_auto_detects_mirrored_gap_junctions(tmp_path):
    path = tmp_path / "cook_like.csv"
    path.write_text(
        "Source,Target,Weight,Type\n"
        "AVAL , AVBL ,3,chemical\n"
        "AVAL , AVAR ,2,electrical\n"
        "AVAR , AVAL ,2,electrical\n"
    )
    ds = nd.load(path)
    assert ds.attrs["gap_listing"] == "both"
    assert float(ds["weight"].sel(synapse_type="electrical", pre="AVAL", post="AVAR")) == 2
    once = nd.load(path, gap_listing="once")
    assert float(once["weight"].sel(synapse_type="electrical", pre="AVAL", post="AVAR")) == 4


def test_cook_full_edgelist(shared_data):
    path = _data_dir(shared_data) / "celegans" / "connectomes" / "herm_full_edgelist.csv"
    if not path.exists():
        pytest.skip("herm_full_edgelist.csv not available")
    ds = nd.load(path)
    assert ds.attrs["gap_listing"] == "both"
    gap = ds["weight"].sel(synapse_type="electrical").values
    np.testing.assert_array_equal(gap, gap.T)
    assert float(ds["weight"].sel(synapse_type="chemical").sum()) > 0


def _table_neurons(source, data_dir):
    """The 302-neuron names a published table names, read with pandas/openpyxl directly."""
    from neurodata.celegans.neurons import normalize_name

    path = celegans.connectome.find_table(source, data_dir)
    if source == "witvliet2021":
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl")
        names = set(frame["pre"].astype(str).str.strip()) | set(
            frame["post"].astype(str).str.strip()
        )
    else:  # White 1986, tab-separated
        frame = pd.read_csv(path, sep="\t", skipinitialspace=True)
        frame.columns = [c.strip() for c in frame.columns]
        names = set(frame["pre"].astype(str).str.strip()) | set(
            frame["post"].astype(str).str.strip()
        )
    return {normalize_name(n) for n in names} & set(celegans.neurons())


@pytest.mark.parametrize("source", ["white1986", "witvliet2021"])
def test_neurons_in_table_match_pandas(shared_data, source):
    data_dir = _data_dir(shared_data)
    ds = _load(source, str(data_dir))
    expected = _table_neurons(source, data_dir)
    covered = set(ds["pre"].values[ds["pre_in_table"].values])
    assert covered == expected
    assert ds.attrs["neurons_in_table"] == len(expected)
    np.testing.assert_array_equal(ds["pre_in_table"].values, ds["post_in_table"].values)
    if source == "witvliet2021":
        assert len(expected) == 181  # the adult dataset covers the nerve ring only


def test_jaccard_white_witvliet_over_shared_neurons(shared_data):
    """Against the edge sets read with pandas, restricted to neurons both tables name."""
    data_dir = _data_dir(shared_data)
    white, witvliet = (_load(s, str(data_dir)) for s in ("white1986", "witvliet2021"))
    shared = _table_neurons("white1986", data_dir) & _table_neurons("witvliet2021", data_dir)

    def chemical_edges(ds):
        chem = ds["weight"].sel(synapse_type="chemical").to_pandas()
        stacked = chem.stack()
        return {(a, b) for (a, b), v in stacked[stacked > 0].items() if a in shared and b in shared}

    a, b = chemical_edges(white), chemical_edges(witvliet)
    expected = len(a & b) / len(a | b)
    cmp = celegans.compare_connectomes({"white": white, "witvliet": witvliet})
    got = float(cmp["jaccard"].sel(synapse_type="chemical", model="white", model_2="witvliet"))
    assert got == pytest.approx(expected, rel=1e-12)
    assert int(cmp["n_shared_neurons"].sel(model="white", model_2="witvliet")) == len(shared)
    everything = celegans.compare_connectomes({"white": white, "witvliet": witvliet}, neurons="all")
    low = float(
        everything["jaccard"].sel(synapse_type="chemical", model="white", model_2="witvliet")
    )
    assert low < got  # over all 302 the uncovered body neurons count as disagreement


def test_region_table_named_csv_points_to_parcellated_table(tmp_path):
    """A .csv of region time series is not read as an edge list with a confusing column error."""
    from neurodata.errors import FormatError

    path = tmp_path / "regions.csv"
    pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["WM", "LCau", "RCau"]).to_csv(
        path, index=False
    )
    with pytest.raises(FormatError, match=r"not a connectome edge list.*'WM,LCau,RCau'.*"
                       r"format='parcellated-table' and tr=<seconds>"):  # fmt: skip
        nd.load(path)
    ds = nd.load(path, format="parcellated-table", tr=2.0)
    np.testing.assert_array_equal(ds["bold"].values, pd.read_csv(path).to_numpy())


def test_quoted_edge_list_still_read(tmp_path):
    path = tmp_path / "edges.csv"
    frame = pd.DataFrame({"pre": ["AVAL"], "post": ["AVBL"], "type": ["chemical"], "synapses": [3]})
    frame.to_csv(path, index=False, quoting=1)  # csv.QUOTE_ALL: "pre","post",...
    ds = nd.load(path)
    assert float(ds["weight"].sel(synapse_type="chemical", pre="AVAL", post="AVBL")) == 3.0
