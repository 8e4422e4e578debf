"""The localizer job: selective units of a network, their reliability and the random-weights
control, written as a store and a self-contained HTML report (``neurodata localize``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._outputs import model_provenance, prepare_outputs, write_job_report, write_outputs

__all__ = ["localize", "write_localizer_report"]

STORE = "localizer.zarr"
REPORT = "report.html"


def _halves(acts: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray] | None:
    """Two disjoint halves of the stimuli: odd vs even sets (or items when one set)."""
    key = "set" if "set" in acts.coords and len(np.unique(acts["set"].values)) > 1 else None
    if key is not None:
        groups = np.asarray(acts["set"].values)
        levels = np.unique(groups)
        first = np.isin(groups, levels[::2])
    else:
        first = np.arange(acts.sizes["stimulus"]) % 2 == 0
    return acts.isel(stimulus=np.flatnonzero(first)), acts.isel(stimulus=np.flatnonzero(~first))


def localize(
    stimuli: Any,
    model: Any = None,
    *,
    fraction: float = 0.01,
    method: str = "welch_t",
    positive: Any = "sentence",
    negative: Any = "nonword",
    control: bool = True,
    batch_size: int = 32,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """Localize the units of a network selective for a contrast (the language localizer).

    Parameters
    ----------
    stimuli : str, os.PathLike or xarray.Dataset
        A folder of localizer CSVs ([`neurodata.datasets.load_localizer`][]) or
        a stimulus set along ``stimulus`` with ``text`` and ``condition``.
    model : str or os.PathLike, optional
        Default: the packaged MiniLM.
    fraction : float
        Share of the network's units selected (top over the whole network).
    method : {"welch_t", "cohen_d", "auc"}
        The per-unit contrast.
    positive, negative : str
        Condition levels (sentence > nonword).
    control : bool
        Also localize in the same architecture with random weights
        ([`neurodata.models.random_like`][], ``seed``).
    batch_size : int
        Stimuli per forward pass.
    out : path, optional
        Folder for ``localizer.zarr`` and ``report.html``.
    overwrite : bool
        Replace an earlier run's outputs in ``out``.
    progress : bool, optional
        Progress bars (default ``neurodata.config``).
    seed : int
        Seed of the random-weights control.

    Returns
    -------
    xarray.Dataset
        Over (``layer``, ``unit``): ``statistic``, ``p_value``, ``degenerate``,
        ``mask``; with the control, ``control_statistic`` and ``control_mask``.
        Attrs: the split-half ``reliability_r`` and ``reliability_dice`` (odd vs
        even sets), ``chance_dice``, the model, method and counts.
    """
    from .._config import resolve
    from ..analyses.selectivity import contrast, reliability, top_units
    from ..datasets import load_localizer
    from ..models import DEFAULT_MODEL, extract_activations, random_like

    model = DEFAULT_MODEL if model is None else model
    show = resolve("progress", progress)
    out = prepare_outputs(out, (STORE, REPORT), overwrite)
    if not isinstance(stimuli, xr.Dataset):
        stimuli = load_localizer(stimuli)
    args = {"positive": positive, "negative": negative, "method": method}
    acts = extract_activations(stimuli, model, batch_size=batch_size, progress=show)
    stats = contrast(acts["activation"], "condition", **args)
    mask = top_units(stats, fraction=fraction)
    result = stats.assign(mask=mask)
    halves = _halves(acts["activation"])
    rel = reliability(
        contrast(halves[0], "condition", **args), contrast(halves[1], "condition", **args),
        fraction=fraction,
    )  # fmt: skip
    if control:
        random = random_like(model, seed=seed)
        ctrl = extract_activations(stimuli, random, batch_size=batch_size, progress=show)
        ctrl_stats = contrast(ctrl["activation"], "condition", **args)
        result["control_statistic"] = ctrl_stats["statistic"]
        result["control_mask"] = top_units(ctrl_stats, fraction=fraction)
        result.attrs["control"] = ctrl.attrs["model"]
        result.attrs["control_overlap_dice"] = float(
            reliability(result["mask"], result["control_mask"])["dice"]
        )
    result.attrs.update(
        {
            **model_provenance(
                "localize",
                acts.attrs,
                method=method,
                fraction=fraction,
                control=control,
                seed=seed,
            ),
            "fraction": fraction,
            "n_selected": int(mask.sum()),
            "n_stimuli": int(acts.sizes["stimulus"]),
            "reliability_r": float(rel["correlation"]),
            "reliability_dice": float(rel["dice"]),
            "chance_dice": float(rel["chance_dice"]),
            "reliability_split": "odd vs even sets"
            if "set" in acts.coords
            else "odd vs even items",
            "source": str(stimuli.attrs.get("source", "")),
        }
    )
    return write_outputs(result, out, STORE, REPORT, write_localizer_report, overwrite=overwrite)


def write_localizer_report(
    result: xr.Dataset, path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """The self-contained HTML report of [`localize`][]; every number is read from ``result``."""
    import pandas as pd

    from ..plotting.selectivity import plot_selectivity
    from ..report import Section

    a = result.attrs
    per_layer = {"selected (trained)": result["mask"].sum("unit").to_pandas()}
    if "control_mask" in result:
        per_layer["selected (random weights)"] = result["control_mask"].sum("unit").to_pandas()
    per_layer["degenerate units"] = result["degenerate"].sum("unit").to_pandas()
    table = pd.DataFrame(per_layer)
    rel = pd.DataFrame(
        {"value": [a["reliability_r"], a["reliability_dice"], a["chance_dice"]]},
        index=["Pearson r of the maps", f"Dice of the top {a['fraction']:.2%}", "chance Dice"],
    )
    fig = plot_selectivity(
        result["statistic"], result["mask"],
        control=result.get("control_statistic"), control_mask=result.get("control_mask"),
    )  # fmt: skip
    sections = [
        Section(
            "Selective units",
            paragraphs=[
                f"{a['n_selected']} units ({a['fraction']:.2%} of the network) of {a['model']} "
                f"with the largest {a.get('method', 'statistic')} for "
                f"{a.get('positive')} > {a.get('negative')} over {a['n_stimuli']} stimuli, "
                "each encoded alone and mean-pooled over its tokens.",
                "Units without variance among the stimuli are flagged as degenerate: their "
                "statistic is set to its null value and they are never selected.",
            ],
            figures=[
                (
                    fig,
                    "Left: selected units per layer. Middle: distribution of the "
                    "statistic over all units (dashed: selection threshold). Right: the "
                    "statistic of every unit, per layer. Grey: the same architecture with "
                    "random weights.",
                )
            ],
            tables=[
                (table, "Units per layer (from localizer.zarr: mask, control_mask, degenerate)")
            ],
        ),
        Section(
            "Reliability",
            paragraphs=[
                f"The map computed on two disjoint halves of the stimuli "
                f"({a['reliability_split']})."
            ],
            tables=[(rel, "Split-half reliability (attrs reliability_r, reliability_dice)")],
        ),
    ]
    if "control_mask" in result:
        sections.append(
            Section(
                "Random-weights control",
                paragraphs=[
                    f"{a['control']}: the same contrast in a network that learned nothing. "
                    f"Dice between its mask and the trained network's: "
                    f"{a['control_overlap_dice']:.3f}.",
                ],
            )
        )
    params = {k: a[k] for k in ("model", "fraction", "method", "positive", "negative") if k in a}
    return write_job_report(path, f"Localizer: {a['model']}", sections, params, a,
                            overwrite=overwrite)  # fmt: skip
