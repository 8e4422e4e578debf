"""Fixtures of the analyses tests: synthetic worms with planted functional communities."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr


def planted_worms(
    *,
    n_worms: int = 4,
    community_size: int = 8,
    n_communities: int = 3,
    n_windows: int = 9,
    window: float = 30.0,
    dt: float = 0.5,
    noise: float = 0.2,
    seed: int = 0,
) -> tuple[xr.DataArray, dict]:
    """(worm, time, neuron) traces where community k co-varies in known windows and worms.

    Community k shares one smooth latent signal during windows ``k, k + n, k + 2n ...``
    (``n = n_communities``) in worms ``w`` with ``w % n != (k + 1) % n`` (absent from
    one worm in n); elsewhere every neuron follows its own independent smooth signal.
    Per-worm clocks are jittered and the last worm is shorter (NaN-padded timestamps).
    """
    rng = np.random.default_rng(seed)
    n_neurons = community_size * n_communities
    n_time = int(round(n_windows * window / dt))
    kernel = np.exp(-0.5 * (np.arange(-10, 11) / 3.0) ** 2)

    def smooth(x):
        return np.apply_along_axis(np.convolve, 0, x, kernel / kernel.sum(), mode="same")

    labels = np.repeat(np.arange(n_communities), community_size)
    window_of = (np.arange(n_time) * dt // window).astype(int)
    active = np.zeros((n_communities, n_windows), bool)
    for k in range(n_communities):
        active[k, k::n_communities] = True
    worms_on = np.array([[w % n_communities != (k + 1) % n_communities for w in range(n_worms)]
                         for k in range(n_communities)])
    data = np.empty((n_worms, n_time, n_neurons))
    stamps = np.empty((n_worms, n_time))
    for w in range(n_worms):
        own = smooth(rng.standard_normal((n_time, n_neurons))) * 3
        shared = smooth(rng.standard_normal((n_time, n_communities))) * 3
        on = active[:, window_of].T & worms_on[:, w][None, :]  # (time, community)
        x = np.where(on[:, labels], shared[:, labels], own)
        data[w] = x + noise * rng.standard_normal(x.shape)
        stamps[w] = np.arange(n_time) * dt + rng.uniform(0, 0.05)
    data[-1, -n_time // 10 :] = np.nan
    stamps[-1, -n_time // 10 :] = np.nan
    names = [f"N{k:02d}" for k in range(n_neurons)]
    da = xr.DataArray(
        data,
        dims=("worm", "time", "neuron"),
        coords={
            "worm": [f"w{k}" for k in range(n_worms)],
            "neuron": names,
            "timestamps": (("worm", "time"), stamps, {"units": "s"}),
        },
        name="activity",
        attrs={"long_name": "synthetic calcium activity, dimensionless"},
    )
    truth = {"labels": labels, "active": active, "worms_on": worms_on, "names": names}
    return da, truth


@pytest.fixture
def planted():
    return planted_worms()
