"""Planted functional communities, built independently of neurodata's own simulator.

Each worm's neurons follow their own smooth random walks; each planted community gets a
shared smooth drive, *added* to its members' traces during drive episodes that together
cover about a third of the recording, in a subset of the worms. Settings vary the
sampling rate, the noise, the community size, the worms that hold each community, the
episode length and a fraction of neurons missing per worm. :func:`recovery` scores a
result against the truth: best-match Jaccard of every planted community among all
components' communities, and the correlation of the matched component's time course with
the planted activity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Setting:
    """One planted scenario (every field has a value in the benchmark's grid)."""

    rate: float = 2.5  # Hz
    noise: float = 1.0  # sd of white noise, against a drive of sd `drive`
    drive: float = 3.0
    episode: int = 150  # samples per drive episode
    community_size: int = 10
    n_communities: int = 3
    n_worms: int = 4
    worms_per_community: int = 3  # worms that hold each community
    missing: float = 0.0  # fraction of neurons missing in each worm
    n_time: int = 1200  # samples per worm

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items() if v != getattr(DEFAULT, k))


DEFAULT = Setting()


def _smooth(x: np.ndarray, width: float) -> np.ndarray:
    half = int(3 * width)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / width) ** 2)
    kernel /= kernel.sum()
    return np.apply_along_axis(np.convolve, 0, x, kernel, mode="same")


def planted(setting: Setting = DEFAULT, seed: int = 0) -> tuple[xr.DataArray, dict]:
    """Activity (worm, time, neuron) with per-worm clocks and its planted truth."""
    s = setting
    rng = np.random.default_rng(seed)
    n_neurons = s.community_size * s.n_communities + 6  # 6 neurons that never join
    labels = np.full(n_neurons, -1)
    labels[: s.community_size * s.n_communities] = np.repeat(
        np.arange(s.n_communities), s.community_size
    )
    rng.shuffle(labels)
    # episodes: the recording is cut into episodes; each community drives ~1/3 of them
    n_ep = max(1, s.n_time // s.episode)
    owner = rng.permutation(np.resize(np.arange(3), n_ep))  # 0..2: which third
    active = np.zeros((s.n_communities, s.n_time), bool)
    for k in range(s.n_communities):
        for e in np.flatnonzero(owner == k % 3):
            active[k, e * s.episode : (e + 1) * s.episode] = True
    worms_on = np.zeros((s.n_communities, s.n_worms), bool)
    for k in range(s.n_communities):
        worms_on[k, rng.choice(s.n_worms, s.worms_per_community, replace=False)] = True
    width = 0.8 * s.rate  # ~0.8 s smoothing: calcium-like traces at any rate
    data = np.empty((s.n_worms, s.n_time, n_neurons))
    stamps = np.empty((s.n_worms, s.n_time))
    for w in range(s.n_worms):
        walk = _smooth(rng.standard_normal((s.n_time, n_neurons)), width).cumsum(axis=0)
        walk /= walk.std(axis=0)  # own random walks, sd 1
        drive = _smooth(rng.standard_normal((s.n_time, s.n_communities)), width)
        drive *= s.drive / drive.std(axis=0)
        x = walk.copy()
        for k in range(s.n_communities):
            if worms_on[k, w]:
                on = active[k][:, None] & (labels == k)[None, :]
                x += np.where(on, drive[:, [k]], 0.0)
        x += s.noise * rng.standard_normal(x.shape)
        if s.missing > 0:
            x[:, rng.random(n_neurons) < s.missing] = np.nan
        data[w] = x
        stamps[w] = (np.arange(s.n_time) + rng.uniform(-0.05, 0.05, s.n_time)) / s.rate
        stamps[w] -= stamps[w, 0]
    names = [f"N{k:02d}" for k in range(n_neurons)]
    activity = xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={
            "worm": [f"w{k}" for k in range(s.n_worms)],
            "neuron": names,
            "timestamps": (("worm", "time"), stamps, {"units": "s"}),
        },
        name="activity",
        attrs={"long_name": "planted calcium activity, dimensionless"},
    )
    clock = np.arange(s.n_time) / s.rate
    return activity, {"labels": labels, "active": active, "clock": clock, "worms_on": worms_on}


def recovery(result: xr.Dataset, truth: dict) -> tuple[np.ndarray, np.ndarray]:
    """Best-match Jaccard and time-course correlation of each planted community."""
    names = result["neuron"].values.astype(str)
    index = {n: k for k, n in enumerate(names)}
    planted_sets = [
        {f"N{i:02d}" for i in np.flatnonzero(truth["labels"] == k)}
        for k in range(truth["active"].shape[0])
    ]
    community = result["community"].transpose("component", "neuron").values
    centres = (result["window_start"].values + result["window_stop"].values) / 2
    on = np.array([np.interp(centres, truth["clock"], a.astype(float)) for a in truth["active"]])
    tc = np.nan_to_num(result["time_course"].transpose("component", "window").values)
    jaccard, corr = [], []
    for k, members in enumerate(planted_sets):
        best, best_c = 0.0, 0
        for c in range(community.shape[0]):
            for lab in set(community[c].tolist()) - {-1}:
                found = {n for n in names if community[c, index[n]] == lab}
                j = len(found & members) / len(found | members)
                if j > best:
                    best, best_c = j, c
        jaccard.append(best)
        r = np.corrcoef(on[k], tc[best_c])[0, 1] if tc[best_c].std() > 0 else 0.0
        corr.append(float(np.nan_to_num(r)))
    return np.array(jaccard), np.array(corr)
