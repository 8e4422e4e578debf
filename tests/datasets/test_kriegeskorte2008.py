"""The 92-image data of Kriegeskorte et al. (2008), read from ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import loadmat
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from neurodata.datasets import load_kriegeskorte2008
from neurodata.errors import NotFoundError

pytestmark = pytest.mark.shared_data

#: Spearman of each efficientnet-lite0 block's correlation RDM with the monkey-IT RDM,
#: measured with a plain hook script (issue 20; ../shared/data/SOURCES.md).
REFERENCE = {0: 0.06, 11: 0.36, 12: 0.40, 13: 0.40, 15: 0.31}


@pytest.fixture(scope="module")
def k92():
    from tests.conftest import shared_path

    return load_kriegeskorte2008(shared_path())


def test_images_categories_and_rdms(k92):
    assert k92["image"].shape == (92, 175, 175, 3) and k92["image"].dtype == np.uint8
    assert int(k92["animate"].sum()) == 48 and int(k92["face"].sum()) == 24
    assert int(k92["human"].sum()) == 24
    assert (k92["animate"] != k92["inanim"]).all()
    assert k92["category"].values[0] == "human bodypart"
    assert list(k92["brain"].values) == ["mIT_674neurons", "hITvisStim_316vx"]
    assert k92.sizes["model"] == 8 and "monkeyIT" in k92["model"].values


def test_vector_order_matches_the_square_matrices(k92):
    from tests.conftest import shared_path

    raw = loadmat(
        shared_path("vision", "kriegeskorte2008", "Kriegeskorte_Neuron2008_supplementalData.mat"),
        squeeze_me=True,
        struct_as_record=False,
    )["RDMs_mIT_hIT_fig1"]
    for item in raw:
        np.testing.assert_array_equal(
            squareform(k92["brain_rdm"].sel(brain=item.name).values, checks=False), item.RDM
        )
    np.testing.assert_array_equal(
        k92["model_rdm"].sel(model="monkeyIT").values,
        k92["brain_rdm"].sel(brain="mIT_674neurons").values,
    )


def test_missing_folder_says_how_to_get_it(tmp_path, monkeypatch):
    with pytest.raises(NotFoundError, match=r"not found in .*rsagroup/rsatoolbox"):
        load_kriegeskorte2008(tmp_path)
    monkeypatch.delenv("NEURODATA_DATA", raising=False)
    with pytest.raises(NotFoundError, match="NEURODATA_DATA unset"):
        load_kriegeskorte2008()


def test_efficientnet_depth_profile_matches_the_reference(k92):
    """The acceptance test of issue 20: within 0.05 of the reference, block by block."""
    pytest.importorskip("efficientnet_lite_pytorch")
    from neurodata.analyses import rsa
    from neurodata.models import extract_activations

    acts = extract_activations(k92["image"], "efficientnet-lite0", pool="mean", progress=False)
    mit = squareform(k92["brain_rdm"].sel(brain="mIT_674neurons").values, checks=False)
    profile = []
    for i in range(acts.sizes["layer"]):
        layer = acts["activation"][i].isel(unit=slice(0, int(acts["n_units"][i])))
        model_rdm = rsa.rdm(layer, dim="stimulus", method="correlation")
        profile.append(spearmanr(squareform(model_rdm.values, checks=False), mit)[0])
    for block, value in REFERENCE.items():
        assert abs(profile[block] - value) <= 0.05, (block, profile[block])
    assert int(np.argmax(profile)) in (12, 13)
    assert profile[15] < max(profile) - 0.05  # falls in the last block
