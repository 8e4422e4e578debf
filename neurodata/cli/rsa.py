"""``neurodata rsa --stimuli kriegeskorte2008 --model efficientnet-lite0 --out DIR``."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import quiet_option


@click.command("rsa")
@click.option("--stimuli", default="kriegeskorte2008", show_default=True,
              help="'kriegeskorte2008' (the 92 images and IT RDMs) or a folder of images.")  # fmt: skip
@click.option("--model", default="efficientnet-lite0", show_default=True,
              help="Image network: the packaged efficientnet-lite0 or a HuggingFace folder/name.")  # fmt: skip
@click.option("--brain", type=click.Path(path_type=Path, exists=True), default=None,
              help="Brain RDM file over the same images (RSA-toolbox .mat, zarr, netCDF).")  # fmt: skip
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data root holding vision/kriegeskorte2008 (default $NEURODATA_DATA).")  # fmt: skip
@click.option("--n-bootstrap", type=int, default=100, show_default=True,
              help="Stimulus-bootstrap samples of the confidence band (0: none).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--overwrite", is_flag=True, help="Replace an earlier run's outputs.")
@quiet_option()
def command(stimuli, model, brain, data_dir, n_bootstrap, seed, out, overwrite) -> None:
    """Compare every layer of an image network with brain RDMs (Spearman, Kendall's tau-a);
    write OUT/rsa.zarr and OUT/report.html (layer profile, RDMs, MDS)."""
    from ..pipelines.vision import REPORT, STORE, vision_rsa

    result = vision_rsa(
        stimuli if stimuli == "kriegeskorte2008" else Path(stimuli),
        model,
        brain,
        data_dir=data_dir,
        n_bootstrap=n_bootstrap,
        out=out,
        overwrite=overwrite,
        seed=seed,
    )
    sims = result["similarity"].sel(comparison="spearman")
    for name in result["brain"].values:
        profile = sims.sel(brain=name)
        best = str(profile.idxmax("layer").values)
        click.echo(f"{name}: best layer {best} (Spearman {float(profile.max()):.3f})")
    click.echo(f"store: {out / STORE}")
    click.echo(f"report: {out / REPORT}")
