"""The dynamic functional connectome of worms, as a report section."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..report import Section

__all__ = ["worm_connectome_section"]


def worm_connectome_section(
    result: xr.Dataset, *, data_name: str, truth: dict[str, Any] | None = None
) -> Section:
    """Report section for [`neurodata.analyses.connectome.dynamic_connectome`][].

    Parameters
    ----------
    result : xarray.Dataset
        Its output: ``time_course`` (component, window), ``worm_loading``
        (component, worm), ``pair_loading`` (component, pair), ``community``
        (component, neuron).
    data_name : str
        What the worms are.
    truth : dict, optional
        Planted ``labels`` per neuron (simulated worms): adds the adjusted Rand
        index of the best-matching component's communities.
    """
    from sklearn.metrics import adjusted_rand_score

    from ..plotting.connectome import plot_coassignment, plot_communities, plot_timeline

    n_comp = result.sizes["component"]
    section = Section(
        "Dynamic functional connectome (worms)",
        notice=f"Worm data: {data_name}.",
        paragraphs=[
            f"Pairwise affinities of neuron traces in sliding windows, factorised by "
            f"non-negative tensor factorization into {n_comp} components (time course x worm "
            "loading x neuron-pair loading); each component's pair loadings form a graph whose "
            "communities (the consensus of Louvain runs over seeds and resolutions) are the "
            f"functional motifs. Window {result.attrs.get('window', float('nan')):.3g} s"
            + (" (set from the data's time scale)" if "window_rule" in result.attrs else "")
            + "; community stability (mean adjusted Rand index of the runs with the consensus) "
            + ", ".join(
                f"C{c}={v:.2f}"
                for c, v in zip(result["component"].values, result["stability"].values)
            )
            + "."
        ],
    )
    if truth is not None and "labels" in truth:
        aris = [
            adjusted_rand_score(
                np.asarray(truth["labels"]), result["community"].isel(component=k).values
            )
            for k in range(n_comp)
        ]
        section.paragraphs.append(
            "Known answer (planted communities): adjusted Rand index of each component's "
            f"communities with the planted groups: {', '.join(f'{a:.2f}' for a in aris)} "
            "(each planted community is active in its own windows, so each component finds "
            "one of them and lumps the rest)."
        )
    section.figures.append(
        (plot_timeline(result), "Which components are active when, and in which worms")
    )
    section.figures.append(
        (plot_communities(result, 0), "Component 0: pair loadings sorted by community")
    )
    section.figures.append(
        (plot_coassignment(result, 0), "Component 0: how often each pair was co-assigned")
    )
    return section
