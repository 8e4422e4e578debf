from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurodata import celegans
from neurodata.celegans.neurons import neuron_coords, neuron_table, normalize_name


def test_302_unique_neurons_in_118_classes():
    names = celegans.neurons()
    assert len(names) == celegans.N_NEURONS == 302
    assert len(set(names)) == 302
    table = neuron_table()
    assert table["neuron_class"].nunique() == 118  # White et al. 1986
    # natural order: VB2 before VB10
    assert names.index("VB2") < names.index("VB10")


@pytest.mark.parametrize(
    ("neuron", "cls", "lr", "dv", "kind"),
    [
        ("AVAL", "AVA", "L", "", "inter"),
        ("SMDDR", "SMD", "R", "D", "motor"),
        ("RMEV", "RME", "", "V", "motor"),
        ("RIVL", "RIV", "L", "", "motor"),
        ("RID", "RID", "", "", "inter"),
        ("SABD", "SAB", "", "D", "motor"),
        ("VB2", "VB", "", "", "motor"),
        ("ASEL", "ASE", "L", "", "sensory"),
        ("I1L", "I1", "L", "", "pharyngeal"),
        ("HSNL", "HSN", "L", "", "motor"),
        ("CANL", "CAN", "L", "", "unknown"),
    ],
)
def test_attributes(neuron, cls, lr, dv, kind):
    row = neuron_table().set_index("neuron").loc[neuron]
    assert (row.neuron_class, row.left_right, row.dorsal_ventral, row.neuron_type) == (
        cls,
        lr,
        dv,
        kind,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VB02", "VB2"),
        ("vb02", "VB2"),
        (" AVAL ", "AVAL"),
        ("DA09", "DA9"),
        ("VD10", "VD10"),
        ("RIAR?", "RIAR?"),
        ("IL1DL", "IL1DL"),
        ("I1L", "I1L"),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_is_neuron():
    assert celegans.is_neuron("VB02")
    assert not celegans.is_neuron("SAAD")  # a class half, not a neuron
    assert not celegans.is_neuron("BWM-DL01")


def test_neuron_coords_prefix_and_errors():
    coords = neuron_coords("pre", ["AVAL", "vb02"])
    assert list(coords["pre"]) == ["AVAL", "VB2"]
    assert list(coords["pre_neuron_class"][1]) == ["AVA", "VB"]
    with pytest.raises(ValueError, match=r"not C\. elegans neuron names"):
        neuron_coords("neuron", ["AVAL", "XYZ"])


def test_agrees_with_flavell_neuropal_classes(celegans_data):
    """Every name the NeuroPAL tables use has the same class and side there."""
    folder = celegans_data / "flavell2023"
    labels = pd.concat(pd.read_csv(p) for p in sorted(folder.glob("*_neuropal_labels.csv")))
    labels = labels[~labels["label"].str.endswith("?")]
    # the tables give numbered ventral-cord neurons their own name as class (VB02 -> VB02)
    labels = labels[~labels["neuron_class"].str.fullmatch(r"(AS|DA|DB|DD|VA|VB|VC|VD)\d+")]
    labels["neuron"] = labels["label"].map(normalize_name)
    merged = labels.merge(neuron_table(), on="neuron", how="left", suffixes=("_np", ""))
    assert merged["neuron_class"].notna().all()
    assert (merged["neuron_class_np"] == merged["neuron_class"]).all()
    lr = merged["LR"].replace("undefined", "").fillna("")
    dv = merged["DV"].replace("undefined", "").fillna("")
    np.testing.assert_array_equal(lr, merged["left_right"])
    np.testing.assert_array_equal(dv, merged["dorsal_ventral"])


def test_generator_reproduces_the_shipped_table(tmp_path, monkeypatch, celegans_data):
    """tools/make_celegans_neurons.py on Cook et al.'s table gives the shipped CSV."""
    import importlib.util
    from pathlib import Path

    xlsx = celegans_data / "connectomes" / "cook2019_SI5_adjacency.xlsx"
    tool = Path(__file__).resolve().parents[2] / "tools" / "make_celegans_neurons.py"
    spec = importlib.util.spec_from_file_location("make_celegans_neurons", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "neurons.csv")
    module.main(str(xlsx))
    fresh = pd.read_csv(tmp_path / "neurons.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(fresh, neuron_table())
