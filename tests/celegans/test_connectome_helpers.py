"""networkx conversions and the comparison of connectomes (synthetic graphs)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neurodata import celegans
from neurodata.celegans.connectome import edges_to_connectome
from neurodata.errors import FormatError, SchemaError


def _edges(rows):
    return pd.DataFrame(rows, columns=["pre", "post", "type", "synapses"])


@pytest.fixture
def small():
    return edges_to_connectome(
        _edges(
            [
                ("AVAL", "AVBL", "chemical", 3),
                ("AVBL", "AVAL", "chemical", 1),
                ("ASEL", "AIYL", "chemical", 5),
                ("AVAL", "AVAR", "electrical", 2),
                ("RIAL", "RIAR", "electrical", 1),
            ]
        )
    )


def test_gap_listing_policies():
    once = edges_to_connectome(
        _edges([("AVAL", "AVAR", "electrical", 2), ("AVAR", "AVAL", "electrical", 1)]),
        gap_listing="once",
    )
    assert float(once["weight"].sel(synapse_type="electrical", pre="AVAL", post="AVAR")) == 3
    both = edges_to_connectome(
        _edges(
            [
                ("AVAL", "AVAR", "electrical", 2),
                ("AVAR", "AVAL", "electrical", 2),
                ("RIAL", "RIAR", "electrical", 1),
            ]
        ),
        gap_listing="both",
    )
    gap = both["weight"].sel(synapse_type="electrical")
    assert float(gap.sel(pre="AVAR", post="AVAL")) == 2
    assert float(gap.sel(pre="RIAR", post="RIAL")) == 1  # a missing mirror is filled
    assert both.attrs["gap_pairs_unequal"] == 1
    with pytest.raises(FormatError, match="said to be symmetric is not"):
        edges_to_connectome(_edges([("AVAL", "AVAR", "electrical", 2)]), gap_listing="symmetric")
    with pytest.raises(ValueError, match="`gap_listing` must be one of"):
        edges_to_connectome(_edges([]), gap_listing="twice")


def test_to_networkx(small):
    chem = celegans.to_networkx(small, "chemical")
    assert isinstance(chem, nx.DiGraph) and chem.number_of_nodes() == 302
    assert chem["AVAL"]["AVBL"]["weight"] == 3 and chem["AVBL"]["AVAL"]["weight"] == 1
    assert chem.number_of_edges() == 3
    assert chem.nodes["ASEL"]["neuron_type"] == "sensory"
    gap = celegans.to_networkx(small, "electrical")
    assert isinstance(gap, nx.Graph) and not gap.is_directed()
    assert gap.number_of_edges() == 2 and gap["AVAR"]["AVAL"]["weight"] == 2
    with pytest.raises(ValueError, match="`synapse_type` must be one of"):
        celegans.to_networkx(small, "neuropeptide")


def test_networkx_round_trip(small):
    graphs = {t: celegans.to_networkx(small, t) for t in ("chemical", "electrical")}
    back = celegans.from_networkx(graphs)
    np.testing.assert_array_equal(back["weight"].values, small["weight"].values)


def test_from_networkx_multigraph_attribute_and_errors():
    g = nx.DiGraph()
    g.add_edge("AVAL", "AVBL", synapse_type="chemical", weight=2)
    g.add_edge("AVAL", "AVAR", synapse_type="electrical", weight=1)
    ds = celegans.from_networkx(g)
    w = ds["weight"]
    assert float(w.sel(synapse_type="chemical", pre="AVAL", post="AVBL")) == 2
    assert float(w.sel(synapse_type="electrical", pre="AVAR", post="AVAL")) == 1
    bad = nx.DiGraph([("AVAL", "MUSCLE1")])
    with pytest.raises(SchemaError, match=r"not C\. elegans neuron names"):
        celegans.from_networkx({"chemical": bad})


def test_compare_connectomes(small):
    other = edges_to_connectome(
        _edges(
            [
                ("AVAL", "AVBL", "chemical", 7),
                ("AVAL", "AVAR", "electrical", 1),
            ]
        )
    )
    cmp = celegans.compare_connectomes({"a": small, "b": other}, neurons="all")
    assert bool(cmp["consensus"].sel(synapse_type="chemical", pre="AVAL", post="AVBL"))
    assert not bool(cmp["consensus"].sel(synapse_type="chemical", pre="ASEL", post="AIYL"))
    assert int(cmp["n_sources"].sel(synapse_type="chemical", pre="ASEL", post="AIYL")) == 1
    # chemical edge sets: a = 3 edges, b = 1 edge, shared = 1 -> Jaccard 1/3
    assert float(cmp["jaccard"].sel(synapse_type="chemical", model="a", model_2="b")) == 1 / 3
    # electrical (symmetric entries): a = 4, b = 2, shared 2 -> 1/2
    assert float(cmp["jaccard"].sel(synapse_type="electrical", model="a", model_2="b")) == 0.5
    assert float(cmp["jaccard"].sel(synapse_type="chemical", model="a", model_2="a")) == 1.0
    assert cmp["n_edges"].sel(model="a", synapse_type="chemical").item() == 3
    with pytest.raises(ValueError, match="at least 2 connectomes"):
        celegans.compare_connectomes({"a": small})
    with pytest.raises(ValueError, match=r"`neurons` must be one of \['all', 'shared'\]; got 'x'"):
        celegans.compare_connectomes({"a": small, "b": other}, neurons="x")


def test_compare_connectomes_over_shared_neurons(small):
    other = edges_to_connectome(
        _edges([("AVAL", "AVBL", "chemical", 7), ("AVAL", "AVAR", "electrical", 1)])
    )
    assert other["pre_in_table"].values.sum() == other.attrs["neurons_in_table"] == 3
    cmp = celegans.compare_connectomes({"a": small, "b": other})  # default: shared neurons
    assert int(cmp["n_shared_neurons"].sel(model="a", model_2="b")) == 3  # AVAL AVBL AVAR
    # among AVAL, AVBL, AVAR: a has AVAL->AVBL and AVBL->AVAL, b has AVAL->AVBL -> 1/2
    assert float(cmp["jaccard"].sel(synapse_type="chemical", model="a", model_2="b")) == 0.5
    # a's ASEL->AIYL and RIAL-RIAR lie outside b's table: not counted as disagreement
    assert float(cmp["jaccard"].sel(synapse_type="electrical", model="a", model_2="b")) == 1.0
    assert cmp["n_edges"].sel(model="a", synapse_type="chemical").item() == 3
