"""``neurodata connectome WORM_FILES... --out DIR``: dynamic functional connectome of worms."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import xarray as xr

from ..errors import OutputExistsError, SchemaError
from ..io import load, save
from ._options import (
    format_option,
    parse_options,
    reader_option,
    scheduler_option,
    use_scheduler,
)


def _activity(obj: xr.Dataset | xr.DataArray, name: str) -> xr.DataArray:
    if isinstance(obj, xr.Dataset):
        if "activity" not in obj.data_vars:
            raise SchemaError(
                f"{name}: holds variables {sorted(map(str, obj.data_vars))}; expected 'activity' "
                "(worm, time, neuron)"
            )
        da = obj["activity"]
    else:
        da = obj
    if "worm" not in da.dims:
        da = da.expand_dims(worm=[Path(name).name.split(".")[0]])
    if set(da.dims) != {"worm", "time", "neuron"}:
        raise SchemaError(f"{name}: activity has dims {da.dims}; expected (worm, time, neuron)")
    return da.transpose("worm", "time", "neuron")


def _clock(da: xr.DataArray) -> np.ndarray:
    if "timestamps" in da.coords:
        return da["timestamps"].transpose("worm", "time").values.astype(float)
    if "time" in da.coords:
        return np.broadcast_to(da["time"].values.astype(float), da.shape[:2]).copy()
    raise SchemaError("activity: dim 'time' has no coordinate; expected seconds")


def stack_worms(recordings: list[tuple[str, xr.Dataset | xr.DataArray]]) -> xr.DataArray:
    """Stack worms of different lengths on one neuron axis (NaN-padded, per-worm clocks)."""
    parts = [(_activity(obj, name), name) for name, obj in recordings]
    neurons = list(dict.fromkeys(n for da, _ in parts for n in da["neuron"].values.astype(str)))
    n_time = max(da.sizes["time"] for da, _ in parts)
    data, stamps, worms = [], [], []
    for da, _name in parts:
        da = da.assign_coords(neuron=da["neuron"].values.astype(str)).reindex(neuron=neurons)
        clock = _clock(da)
        pad = n_time - da.sizes["time"]
        data.append(
            np.pad(da.values.astype(float), ((0, 0), (0, pad), (0, 0)), constant_values=np.nan)
        )
        stamps.append(np.pad(clock, ((0, 0), (0, pad)), constant_values=np.nan))
        worms.extend(str(w) for w in (da["worm"].values if "worm" in da.coords else [_name]))
    if len(set(worms)) != len(worms):
        worms = [f"{w}#{k}" for k, w in enumerate(worms)]
    return xr.DataArray(
        np.concatenate(data),
        dims=("worm", "time", "neuron"),
        coords={
            "worm": worms,
            "neuron": neurons,
            "timestamps": (("worm", "time"), np.concatenate(stamps), {"units": "s"}),
        },
        name="activity",
    )


@click.command("connectome")
@click.argument("worm_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--rank", default="5", show_default=True,
              help="Components, or candidates to choose from, e.g. 3,4,5,6.")  # fmt: skip
@click.option("--window", default=30.0, show_default=True, help="Window length (s).")
@click.option("--step", default=None, type=float, help="Window step (s; default: --window).")
@click.option("--seed", default=0, show_default=True, help="Seed of NTF and Louvain.")
@click.option("--affinity", "affinity_method", default="derivative", show_default=True,
              help="derivative (ours, not the paper's formula), correlation or abs_correlation.")  # fmt: skip
@click.option("--method", "ntf_method", default="hals", show_default=True, help="hals or mu.")
@click.option("--resolution", default=1.0, show_default=True, help="Louvain resolution.")
@click.option("--labels", "labels", multiple=True, type=click.Path(path_type=Path),
              help="Labels file of each worm file, in the same order (passed as labels=).")  # fmt: skip
@click.option("--connectome", "anatomy", default=None, type=click.Path(path_type=Path),
              help="Anatomical connectome to compare with (weight(synapse_type, pre, post)).")  # fmt: skip
@click.option("--n-null", default=100, show_default=True, help="Degree-preserving null graphs.")
@click.option("--epochs", "epochs_path", default=None, type=click.Path(path_type=Path),
              help="CSV/TSV of experimental epochs (onset, duration, label; s on the windows' "
                   "clock), stored with the result and shaded on the timeline.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace existing outputs in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@format_option
@reader_option
@scheduler_option
def command(
    worm_files: tuple[Path, ...],
    out: Path,
    rank: str,
    window: float,
    step: float | None,
    seed: int,
    affinity_method: str,
    ntf_method: str,
    resolution: float,
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
    from ..plotting.connectome import plot_communities, plot_timeline
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
    try:
        ranks = [int(r) for r in rank.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected an integer or a list like 3,4,5; got {rank!r}",
                                 param_hint="--rank") from None  # fmt: skip
    extra = parse_options(options)
    recordings = []
    for k, path in enumerate(worm_files):
        opts = dict(extra, labels=labels[k]) if labels else extra
        recordings.append((str(path), load(path, format=fmt, **opts)))
    activity = stack_worms(recordings)
    epochs = None
    if epochs_path is not None:
        import pandas as pd

        sep = "\t" if epochs_path.suffix.lower() in (".tsv", ".tab") else ","
        epochs = pd.read_csv(epochs_path, sep=sep)

    out.mkdir(parents=True, exist_ok=True)
    store = out / "connectome.zarr"
    if store.exists() and not overwrite:
        raise OutputExistsError(f"{store}: already exists; pass --overwrite")
    result = dynamic_connectome(
        activity,
        rank=ranks[0] if len(ranks) == 1 else ranks,
        window=window,
        seed=seed,
        step=step,
        affinity_method=affinity_method,
        ntf_method=ntf_method,
        resolution=resolution,
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
    for i, (name, fig) in enumerate(figures):
        try:
            written.append(save_figure(fig, out / name, overwrite=overwrite, dpi=120))
        except BaseException:
            for _, rest in figures[i + 1 :]:
                plt.close(rest)
            raise
    if not quiet:
        click.echo(
            f"rank {result.attrs['rank']}, {result.sizes['window']} windows, "
            f"{result.sizes['worm']} worms, {result.sizes['neuron']} neurons; "
            f"relative error {result.attrs['reconstruction_error']:.3f}"
        )
        for path in written:
            click.echo(f"wrote {path}")
