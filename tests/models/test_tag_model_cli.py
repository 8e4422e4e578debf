"""`neurodata tag --model`: the HFTP probe of a language model from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli


def test_tag_model_writes_per_condition_results(tiny_gpt2, tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("\n".join(["big dog ate bones", "small cat saw mice", "old man read books",
                                    "red fox hid eggs"] * 4))  # fmt: skip
    out = tmp_path / "hftp"
    result = CliRunner().invoke(
        cli,
        [
            "tag",
            "--model",
            str(tiny_gpt2),
            "--sentences",
            str(sentences),
            "--out",
            str(out),
            "--n-permutations",
            "20",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["conditions"]) == {"structured", "scrambled", "random"}
    layers = report["layers"]
    for rows in report["conditions"].values():
        assert set(rows) == {"1 Hz", "2 Hz"}
        assert all(len(v) == len(layers) and all(0 <= x <= 1 for x in v) for v in rows.values())
    assert (out / "hftp_layer_profile.png").is_file()
    stored = nd.open(out / "hftp-structured.zarr")
    assert stored["fraction_significant"].dims == ("layer", "frequency")


def test_tag_needs_a_recording_or_a_model(tmp_path):
    runner = CliRunner()
    neither = runner.invoke(cli, ["tag"])
    assert (
        neither.exit_code == 2 and "needs RECORDING, --event-freq and --duration" in neither.output
    )
    both = runner.invoke(cli, ["tag", str(tmp_path), "--model", "x"])
    assert both.exit_code == 2 and "not both" in both.output
