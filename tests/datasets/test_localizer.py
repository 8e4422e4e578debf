"""The EvLab language localizer reader, on the real stimuli and on files written here."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from neurodata.datasets import load_localizer
from neurodata.errors import FormatError, NotFoundError

HEADER = [f"stim{i}" for i in range(1, 15)]


def _write(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _row(item, code, word="WORD"):
    return [item] + [f"{word}{i}" for i in range(12)] + [code]


def test_real_localizer_has_120_sentences_and_120_nonword_lists(shared_path):
    folder = shared_path("localizer")
    ds = load_localizer(folder)
    assert ds.sizes["stimulus"] == 240
    assert (ds["condition"] == "sentence").sum() == 120
    assert (ds["condition"] == "nonword").sum() == 120
    assert sorted(set(ds["set"].values.tolist())) == [1, 2, 3, 4, 5]
    assert all(len(t.split()) == 12 and t == t.lower() for t in ds["text"].values)
    with (folder / "langloc_fmri_run1_stim_set1.csv").open() as handle:
        first = next(csv.DictReader(handle))
    assert ds["text"].values[0] == " ".join(first[f"stim{i}"] for i in range(2, 14)).lower()
    one = load_localizer([folder / "langloc_fmri_run1_stim_set2.csv"])
    assert one.sizes["stimulus"] == 48 and set(one["set"].values.tolist()) == {2}


def test_files_written_here_and_bad_files(tmp_path):
    _write(tmp_path / "x_stim_set7.csv", [_row(1, "S"), _row(2, "N")])
    ds = load_localizer(tmp_path)
    np.testing.assert_array_equal(ds["condition"].values, ["sentence", "nonword"])
    np.testing.assert_array_equal(ds["set"].values, [7, 7])
    assert ds["text"].values[0].startswith("word0 word1")
    bad = _write(tmp_path / "bad.csv", [_row(1, "Q")])
    with pytest.raises(FormatError, match=r"line 2: stim14 must be one of \['N', 'S'\]; got 'Q'"):
        load_localizer([bad])
    short = _write(tmp_path / "short.csv", [_row(1, "S")[:5] + [""] * 8 + ["S"]])
    with pytest.raises(FormatError, match=r"expected 12 words in stim2\.\.stim13; found 4"):
        load_localizer(short)
    with pytest.raises(NotFoundError, match="neither a folder nor a file"):
        load_localizer(tmp_path / "nowhere")
    with pytest.raises(NotFoundError, match=r"no \*stim_set\*.csv files"):
        load_localizer(tmp_path / "..")
