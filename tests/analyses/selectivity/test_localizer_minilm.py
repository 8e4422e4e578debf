"""The language localizer in MiniLM, on the real Fedorenko et al. (2010) stimuli."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.analyses.selectivity import contrast, reliability, top_units
from neurodata.datasets import load_localizer

pytest.importorskip("transformers")


@pytest.fixture
def localizer_acts(shared_path):
    from neurodata.models import extract_activations

    stimuli = load_localizer(shared_path("localizer"))
    return extract_activations(stimuli, progress=False)["activation"]


def test_minilm_localizer_map_is_reliable_across_halves(localizer_acts):
    acts = localizer_acts
    full = contrast(acts, positive="sentence", negative="nonword")
    # the two zero-variance units of the last layer: finite and flagged
    assert np.isfinite(full["statistic"]).all()
    assert int(full["degenerate"].sum()) >= 1
    first = acts.isel(stimulus=acts["set"].values <= 2)
    second = acts.isel(stimulus=acts["set"].values >= 3)
    a = contrast(first, positive="sentence")["statistic"]
    b = contrast(second, positive="sentence")["statistic"]
    rel = reliability(a, b, fraction=0.01)
    print(
        f"MiniLM localizer split-half: r={float(rel['correlation']):.3f}, "
        f"Dice={float(rel['dice']):.2f} (chance {float(rel['chance_dice']):.3f})"
    )
    assert float(rel["correlation"]) > 0.9
    assert float(rel["dice"]) > 0.5
    mask = top_units(full, fraction=0.01)
    assert int(mask.sum()) == round(0.01 * acts.sizes["layer"] * acts.sizes["unit"])
