"""`neurodata localize`: the localizer job from the command line, with store and report."""

from __future__ import annotations

import csv
import re

import numpy as np
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli

SENTENCES = [
    "alice was beginning to get very tired of sitting by her sister here",
    "she had peeped into the book her sister was reading but it had",
    "no pictures or conversations in it and what is the use of a",
    "so she was considering in her own mind as well as she could",
]
# pronounceable-ish non-words: the sentences' words reversed (short in the tiny tokenizer)
NONWORDS = [" ".join(w[::-1] for w in s.split()) for s in SENTENCES]


def _write_localizer(folder):
    folder.mkdir()
    for number in (1, 2):
        with (folder / f"langloc_fmri_run1_stim_set{number}.csv").open("w", newline="") as h:
            writer = csv.writer(h)
            writer.writerow([f"stim{i}" for i in range(1, 15)])
            for item, (s, n) in enumerate(zip(SENTENCES, NONWORDS), start=1):
                writer.writerow([item, *s.upper().split()[:12], "S"])
                writer.writerow([item, *n.upper().split()[:12], "N"])
    return folder


def test_localize_writes_mask_statistics_and_a_report(tiny_gpt2, tmp_path):
    stimuli = _write_localizer(tmp_path / "loc")
    out = tmp_path / "out"
    args = ["localize", "--stimuli", str(stimuli), "--model", str(tiny_gpt2),
            "--fraction", "0.05", "--out", str(out), "-q"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    store = nd.open(out / "localizer.zarr")
    assert store["mask"].dims == ("layer", "unit") and store["mask"].dtype == bool
    assert int(store["mask"].sum()) == round(0.05 * 3 * 32)
    assert store.attrs["control"].endswith("(random weights, seed=0)")
    assert {"statistic", "p_value", "control_statistic", "control_mask"} <= set(store.data_vars)
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Random-weights control" in html
    # every number the report states is the store's
    assert f"{store.attrs['n_selected']} units" in html
    cells = re.findall(r"<td>([-0-9.e]+)</td>", html)
    for value in ("reliability_r", "reliability_dice", "chance_dice"):
        assert f"{store.attrs[value]:.3g}" in cells
    per_layer = store["mask"].sum("unit").values
    assert np.array_equal(per_layer, store["mask"].values.sum(axis=1))
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "pass --overwrite" in again.output


def test_localize_refuses_a_missing_folder(tmp_path):
    result = CliRunner().invoke(cli, ["localize", "--stimuli", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code != 0
    assert "neither a folder nor a file" in result.output
