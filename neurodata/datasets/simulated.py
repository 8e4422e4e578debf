"""Simulated naturalistic-language fMRI with a known ground truth.

The demo and the tests need a brain dataset that exists on every machine and
whose right answer is known. [`story`][] writes a seeded narrative-like text
from a small grammar and times its words at a natural speech rate;
[`simulate_bold`][] turns word-level features (for instance one layer of a
language model) into BOLD responses of a few parcels: a random linear readout of
the features at word onsets, convolved with the canonical (SPM) haemodynamic
response, sampled at the TR, plus slow drift and AR(1) noise at a chosen
signal-to-noise ratio. An encoding model fitted layer by layer should then find
the layer that generated the responses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import SchemaError
from ..schema import as_dataarray, validate

__all__ = ["canonical_hrf", "planted_worms", "simulate_bold", "story"]

_DETERMINERS = ("the", "a", "one", "that", "every")
_ADJECTIVES = (
    "old",
    "small",
    "quiet",
    "bright",
    "curious",
    "tired",
    "golden",
    "strange",
    "careful",
    "hungry",
    "little",
    "wise",
    "distant",
    "gentle",
    "sudden",
    "narrow",
    "silver",
    "brave",
)
_NOUNS = (
    "girl",
    "rabbit",
    "queen",
    "garden",
    "door",
    "key",
    "river",
    "cat",
    "book",
    "tree",
    "king",
    "bottle",
    "table",
    "hall",
    "sister",
    "mouse",
    "window",
    "letter",
    "clock",
    "road",
)
_VERBS = (
    "saw",
    "followed",
    "opened",
    "found",
    "watched",
    "carried",
    "remembered",
    "painted",
    "called",
    "dropped",
    "touched",
    "heard",
    "answered",
    "noticed",
    "chased",
    "lost",
)
_ADVERBS = ("slowly", "again", "quietly", "suddenly", "carefully", "at last", "once more")
_PREPOSITIONS = ("near", "behind", "under", "beside", "across", "inside")
_CONNECTIVES = ("and then", "but", "so", "while", "because")


def _noun_phrase(rng: np.random.Generator) -> list[str]:
    words = [str(rng.choice(_DETERMINERS))]
    if rng.random() < 0.6:
        words.append(str(rng.choice(_ADJECTIVES)))
    words.append(str(rng.choice(_NOUNS)))
    if rng.random() < 0.25:
        words += [
            str(rng.choice(_PREPOSITIONS)),
            *(_noun_phrase(rng) if rng.random() < 0.3 else ["the", str(rng.choice(_NOUNS))]),
        ]
    return words


def _clause(rng: np.random.Generator) -> list[str]:
    words = [*_noun_phrase(rng), str(rng.choice(_VERBS)), *_noun_phrase(rng)]
    if rng.random() < 0.3:
        words += str(rng.choice(_ADVERBS)).split()
    return words


def story(n_words: int = 1200, *, rate: float = 2.6, seed: int = 0) -> xr.Dataset:
    """A seeded narrative-like text with word timings, as a words Dataset.

    Parameters
    ----------
    n_words : int
        Number of words (sentences are cut at the last full sentence after ``n_words``).
    rate : float
        Mean speech rate in words per second (audiobooks: about 2.5-3).
    seed : int
        Seed of the text and of the timing jitter.

    Returns
    -------
    xarray.Dataset
        Along ``word``: ``text`` (str), ``onset`` and ``offset`` (s), ``sentence``
        (index of the sentence each word belongs to).
    """
    if n_words < 1:
        raise SchemaError(f"`n_words` must be >= 1; got {n_words}")
    if not rate > 0:
        raise SchemaError(f"`rate` must be > 0 words/s; got {rate}")
    rng = np.random.default_rng(seed)
    words: list[str] = []
    sentence: list[int] = []
    k = 0
    while len(words) < n_words:
        clause = _clause(rng)
        while rng.random() < 0.35:
            clause += str(rng.choice(_CONNECTIVES)).split() + _clause(rng)
        clause[-1] += "."
        clause[0] = clause[0].capitalize()
        words += clause
        sentence += [k] * len(clause)
        k += 1
    words, sentence = words[:n_words], sentence[:n_words]
    # duration grows with word length; pauses after sentence ends
    lengths = np.array([len(w) for w in words], dtype=float)
    durations = lengths / lengths.mean() / rate * rng.uniform(0.8, 1.2, len(words))
    gaps = np.where([w.endswith(".") for w in words], rng.uniform(0.25, 0.6, len(words)), 0.0)
    onsets = np.concatenate([[0.5], 0.5 + np.cumsum(durations + gaps)[:-1]])
    return xr.Dataset(
        {
            "text": ("word", np.array(words, dtype=object)),
            "onset": ("word", onsets, {"units": "s"}),
            "offset": ("word", onsets + durations, {"units": "s"}),
            "sentence": ("word", np.array(sentence)),
        },
        attrs={"source": "neurodata.datasets.simulated.story", "seed": seed},
    )


def canonical_hrf(sfreq: float, *, length: float = 32.0) -> np.ndarray:
    """SPM's canonical double-gamma haemodynamic response sampled at ``sfreq`` Hz.

    Peak near 5 s, undershoot near 15 s (gamma shapes 6 and 16, ratio 1/6),
    normalised to unit sum.
    """
    t = np.arange(0.0, length, 1.0 / sfreq)
    hrf = stats.gamma.pdf(t, 6) - stats.gamma.pdf(t, 16) / 6.0
    return hrf / hrf.sum()


def simulate_bold(
    features: xr.DataArray,
    words: xr.Dataset,
    *,
    n_times: int | None = None,
    tr: float = 2.0,
    n_parcels: int = 6,
    snr: float = 1.0,
    ar: float = 0.3,
    drift: float = 0.5,
    n_subjects: int = 1,
    n_components: int | None = None,
    seed: int = 0,
    parcel_names: Sequence[str] | None = None,
) -> xr.Dataset:
    """BOLD responses of ``n_parcels`` regions generated from word-level features.

    Parameters
    ----------
    features : xarray.DataArray
        Dims ``(word, unit)``: the features that generate the responses (e.g. one
        layer of a language model, pooled per word).
    words : xarray.Dataset
        Along ``word``: ``onset`` (s); see [`story`][].
    n_times : int, optional
        Number of scans; default covers the last word plus 20 s.
    tr : float
        Repetition time (s).
    n_parcels : int
        Number of simulated regions.
    snr : float
        Ratio of the standard deviations of signal and noise, per parcel.
    ar : float
        AR(1) coefficient of the noise (fMRI noise is autocorrelated).
    drift : float
        Amplitude of slow cosine drifts (periods > 100 s), relative to the noise.
    n_subjects : int
        Subjects sharing the readout weights but with independent noise.
    n_components : int, optional
        Read out only the top principal components of the features (a
        low-dimensional response, as cortical responses to language are);
        default: all features.
    seed : int
        Seed of weights, noise and drift.
    parcel_names : sequence of str, optional
        Names of the parcels (default ``"P0"``, ``"P1"``, ...).

    Returns
    -------
    xarray.Dataset
        ``bold(subject, time, parcel)`` (z-scored per subject and parcel, so
        ``long_name`` says it is dimensionless) and the noise-free
        ``signal(time, parcel)``; ``time`` in seconds at scan centres
        (``sfreq = 1 / tr``); attrs record every parameter.
    """
    features = as_dataarray(features, dims=("word", "unit"), name="features")
    if "onset" not in words:
        raise SchemaError("`words` must have an 'onset' variable along 'word' (seconds)")
    onsets = np.asarray(words["onset"].values, dtype=float)
    if onsets.shape[0] != features.sizes["word"]:
        raise SchemaError(
            f"`features` has {features.sizes['word']} words but `words` has {onsets.shape[0]}"
        )
    if n_times is None:
        n_times = int(np.ceil((onsets.max() + 20.0) / tr))
    rng = np.random.default_rng(seed)
    x = np.asarray(features.transpose("word", "unit").values, dtype=float)
    x = (x - x.mean(0)) / (x.std(0) + 1e-12)
    if n_components is not None:
        if not 1 <= n_components <= min(x.shape):
            raise SchemaError(f"`n_components` must be in [1, {min(x.shape)}]; got {n_components}")
        u, sv, _ = np.linalg.svd(x, full_matrices=False)
        x = u[:, :n_components] * sv[:n_components] / np.sqrt(len(x))
        x = x / x.std(0)
    weights = rng.standard_normal((x.shape[1], n_parcels)) / np.sqrt(x.shape[1])
    drive = x @ weights  # (word, parcel)

    fine = 10.0  # Hz: word impulses on a fine grid, HRF, then one sample per scan
    n_fine = round(n_times * tr * fine)
    impulses = np.zeros((n_fine, n_parcels))
    index = np.clip(np.round(onsets * fine).astype(int), 0, n_fine - 1)
    np.add.at(impulses, index, drive)
    hrf = canonical_hrf(fine)
    convolved = np.apply_along_axis(lambda s: np.convolve(s, hrf)[:n_fine], 0, impulses)
    scan_index = np.round((np.arange(n_times) * tr + tr / 2) * fine).astype(int).clip(0, n_fine - 1)
    signal = convolved[scan_index]
    signal = (signal - signal.mean(0)) / (signal.std(0) + 1e-12)

    times = np.arange(n_times) * tr + tr / 2
    bold = np.empty((n_subjects, n_times, n_parcels))
    for s in range(n_subjects):
        noise = np.empty((n_times, n_parcels))
        noise[0] = rng.standard_normal(n_parcels)
        for t in range(1, n_times):
            noise[t] = ar * noise[t - 1] + np.sqrt(1 - ar**2) * rng.standard_normal(n_parcels)
        periods = rng.uniform(100.0, 300.0, (3, n_parcels))
        phases = rng.uniform(0, 2 * np.pi, (3, n_parcels))
        slow = np.sin(2 * np.pi * times[:, None, None] / periods + phases).sum(1) * drift
        y = snr * signal + noise + slow
        bold[s] = (y - y.mean(0)) / y.std(0)

    names = list(parcel_names) if parcel_names is not None else [f"P{i}" for i in range(n_parcels)]
    if len(names) != n_parcels:
        raise SchemaError(f"`parcel_names` has {len(names)} names for {n_parcels} parcels")
    coords = {
        "time": ("time", times, {"units": "s"}),
        "parcel": np.array(names, dtype=object),
        "subject": np.array([f"sim{s:02d}" for s in range(n_subjects)], dtype=object),
    }
    ds = xr.Dataset(
        {
            "bold": (
                ("subject", "time", "parcel"),
                bold,
                {"long_name": "BOLD, z-scored (dimensionless)"},
            ),
            "signal": (("time", "parcel"), signal, {"long_name": "noise-free signal, z-scored"}),
        },
        coords=coords,
        attrs={
            "sfreq": 1.0 / tr,
            "tr": tr,
            "snr": snr,
            "ar": ar,
            "drift": drift,
            "n_components": -1 if n_components is None else n_components,
            "seed": seed,
            "source": "neurodata.datasets.simulated.simulate_bold",
        },
    )
    return validate(ds, "timeseries")


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
    """(worm, time, neuron) traces with planted functional communities (a known answer).

    Community k of ``community_size`` neurons shares one smooth latent signal
    during windows ``k, k + n, k + 2n ...`` (``n = n_communities``) in worms ``w`` with ``w % n != (k + 1) % n`` (absent from
    one worm in n); elsewhere every neuron follows its own independent smooth signal.
    Per-worm clocks are jittered and the last worm is shorter (NaN-padded timestamps).

    Returns
    -------
    activity : xarray.DataArray
        Dims (``worm``, ``time``, ``neuron``) with a ``timestamps(worm, time)`` coordinate (s).
    truth : dict
        ``labels`` (community of each neuron), ``active`` (community x window),
        ``worms_on`` (community x worm), ``names``.
    """
    rng = np.random.default_rng(seed)
    n_neurons = community_size * n_communities
    n_time = round(n_windows * window / dt)
    kernel = np.exp(-0.5 * (np.arange(-10, 11) / 3.0) ** 2)

    def smooth(x):
        return np.apply_along_axis(np.convolve, 0, x, kernel / kernel.sum(), mode="same")

    labels = np.repeat(np.arange(n_communities), community_size)
    window_of = (np.arange(n_time) * dt // window).astype(int)
    active = np.zeros((n_communities, n_windows), bool)
    for k in range(n_communities):
        active[k, k::n_communities] = True
    worms_on = np.array(
        [
            [w % n_communities != (k + 1) % n_communities for w in range(n_worms)]
            for k in range(n_communities)
        ]
    )
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
