"""The image RSA job (``neurodata rsa``): every layer of an image network against brain RDMs,
written as a store and a self-contained HTML report.

For the 92 images of Kriegeskorte et al. (2008) this is the classic result of
Khaligh-Razavi & Kriegeskorte (2014): the correlation of a layer's RDM with the
monkey-IT RDM rises with depth and falls in the last layers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SchemaError
from ._outputs import model_provenance, prepare_outputs, write_job_report, write_outputs

__all__ = ["METHODS", "vision_rsa", "write_vision_report"]

STORE = "rsa.zarr"
REPORT = "report.html"
#: RDM comparisons of the layer profile (the first gets the bootstrap band).
METHODS = ("spearman", "tau-a")


def _stimuli(stimuli: Any, brain: Any, data_dir: Any) -> tuple[Any, xr.DataArray, Any]:
    """(images, brain RDMs (brain, stimulus, stimulus_2) or with a subject dim, labels)."""
    from ..io import load

    if isinstance(stimuli, str) and stimuli == "kriegeskorte2008":
        from ..datasets import load_kriegeskorte2008

        ds = load_kriegeskorte2008(data_dir)
        rdms = ds["brain_rdm"] if brain is None else None
        labels = ds["category"].values
        images = ds["image"]
    else:
        images, rdms, labels = stimuli, None, None
    if rdms is None:
        if brain is None:
            raise SchemaError(
                "`brain`: an image folder needs a brain RDM file (e.g. an RSA-toolbox .mat) "
                "to compare with; only --stimuli kriegeskorte2008 brings its own"
            )
        found = brain if isinstance(brain, xr.DataArray) else load(brain)
        if not isinstance(found, xr.DataArray) or "stimulus_2" not in found.dims:
            raise SchemaError(
                f"`brain` {brain!s}: expected RDMs with dims (..., 'stimulus', 'stimulus_2')"
            )
        rdms = found.rename(rdm="brain") if "rdm" in found.dims else found
        if "brain" not in rdms.dims and "subject" not in rdms.dims:
            rdms = rdms.expand_dims(brain=["brain"])
    return images, rdms, labels


def _layer_rdms(acts: xr.DataArray, rdm_method: str) -> xr.DataArray:
    """One RDM per layer; NaN-padded units of the narrower layers dropped."""
    from ..analyses import rsa

    rdms = [
        rsa.rdm(acts.sel(layer=name).dropna("unit", how="all"), dim="stimulus", method=rdm_method)
        for name in acts["layer"].values
    ]
    out = xr.concat(rdms, dim="layer", coords="minimal", compat="override").assign_coords(
        layer=acts["layer"].values
    )
    n = acts.sizes["stimulus"]
    out = out.drop_vars([c for c in out.coords if c not in ("layer", "stimulus", "stimulus_2")])
    return out.assign_coords(stimulus=np.arange(n), stimulus_2=np.arange(n))


def vision_rsa(
    stimuli: Any = "kriegeskorte2008",
    model: Any = "efficientnet-lite0",
    brain: Any = None,
    *,
    data_dir: str | os.PathLike | None = None,
    rdm_method: str = "correlation",
    n_bootstrap: int = 100,
    batch_size: int = 32,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    seed: int = 0,
) -> xr.Dataset:
    """Every layer's RDM of an image network against brain RDMs: the layer profile.

    Parameters
    ----------
    stimuli : str, path or xarray.DataArray
        ``"kriegeskorte2008"`` (the 92 images with their monkey- and human-IT
        RDMs, found in `data_dir` / ``$NEURODATA_DATA``), an image folder, or
        an image set (``stimulus``, ``y``, ``x``, ``color``).
    model : str, path or torch.nn.Module
        See [`neurodata.models.extract_image_activations`][].
    brain : path or xarray.DataArray, optional
        Brain RDMs over the same stimuli in the same order (an RSA-toolbox
        ``.mat`` or any file [`neurodata.load`][] reads): several RDMs along
        ``brain`` (regions) are compared one by one; a ``subject`` dim gives a
        noise ceiling.
    rdm_method : str
        Dissimilarity of the layer RDMs (default 1 - Pearson, as the IT RDMs).
    data_dir : str or os.PathLike, optional
        Where to look for the Kriegeskorte files (default ``$NEURODATA_DATA``).
    n_bootstrap : int
        Stimulus-bootstrap samples of the confidence band (0: none).
    batch_size : int
        Images per forward pass.
    out : path, optional
        Folder for ``rsa.zarr`` and ``report.html``.
    overwrite : bool
        Replace an earlier run's outputs in ``out``.
    progress : bool, optional
        Progress bars (default ``neurodata.config``).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    xarray.Dataset
        ``similarity`` (``comparison``, ``layer``, ``brain``) for Spearman and
        Kendall's tau-a; ``ci_low``/``ci_high`` (``layer``, ``brain``): the 95%
        stimulus-bootstrap band of the Spearman values; ``ceiling_lower`` /
        ``ceiling_upper`` (``brain``; NaN without subjects); ``model_rdm``
        (``layer``, ``stimulus``, ``stimulus_2``), ``brain_rdm``; ``category``
        along ``stimulus`` when known. attrs: ``best_layer``, the model, ...
    """
    from .._config import resolve
    from ..analyses import rsa
    from ..models import extract_activations

    show = resolve("progress", progress)
    out = prepare_outputs(out, (STORE, REPORT), overwrite)
    images, brains, labels = _stimuli(stimuli, brain, data_dir)
    acts = extract_activations(images, model, pool="mean", batch_size=batch_size, progress=show)
    models = _layer_rdms(acts["activation"], rdm_method)
    n = models.sizes["stimulus"]
    if brains.sizes["stimulus"] != n:
        raise SchemaError(
            f"`brain`: RDMs over {brains.sizes['stimulus']} stimuli; the image set has {n}"
        )
    brains = brains.assign_coords(stimulus=np.arange(n), stimulus_2=np.arange(n))
    subjects = "subject" in brains.dims
    per_brain = brains if "brain" in brains.dims else brains.expand_dims(brain=["brain"])
    mean_brain = per_brain.mean("subject") if subjects else per_brain
    sims = xr.concat(
        [rsa.compare(models, mean_brain, m, dim="stimulus") for m in METHODS], dim="comparison"
    ).assign_coords(comparison=list(METHODS))
    result = xr.Dataset({"similarity": sims.transpose("comparison", "layer", "brain")})
    lows, highs, ceil_lo, ceil_hi = [], [], [], []
    for name in per_brain["brain"].values:
        subj = per_brain.sel(brain=name)
        subj = subj if subjects else subj.expand_dims(subject=[0])
        if n_bootstrap:
            boot = rsa.bootstrap(subj, models, METHODS[0], dim="stimulus", resample=("condition",),
                                 n_bootstrap=n_bootstrap, seed=seed, progress=show)  # fmt: skip
            lows.append(boot.quantile(0.025, "bootstrap").drop_vars("quantile"))
            highs.append(boot.quantile(0.975, "bootstrap").drop_vars("quantile"))
        if subjects and subj.sizes["subject"] > 1:
            nc = rsa.noise_ceiling(subj, METHODS[0], dim="stimulus")
            ceil_lo.append(float(nc["lower"]))
            ceil_hi.append(float(nc["upper"]))
        else:
            ceil_lo.append(np.nan)
            ceil_hi.append(np.nan)
    if n_bootstrap:
        result["ci_low"] = xr.concat(lows, dim="brain").assign_coords(
            brain=per_brain["brain"].values
        )
        result["ci_high"] = xr.concat(highs, dim="brain").assign_coords(
            brain=per_brain["brain"].values
        )
    result["ceiling_lower"] = ("brain", np.array(ceil_lo))
    result["ceiling_upper"] = ("brain", np.array(ceil_hi))
    result["model_rdm"] = models
    result["brain_rdm"] = mean_brain.drop_vars(
        [c for c in mean_brain.coords if c not in ("brain", "stimulus", "stimulus_2")]
    )
    if labels is not None:
        result = result.assign_coords(category=("stimulus", np.asarray(labels, dtype=object)))
    first = result["similarity"].sel(comparison=METHODS[0])
    best = {str(b): str(first.sel(brain=b).idxmax("layer").values) for b in result["brain"].values}
    result.attrs.update(
        {
            **model_provenance(
                "vision_rsa",
                acts.attrs,
                rdm_method=rdm_method,
                n_bootstrap=n_bootstrap,
                seed=seed,
            ),
            "rdm_method": rdm_method,
            "n_bootstrap": int(n_bootstrap),
            "ci_method": f"{METHODS[0]}, stimuli resampled",
            "seed": int(seed),
            "best_layer": ", ".join(f"{b}: {v}" for b, v in best.items()),
            "stimuli": str(stimuli) if isinstance(stimuli, str | os.PathLike) else "image set",
            "n_stimuli": int(n),
            **{k: v for k, v in acts.attrs.items() if k.startswith("preprocess_")},
        }
    )
    return write_outputs(result, out, STORE, REPORT, write_vision_report, overwrite=overwrite)


def write_vision_report(
    result: xr.Dataset, path: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """The HTML report of [`vision_rsa`][]; every number is read from ``result``."""
    from ..plotting.vision import plot_layer_profile, plot_mds, plot_rdm_pair
    from ..report import Section

    a = result.attrs
    labels = result["category"].values if "category" in result.coords else None
    table = result["similarity"].to_dataframe().unstack(["comparison", "brain"])["similarity"]
    sections = [
        Section(
            "Layer profile",
            paragraphs=[
                f"Each layer of {a['model']} gives an RDM ({a['rdm_method']} distance between "
                f"its mean-pooled responses to the {a['n_stimuli']} images), compared with each "
                f"brain RDM by Spearman's rho and Kendall's tau-a. The band is the 95% interval "
                f"over {a['n_bootstrap']} bootstrap resamples of the stimuli.",
                f"Best layer (Spearman): {a['best_layer']}.",
            ],
            notice=None
            if np.isfinite(result["ceiling_lower"].values).any()
            else "No noise ceiling: each brain RDM comes from one subject (or animal) here.",
            figures=[(plot_layer_profile(result), "RDM correlation of every layer with the brain")],
            tables=[(table, "similarity (rsa.zarr: similarity)")],
        )
    ]
    for name in result["brain"].values:
        best = str(
            result["similarity"].sel(comparison=METHODS[0], brain=name).idxmax("layer").values
        )
        pair = xr.concat(
            [
                result["brain_rdm"].sel(brain=name, drop=True),
                result["model_rdm"].sel(layer=best, drop=True),
            ],
            dim="rdm",
        ).assign_coords(rdm=[str(name), f"{a['model']} {best}"])
        sections.append(
            Section(
                f"{name} and the best layer",
                paragraphs=["RDMs as rank percentiles, stimuli grouped by category."],
                figures=[
                    (plot_rdm_pair(pair, labels), f"{name} (left) and layer {best} (right)"),
                    (
                        plot_mds(result["brain_rdm"].sel(brain=name), labels, title=str(name)),
                        f"MDS of the {name} RDM, coloured by category",
                    ),
                    (
                        plot_mds(result["model_rdm"].sel(layer=best), labels, title=best),
                        f"MDS of layer {best}'s RDM, coloured by category",
                    ),
                ],
            )
        )
    params = {k: a[k] for k in ("model", "stimuli", "rdm_method", "n_bootstrap", "seed") if k in a}
    params.update({k: v for k, v in a.items() if k.startswith("preprocess_")})
    return write_job_report(path, f"RSA: {a['model']} vs brain", sections, params, a,
                            overwrite=overwrite)  # fmt: skip
