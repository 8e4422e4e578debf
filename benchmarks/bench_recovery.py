"""Recovery of planted communities by ``dynamic_connectome`` at its defaults (issue 21).

Planted worms (``benchmarks/_planted.py``: 4 worms, 3 communities of 10 neurons and 6
neurons that never join, smooth random-walk traces, a shared drive of sd 3 added to each
community's members during episodes covering a third of the recording, in 3 of the 4
worms) across sampling rate, noise, community size, the number of worms holding each
community, episode length and a missing-neuron fraction. Each setting is run at two
data seeds with ``dynamic_connectome(activity)`` and nothing else: the window comes from
the data, the communities are the consensus over seeds and resolutions.

Per row: best-match Jaccard of each planted community (among all components'
communities), the correlation of the matched component's time course with the planted
activity, the window chosen and the seconds taken; a last row gives the median and the
minimum Jaccard over all rows (the aim: median >= 0.9, none below 0.6). The same grid
is run with the defaults before issue 21 (``derivative`` affinity, 30 s window, Louvain at
resolution 1) for comparison.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ._planted import DEFAULT, Setting, planted, recovery

GRID = [
    DEFAULT,
    Setting(rate=1.7),
    Setting(rate=5.0, n_time=2400),
    Setting(noise=0.5),
    Setting(noise=1.5),
    Setting(episode=50),
    Setting(episode=400),
    Setting(community_size=6),
    Setting(community_size=15),
    Setting(worms_per_community=2),
    Setting(missing=0.2),
    Setting(rate=1.7, noise=1.5, episode=50),
    Setting(rate=5.0, n_time=2400, episode=50, missing=0.1),
]


#: What is compared: the defaults, and the defaults before issue 21.
CONFIGS = {
    "defaults": {},
    "previous defaults": {"affinity_method": "derivative", "window": 30.0, "resolution": 1.0},
}


def run(quick: bool = False, settings: list[Setting] | None = None) -> list[dict]:
    """One row per (configuration, setting, data seed), and a summary row per configuration."""
    rows = []
    for name, options in CONFIGS.items():
        rows.extend(_run(name, options, settings or (GRID[:3] if quick else GRID),
                         (1,) if quick else (1, 2)))  # fmt: skip
    return rows


def _run(name: str, options: dict, settings: list[Setting], seeds: tuple[int, ...]) -> list[dict]:
    from neurodata.analyses import connectome as dc

    rows, jaccards = [], []
    for setting in settings:
        for seed in seeds:
            activity, truth = planted(setting, seed=seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                result = dc.dynamic_connectome(activity, progress=False, **options)
            seconds = time.perf_counter() - start
            jaccard, corr = recovery(result, truth)
            jaccards.extend(jaccard.tolist())
            rows.append(
                {
                    "task": f"planted recovery, {name}",
                    "setting": setting.label() or "default",
                    "data_seed": seed,
                    "jaccard": [round(float(j), 2) for j in jaccard],
                    "time_r": [round(float(r), 2) for r in corr],
                    "window_s": round(result.attrs["window"], 1),
                    "stability": [round(float(s), 2) for s in result["stability"].values],
                    "seconds": round(seconds, 1),
                }
            )
    rows.append(
        {
            "task": f"planted recovery summary, {name}",
            "runs": len(rows),
            "median_jaccard": round(float(np.median(jaccards)), 3),
            "min_jaccard": round(float(np.min(jaccards)), 3),
            "share_below_0.6": round(float(np.mean(np.array(jaccards) < 0.6)), 3),
        }
    )
    return rows
