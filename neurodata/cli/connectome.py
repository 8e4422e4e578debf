"""``neurodata connectome WORM_FILES... --out DIR``: dynamic functional connectome of worms."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import xarray as xr

from ..celegans import stack
from ..errors import SchemaError
from ..io import load, save
from ..pipelines._outputs import prepare_outputs
from ._options import (
    format_option,
    parse_options,
    quiet_option,
    reader_option,
    scheduler_option,
    use_scheduler,
)


def _worm_dataset(obj: xr.Dataset | xr.DataArray, name: str) -> xr.Dataset:
    """A loaded worm file as a worm Dataset for [`neurodata.celegans.stack`][]."""
    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name="activity")
    if "activity" not in obj.data_vars:
        raise SchemaError(
            f"{name}: holds variables {sorted(map(str, obj.data_vars))}; expected 'activity' "
            "(worm, time, neuron)"
        )
    if "worm" not in obj.dims:
        obj = obj.expand_dims(worm=[Path(name).name.split(".")[0]])
    dims = set(obj["activity"].dims)
    if dims != {"worm", "time", "neuron"}:
        raise SchemaError(
            f"{name}: activity has dims {obj['activity'].dims}; expected (worm, time, neuron)"
        )
    return obj


def _load_worms(
    worm_files: tuple[Path, ...], labels: tuple[Path, ...], fmt: str | None, extra: dict
) -> list[xr.Dataset]:
    """Load each worm file; label tables beside Flavell files are found by the loader."""
    worms = []
    for k, path in enumerate(worm_files):
        opts = dict(extra, labels=labels[k]) if labels else extra
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            ds = load(path, format=fmt, **opts)
        for w in caught:
            if "label table" in str(w.message):
                click.echo(f"warning: {w.message}", err=True)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if ds.attrs.get("labels"):
            click.echo(f"{path.name}: labels from {ds.attrs['labels']}", err=True)
        worms.append(_worm_dataset(ds, str(path)))
    return worms


def _parse_list(text: str, kind: type, option: str) -> list:
    try:
        return [kind(r) for r in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"expected a {kind.__name__} or a comma-separated list of them; got {text!r}",
            param_hint=option,
        ) from None


@click.command("connectome")
@click.argument("worm_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--rank", default="5", show_default=True,
              help="Components, or candidates to choose from, e.g. 3,4,5,6.")  # fmt: skip
@click.option("--window", default=None, type=float,
              help="Window length (s; default: set from the data's time scale, recorded in the "
                   "result's attrs).")  # fmt: skip
@click.option("--step", default=None, type=float, help="Window step (s; default: --window).")
@click.option("--seed", default=0, show_default=True, help="Seed of NTF and Louvain.")
@click.option("--affinity", "affinity_method", default="derivative_correlation",
              show_default=True,
              help="derivative_correlation, derivative (ours, not the paper's formula), "
                   "abs_derivative, correlation or abs_correlation.")  # fmt: skip
@click.option("--method", "ntf_method", default="hals", show_default=True, help="hals or mu.")
@click.option("--resolution", default="0.8,1,1.25", show_default=True,
              help="Louvain resolution(s); communities are the consensus over all of them.")  # fmt: skip
@click.option("--labels", "labels", multiple=True, type=click.Path(path_type=Path),
              help="Labels file of each worm file, in the same order (passed as labels=; "
                   "default: <uid>_neuropal_labels.csv beside each Flavell file).")  # fmt: skip
@click.option("--connectome", "anatomy", default=None, type=click.Path(path_type=Path),
              help="Anatomical connectome to compare with (weight(synapse_type, pre, post)).")  # fmt: skip
@click.option("--n-null", default=100, show_default=True, help="Degree-preserving null graphs.")
@click.option("--epochs", "epochs_path", default=None, type=click.Path(path_type=Path),
              help="CSV/TSV of experimental epochs (onset, duration, label; s on the windows' "
                   "clock), stored with the result and shaded on the timeline.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace existing outputs in --out.")
@quiet_option(expose=True)
@format_option
@reader_option
@scheduler_option
def command(
    worm_files: tuple[Path, ...],
    out: Path,
    rank: str,
    window: float | None,
    step: float | None,
    seed: int,
    affinity_method: str,
    ntf_method: str,
    resolution: str,
    labels: tuple[Path, ...],
    anatomy: Path | None,
    n_null: int,
    epochs_path: Path | None,
    overwrite: bool,
    quiet: bool,
    fmt: str | None,
    options: tuple[str, ...],
    scheduler: str | None,
) -> None:
    """Affinities -> NTF -> communities for WORM_FILES; writes OUT/connectome.zarr and figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..analyses.connectome import compare_structure, dynamic_connectome
    from ..analyses.connectome._affinity import pick_affinity
    from ..plotting.connectome import plot_coassignment, plot_communities, plot_timeline
    from ..report import save_figure

    try:
        pick_affinity(affinity_method)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--affinity") from None

    scheduler = use_scheduler(scheduler)
    if labels and len(labels) != len(worm_files):
        raise click.BadParameter(
            f"got {len(labels)} labels files for {len(worm_files)} worm files; expected one each",
            param_hint="--labels",
        )
    ranks = _parse_list(rank, int, "--rank")
    resolutions = _parse_list(resolution, float, "--resolution")
    activity = stack(_load_worms(worm_files, labels, fmt, parse_options(options)))
    named = int(activity["activity"].notnull().any(("worm", "time")).sum())
    if named < 2:
        raise SchemaError(
            f"activity: {named} neuron(s) hold finite values; expected >= 2 (were the label "
            "tables, e.g. '<uid>_neuropal_labels.csv', found beside the worm files? "
            "else pass --labels)"
        )
    epochs = None
    if epochs_path is not None:
        import pandas as pd

        sep = "\t" if epochs_path.suffix.lower() in (".tsv", ".tab") else ","
        epochs = pd.read_csv(epochs_path, sep=sep)

    # every output of this run is refused before anything is computed, not only the store
    earlier = [p.name for pattern in ("communities_C*.png", "stability_C*.png")
               for p in (out.glob(pattern) if out.is_dir() else ())]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    prepare_outputs(out, ["connectome.zarr", "timeline.png", *earlier,
                          *(["structure.zarr"] if anatomy is not None else [])], overwrite)  # fmt: skip
    store = out / "connectome.zarr"
    result = dynamic_connectome(
        activity,
        rank=ranks[0] if len(ranks) == 1 else ranks,
        window=window,
        seed=seed,
        step=step,
        affinity_method=affinity_method,
        ntf_method=ntf_method,
        resolution=resolutions,
        epochs=epochs,
        progress=not quiet,
        scheduler=scheduler,
    )
    result.attrs["source"] = ", ".join(str(p) for p in worm_files)
    written = [save(result, store, overwrite=overwrite)]
    if anatomy is not None:
        structure = compare_structure(result, load(anatomy), n_null=n_null, seed=seed)
        written.append(save(structure, out / "structure.zarr", overwrite=overwrite))
        for t in structure["synapse_type"].values:
            row = structure.sel(synapse_type=t)
            click.echo(
                f"{t}: within-community fraction "
                + ", ".join(
                    f"C{c}={f:.2f} (null {m:.2f}, p={p:.3f})"
                    for c, f, m, p in zip(
                        row["component"].values,
                        row["within_fraction"].values,
                        row["within_fraction_null"].values,
                        row["within_fraction_p"].values,
                    )
                )
            )
    figures = [("timeline.png", plot_timeline(result))]
    for c in result["component"].values:
        figures.append((f"communities_C{int(c)}.png", plot_communities(result, int(c))))
        figures.append((f"stability_C{int(c)}.png", plot_coassignment(result, int(c))))
    for i, (name, fig) in enumerate(figures):
        try:
            written.append(save_figure(fig, out / name, overwrite=overwrite, dpi=120))
        except BaseException:
            for _, rest in figures[i + 1 :]:
                plt.close(rest)
            raise
    if not quiet:
        click.echo(
            f"rank {result.attrs['rank']}, {result.sizes['window']} windows of "
            f"{result.attrs['window']:.3g} s, "
            f"{result.sizes['worm']} worms, {result.sizes['neuron']} neurons; "
            f"relative error {result.attrs['reconstruction_error']:.3f}; community "
            "stability " + ", ".join(f"C{c}={v:.2f}" for c, v in
                                     zip(result["component"].values, result["stability"].values))
        )  # fmt: skip
        for path in written:
            click.echo(f"wrote {path}")
