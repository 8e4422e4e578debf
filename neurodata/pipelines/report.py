"""HTML report of a [`compare`][neurodata.pipelines.compare.compare] run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..report import Section, render_html, write_report
from ._lesion import describe_lesion

__all__ = [
    "CEILING_FLOOR",
    "compare_report",
    "compare_sections",
    "describe_parameters",
    "group_summary",
    "recovered_layer",
    "versions",
]

#: A group noise ceiling (in r) below this is too low to divide by: the region's
#: normalised score is left undefined (NaN) and the report says so.
CEILING_FLOOR = 0.1


def versions() -> dict[str, str]:
    """Versions of neurodata and the libraries a comparison depends on."""
    from importlib import metadata

    out = {}
    for dist in ("neurodata", "numpy", "scipy", "xarray", "torch", "transformers", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def recovered_layer(result: xr.Dataset) -> str:
    """The layer with the highest held-out correlation averaged over targets (and subjects)."""
    mean = result["r"].mean([d for d in result["r"].dims if d != "layer"])
    return str(mean["layer"].values[int(mean.argmax("layer"))])


def _mean_over(da: xr.DataArray, *dims: str) -> xr.DataArray:
    return da.mean([d for d in dims if d in da.dims])


def group_summary(result: xr.Dataset, *, floor: float = CEILING_FLOOR) -> xr.Dataset:
    """Per target, the group's best layer, its score and its ceiling-normalised score.

    The score is the held-out r averaged over subjects (``r`` of ``result``, dims
    (layer, target[, subject])); the best layer is the one with the highest mean, so
    that the layer and the number shown belong together. The group ceiling is the mean
    over subjects of ``ceiling`` (the inter-subject noise ceiling); ``normalized`` =
    score / group ceiling, NaN where the group ceiling is below ``floor``
    (``ceiling_ok`` False): dividing by a ceiling near zero, or negative, gives
    numbers without meaning.

    Returns
    -------
    xarray.Dataset
        Along ``target``: ``best_layer``, ``score``, and with a ceiling ``ceiling``,
        ``ceiling_ok``, ``normalized``; attrs ``floor``.
    """
    mean = _mean_over(result["r"], "subject")
    best = mean.fillna(-np.inf).argmax("layer")
    out = xr.Dataset(
        {
            "best_layer": mean["layer"][best].drop_vars("layer"),
            "score": mean.isel(layer=best).drop_vars("layer"),
        },
        attrs={"floor": float(floor)},
    )
    if "ceiling" in result:
        ceiling = _mean_over(result["ceiling"], "subject")
        ok = ceiling >= floor
        out["ceiling"], out["ceiling_ok"] = ceiling, ok
        out["normalized"] = (out["score"] / ceiling).where(ok)
    return out


#: How the report words a parameter whose stored value is a flag or a number.
_WORDING = {
    "zscore": lambda v: (
        "z-scored inside each training fold" if _true(v) else "not z-scored inside the folds"
    ),
    "drift_cutoff": lambda v: (
        "no drift removal" if v is None or v == "None" else f"cosine high-pass, cutoff {v} s"
    ),
    "n_permutations": lambda v: "no permutation test" if not v else f"{int(v)} block permutations",
    "cv": lambda v: f"{v} contiguous outer folds",
    "delays": lambda v: f"FIR delays {list(v)} (scans)",
    "fit_intercept": lambda v: "intercept fitted" if _true(v) else "no intercept",
}


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def describe_parameters(attrs: dict[str, Any]) -> dict[str, str]:
    """The parameters of a run in words (``zscore 0`` becomes ``not z-scored``)."""
    out = {}
    for key, value in attrs.items():
        word = _WORDING.get(key)
        out[key] = word(value) if word is not None else str(value)
    return out


def compare_sections(result: xr.Dataset, *, data_name: str, notes: list[str]) -> list[Section]:
    """Report sections of a comparison result (figures, tables, the known answer)."""
    from ..plotting.encoding import plot_best_layer, plot_layer_scores, plot_noise_ceiling

    truth = result.attrs.get("truth") or {}
    simulated = bool(truth)
    notice = (
        f"Dataset: SIMULATED ({data_name}); responses were generated from layer "
        f"{truth.get('layer')!r} of the model, so that layer is the known answer."
        if simulated
        else f"Dataset: REAL recordings: {data_name}."
    )
    ceiling = result["ceiling"] if "ceiling" in result else None
    scores = result["r"]
    target = result.attrs.get("target_dim", "target")
    summary = Section(
        "Which layer predicts which region",
        paragraphs=[
            f"Model {result.attrs.get('model')} ({result.attrs.get('kind')} states, "
            f"{result.attrs.get('pool')}-pooled per word), aligned to the scans by Lanczos "
            f"resampling with FIR delays {result.attrs.get('delays')} (scans); features and "
            f"responses high-passed (cosine basis, {result.attrs.get('drift_cutoff')} s) and "
            f"z-scored inside every outer fold from its training scans only; ridge "
            f"regression with a per-target alpha chosen by inner cross-validation, scored on "
            f"{result.attrs.get('cv')} contiguous outer folds (Pearson r on held-out scans).",
            *notes,
        ],
        notice=notice,
    )
    summary.figures.append(
        (
            plot_layer_scores(scores, ceiling),
            "Held-out correlation by layer, per region (dashed: noise ceiling)",
        )
    )
    group = group_summary(result)
    summary.figures.append((plot_best_layer(group, target_dim=target), _best_layer_caption(group)))
    if "ceiling" in group and not bool(group["ceiling_ok"].all()):
        low = [str(t) for t in group[target].values[~group["ceiling_ok"].values]]
        summary.paragraphs.append(
            f"Group noise ceiling below {group.attrs['floor']} (no normalised score): "
            f"{', '.join(low)}."
        )
    table = _mean_over(scores, "subject").to_pandas()
    if hasattr(table, "T") and table.ndim == 2:
        summary.tables.append((table, "Held-out r (mean over subjects): layers x regions"))
    sections = [summary]

    extra = Section("Against the word-rate baseline and chance")
    if "gain" in result:
        gain = _mean_over(result["gain"], "subject", target).to_pandas()
        base = float(_mean_over(result["r_baseline"], "subject", target))
        extra.paragraphs.append(
            f"The baseline (word rate, letter rate, speech fraction with the same delays) alone "
            f"reaches r = {base:.3f} on average; the table gives each layer's mean gain over it."
        )
        extra.tables.append(
            (gain.to_frame("gain in r"), "Mean gain of each layer over the baseline")
        )
    if "p_value" in result:
        frac = _mean_over(result["p_value"] < 0.05, "subject", target).to_pandas()
        extra.tables.append(
            (
                frac.to_frame("fraction p < 0.05"),
                f"Fraction of regions (x subjects) beating a block-permutation null "
                f"({result.attrs.get('n_permutations')} permutations)",
            )
        )
    if ceiling is not None:
        extra.figures.append(
            (plot_noise_ceiling(ceiling), "Inter-subject noise ceiling per region")
        )
    sections.append(extra)

    if simulated:
        found = recovered_layer(result)
        layers = [str(v) for v in result["layer"].values]
        off = abs(layers.index(found) - layers.index(str(truth["layer"])))
        verdict = "recovered exactly" if off == 0 else f"missed by {off} layer(s)"
        sections.append(
            Section(
                "Known answer",
                paragraphs=[
                    f"True generating layer: {truth['layer']}. Best layer on average over regions "
                    f"and subjects: {found} ({verdict}). Neighbouring layers of a transformer carry "
                    "similar features, so their scores are close to the true layer's."
                ],
            )
        )
    return sections


def _best_layer_caption(group: xr.Dataset) -> str:
    what = (
        "held-out r averaged over subjects, divided by the group noise ceiling (mean "
        f"inter-subject ceiling; no bar where it is below {group.attrs['floor']})"
        if "normalized" in group
        else "held-out r averaged over subjects"
    )
    return (
        "Best layer per region: each bar is the layer with the highest group-mean r "
        f"(labelled above it); its height is that layer's {what}"
    )


def compare_report(
    result: xr.Dataset, brain: Any, path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Write the self-contained HTML report of a comparison."""
    params = describe_parameters(
        {k: v for k, v in result.attrs.items() if k not in ("notes", "truth", "history")}
    )
    sections = compare_sections(result, data_name=brain.name, notes=list(brain.notes))
    title = "neurodata compare"
    lesion = describe_lesion(result.attrs)
    if lesion is not None:  # said first, before any score
        title += " (lesioned model)"
        sections.insert(0, Section("Lesion", notice=lesion))
    text = render_html(title, sections, parameters=params, versions=versions())
    return write_report(path, text, overwrite=overwrite)
