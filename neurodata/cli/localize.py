"""``neurodata localize --stimuli DIR --out DIR``: selective units of a network, with a report."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import quiet_option


@click.command("localize")
@click.option("--stimuli", type=click.Path(path_type=Path), required=True,
              help="Folder (or CSV file) of the language localizer's stimuli.")  # fmt: skip
@click.option("--model", default=None, help="Model name or folder; default: the packaged MiniLM.")
@click.option("--fraction", type=float, default=0.01, show_default=True,
              help="Share of the network's units to select.")  # fmt: skip
@click.option("--method", type=click.Choice(["welch_t", "cohen_d", "auc"]), default="welch_t",
              show_default=True)  # fmt: skip
@click.option("--positive", default="sentence", show_default=True)
@click.option("--negative", default="nonword", show_default=True)
@click.option("--no-control", is_flag=True, help="Skip the random-weights control.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the control.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace an earlier run's outputs.")
@quiet_option()
def command(stimuli: Path, model: str | None, no_control: bool, out: Path, **options) -> None:
    """Localize the units selective for sentences > non-words (the fMRI language localizer)
    in a language model; write OUT/localizer.zarr (statistics, mask) and OUT/report.html."""
    from ..pipelines.localize import REPORT, STORE, localize

    # the other options are localize()'s keywords under the same names
    result = localize(stimuli, model, control=not no_control, out=out, **options)
    a = result.attrs
    click.echo(
        f"{a['model']}: {a['n_selected']} units selected; split-half r={a['reliability_r']:.3f}, "
        f"Dice={a['reliability_dice']:.2f} (chance {a['chance_dice']:.3f})"
    )
    click.echo(f"mask and statistics: {out / STORE}")
    click.echo(f"report: {out / REPORT}")
