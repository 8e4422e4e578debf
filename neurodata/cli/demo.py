"""``neurodata demo``: the main job end to end on an embedded default."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import quiet_option


@click.command("demo")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("demo-output"), show_default=True
)
@click.option(
    "--data",
    type=click.Choice(["auto", "alice", "simulated"]),
    default="auto",
    show_default=True,
    help="auto: Alice when NEURODATA_DATA holds language/alice, else simulated.",
)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@click.option("--n-words", default=1500, show_default=True, help="Length of the simulated story.")
@click.option("--seed", default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an earlier demo's outputs.")
@quiet_option()
def command(out, data, data_dir, n_words, seed, overwrite) -> None:
    """MiniLM vs fMRI (real Alice data, or simulated with a known answer): report in OUT."""
    from ..io import open as open_store
    from ..pipelines.demo import run_demo
    from ..pipelines.report import recovered_layer

    report = run_demo(
        out,
        data=data,
        data_dir=data_dir,
        n_words=n_words,
        seed=seed,
        overwrite=overwrite,
    )
    result = open_store(out / "results.zarr")
    truth = result.attrs.get("truth") or {}
    found = recovered_layer(result)
    if truth:
        verdict = "recovered" if found == truth["layer"] else "not recovered exactly"
        click.echo(f"simulated data: true layer {truth['layer']}, best layer {found} ({verdict})")
    else:
        click.echo(f"{result.attrs.get('data')}: best layer on average {found}")
    click.echo(f"report: {report}")
