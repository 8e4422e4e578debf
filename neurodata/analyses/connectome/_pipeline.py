"""Dynamic functional connectomes: windowed affinities, non-negative tensor factorization
and communities (after Dyballa et al., ICLR 2024).

The pipeline, each step a public function:

1. [`affinity`][]: ``activity(worm, time, neuron)`` -> ``affinity(window, worm, pair)``,
   a non-negative affinity of every neuron pair in every sliding window of every
   worm, NaN where a pair was not recorded (together, for enough samples) in a worm.
2. [`ntf`][]: non-negative CP decomposition of that tensor (tensorly's HALS or
   multiplicative updates, memory-bounded, NaN entries imputed by EM) -> per
   component a time course (window), worm loadings (worm) and pair loadings (pair);
   the rank is given or chosen from candidates by reconstruction error and factor
   stability across restarts.
3. [`detect_communities`][neurodata.analyses.communities.detect_communities]: Louvain communities
   of each component's pair graph, with stability across seeds.
4. [`compare_structure`][neurodata.analyses.communities.compare_structure]: each component against
   an anatomical connectome, against a degree-preserving null.

[`dynamic_connectome`][] runs 1-3 in one call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._distributed import run_tasks
from ..._progress import progress as _progress
from ...errors import SchemaError
from ...io import load
from ...schema import _pick, append_history, as_annotations, as_dataarray
from ._affinity import AFFINITIES, derivative_scores, pick_affinity
from ._communities import compare_structure, detect_communities
from ._ntf import NTF_METHODS, factor_similarity, fit_ntf, observed_slices

__all__ = [
    "AFFINITIES",
    "NTF_METHODS",
    "affinity",
    "compare_structure",
    "detect_communities",
    "dynamic_connectome",
    "ntf",
]


# --------------------------------------------------------------------------------------
# input gate
# --------------------------------------------------------------------------------------


def _as_activity(obj: Any) -> tuple[xr.DataArray, np.ndarray]:
    """Coerce to activity (worm, time, neuron) and its per-worm clock (worm, time)."""
    if isinstance(obj, str | os.PathLike):
        obj = load(obj)
    if isinstance(obj, xr.Dataset):
        var = "activity" if "activity" in obj.data_vars else None
        obj = as_dataarray(obj, var=var, name="activity")
    if not isinstance(obj, xr.DataArray):
        raise TypeError(
            f"`activity` must be a DataArray or Dataset with dims (worm, time, neuron); "
            f"got {type(obj).__name__}"
        )
    if "worm" not in obj.dims and set(obj.dims) == {"time", "neuron"}:
        obj = obj.expand_dims(worm=["0"])
    if set(obj.dims) != {"worm", "time", "neuron"}:
        raise SchemaError(f"activity: expected dims ('worm', 'time', 'neuron'); found {obj.dims}")
    da = as_dataarray(obj, dims=("worm", "time", "neuron"), name="activity")
    da = da.transpose("worm", "time", "neuron")
    if "neuron" not in da.coords:
        da = da.assign_coords(neuron=[str(k) for k in range(da.sizes["neuron"])])
    if "worm" not in da.coords:
        da = da.assign_coords(worm=[str(k) for k in range(da.sizes["worm"])])
    if "timestamps" in da.coords and set(da.coords["timestamps"].dims) == {"worm", "time"}:
        clock = da.coords["timestamps"].transpose("worm", "time").values.astype(float)
    elif "time" in da.coords:
        clock = np.broadcast_to(
            da["time"].values.astype(float), (da.sizes["worm"], da.sizes["time"])
        )
    else:  # pragma: no cover - validate() already requires a clock
        raise SchemaError("activity: dim 'time' has no coordinate; expected seconds")
    return da, np.array(clock, dtype=float)


def _windows(clock: np.ndarray, window: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    t0, t1 = np.nanmin(clock), np.nanmax(clock)
    n = int(np.floor((t1 - t0) / step + 1e-9)) + 1  # the last window may be partial
    starts = t0 + step * np.arange(n)
    return starts, starts + window


def _samples_per_window(clock: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Samples of each worm in each window ``[start, stop)``: (worm, window)."""
    counts = np.empty((clock.shape[0], starts.size), dtype=np.int64)
    for w, c in enumerate(clock):
        c = np.sort(c[np.isfinite(c)])
        counts[w] = np.searchsorted(c, stops, "left") - np.searchsorted(c, starts, "left")
    return counts


# --------------------------------------------------------------------------------------
# 1. affinities
# --------------------------------------------------------------------------------------


def affinity(
    activity: Any,
    window: float,
    *,
    step: float | None = None,
    method: str = "derivative",
    smooth: int = 3,
    min_samples: int = 3,
    align: str = "start",
    progress: bool = False,
    scheduler: Any = None,
) -> xr.DataArray:
    """Pairwise affinities of neuronal traces in sliding time windows, per worm.

    Parameters
    ----------
    activity : xarray.DataArray, xarray.Dataset or path
        Dims (worm, time, neuron) (a Dataset's ``activity`` variable), NaN for
        unrecorded neurons/samples. Per-worm clocks in seconds are read from a
        ``timestamps`` (worm, time) coordinate when present, else from ``time``.
    window : float
        Window length in seconds. Windows lie on one clock shared by all worms,
        starting at the earliest sample.
    step : float, optional
        Step between window starts in seconds (default: ``window``, no overlap).
    method : str
        Affinity (see `AFFINITIES`): ``"derivative"`` (default; our own
        derivative-based affinity, *not* the paper's unpublished formula: mean over
        the window of the rectified product of the standardised time derivatives,
        ``max(z_i z_j, 0)`` with ``z = (dx/dt) / std(dx/dt)`` per worm and neuron:
        high when two neurons rise or fall together, zero when they move in
        opposite directions), ``"correlation"`` (positive part of the Pearson
        correlation) or ``"abs_correlation"`` (its absolute value).
    smooth : int
        Moving-average width (samples) applied before differentiating (derivative only).
    min_samples : int
        A pair needs this many samples where both neurons are finite in a window;
        otherwise its affinity there is NaN (missing, never 0).
    align : str
        ``"start"`` (default): each worm's clock starts at 0 (its first sample), so
        windows compare worms at the same time since the start of their recording;
        ``"none"``: clocks are used as they are (already on a common experimental clock).
    progress : bool
        Show a progress bar over worms.
    scheduler : None, str, distributed.Client or cluster
        Where the worms run, one task each (None: in this process; else
        ``"threads"``, ``"processes"``, a ``distributed.Client``, a cluster or a
        scheduler address). Results do not depend on it.

    Returns
    -------
    xarray.DataArray
        ``affinity`` with dims (window, worm, pair), float32, coordinates
        ``window_start``/``window_stop`` (s), ``worm``, and ``neuron_i``/``neuron_j``
        along ``pair`` (all pairs i < j of the neurons recorded in at least one worm).
    """
    pick_affinity(method)
    if not (np.isscalar(window) and np.isfinite(window) and window > 0):
        raise ValueError(f"`window` must be a positive number of seconds; got {window!r}")
    step = float(window) if step is None else step
    if not (np.isscalar(step) and np.isfinite(step) and step > 0):
        raise ValueError(f"`step` must be a positive number of seconds; got {step!r}")
    if int(min_samples) < 2:
        raise ValueError(f"`min_samples` must be >= 2; got {min_samples!r}")
    if align not in ("start", "none"):
        raise ValueError(f"`align` must be one of ['none', 'start']; got {align!r}")
    da, clock = _as_activity(activity)
    if align == "start":
        with np.errstate(invalid="ignore"):
            first = np.array([np.nanmin(c) if np.isfinite(c).any() else 0.0 for c in clock])
        clock = clock - first[:, None]
    values = np.asarray(da.values, dtype=np.float64)
    recorded = np.isfinite(values).any(axis=(0, 1))
    if recorded.sum() < 2:
        raise SchemaError(
            f"activity: {int(recorded.sum())} neuron(s) hold finite values; expected >= 2"
        )
    neurons = da["neuron"].values.astype(str)[recorded]
    values = values[:, :, recorded]
    iu, ju = np.triu_indices(len(neurons), k=1)
    starts, stops = _windows(clock, float(window), float(step))
    # keep only windows some worm can fill, before allocating the (large) output tensor
    usable = (_samples_per_window(clock, starts, stops) >= int(min_samples)).any(axis=0)
    starts, stops = starts[usable], stops[usable]
    out = np.full((len(starts), da.sizes["worm"], len(iu)), np.nan, dtype=np.float32)
    shared = dict(starts=starts, stops=stops, method=method, smooth=smooth,
                  min_samples=min_samples, pairs=(iu, ju))  # fmt: skip
    n_worms = da.sizes["worm"]
    if scheduler is None:  # in process: each worm's windows are written straight into `out`
        for w in _progress(range(n_worms), desc="affinities", enabled=progress, unit="worm"):
            _worm_affinity(values[w], clock[w], out=out[:, w], **shared)
    else:
        worms = run_tasks(_worm_affinity, ((values[w], clock[w]) for w in range(n_worms)),
                          shared=shared, scheduler=scheduler, total=n_worms, progress=progress,
                          desc="affinities")  # fmt: skip
        for w, block in worms:
            out[:, w] = block
            del block  # one worm's block alive at a time
    # windows where some pair is observed, one window at a time (no tensor-size temporary)
    filled = np.array([np.isfinite(block).any() for block in out], dtype=bool)
    if not filled.any():
        dt = float(np.nanmedian(np.diff(clock, axis=1)))
        raise SchemaError(
            f"activity: no window of {window:g} s holds {min_samples} shared samples of any "
            f"pair (sampling step {dt:g} s); expected a longer `window`"
        )
    if not filled.all():  # rare (no pair shared in a window): the only copy of the tensor
        out, starts, stops = out[filled], starts[filled], stops[filled]
    result = xr.DataArray(
        out,
        dims=("window", "worm", "pair"),
        coords={
            "window_start": ("window", starts, {"units": "s"}),
            "window_stop": ("window", stops, {"units": "s"}),
            "worm": da["worm"].values,
            "neuron_i": ("pair", neurons[iu].astype(str)),
            "neuron_j": ("pair", neurons[ju].astype(str)),
        },
        name="affinity",
        attrs={
            "long_name": f"{method} affinity, dimensionless",
            "method": method,
            "window": float(window),
            "step": float(step),
            "smooth": int(smooth),
            "min_samples": int(min_samples),
            "align": align,
        },
    )
    return result


def _worm_affinity(
    values: np.ndarray,
    clock: np.ndarray,
    *,
    starts: np.ndarray,
    stops: np.ndarray,
    method: str,
    smooth: int,
    min_samples: int,
    pairs: tuple[np.ndarray, np.ndarray],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Affinities (window, pair) of one worm's traces (time, neuron): one task.

    Written into ``out`` (window, pair), NaN-initialised, when given.
    """
    kernel, on_derivatives = pick_affinity(method)
    iu, ju = pairs
    if out is None:
        out = np.full((len(starts), len(iu)), np.nan, dtype=np.float32)
    x = derivative_scores(values, clock, smooth) if on_derivatives else values
    for k, (start, stop) in enumerate(zip(starts, stops)):
        idx = (clock >= start) & (clock < stop)
        if idx.sum() < min_samples:
            continue
        aff, count = kernel(x[idx])
        aff = np.where(count >= min_samples, aff, np.nan)
        out[k] = aff[iu, ju]
    return out


# --------------------------------------------------------------------------------------
# 2. non-negative tensor factorization
# --------------------------------------------------------------------------------------


def ntf(
    affinities: xr.DataArray,
    rank: int | Sequence[int],
    *,
    method: str = "hals",
    seed: int = 0,
    n_restarts: int | None = None,
    stability_threshold: float = 0.9,
    n_iter_max: int = 200,
    tol: float = 1e-6,
    batch: int | None = None,
    n_threads: int | None = 1,
    progress: bool = False,
    scheduler: Any = None,
) -> xr.Dataset:
    """Non-negative CP decomposition of an affinity tensor (window, worm, pair).

    Parameters
    ----------
    affinities : xarray.DataArray
        Dims (window, worm, pair), non-negative, NaN for missing entries (e.g. the
        output of [`affinity`][]). Used as float32; never copied to float64.
    rank : int or sequence of int
        Number of components, or candidates to choose from: for each candidate,
        ``n_restarts`` fits from different seeds; the chosen rank is the largest
        whose mean factor match score between the best restart and the others is
        at least ``stability_threshold`` (the smallest candidate if none is).
    method : str
        ``"hals"`` (tensorly's ``non_negative_parafac_hals`` updates) or ``"mu"``
        (tensorly's ``non_negative_parafac`` multiplicative updates).
    seed : int
        Seed of tensorly's random initialisation (restarts derive their seeds from it).
    n_restarts : int, optional
        Fits per rank (default 1 for a single rank, 3 for candidates); the fit of
        lowest reconstruction error is kept.
    stability_threshold : float
        See ``rank``.
    n_iter_max, tol : int, float
        Iteration limit and tolerance on the change of relative error (tensorly's meaning).
    batch : int, optional
        Pairs per chunk (memory knob); default keeps each chunk near 16 MiB.
    n_threads : int or None
        BLAS threads during the fit (default 1; None: no limit). The products have
        only ``rank`` columns, so threads help little and contend on busy machines.
    progress : bool
        Show a progress bar over fits.
    scheduler : None, str, distributed.Client or cluster
        Where the fits (ranks x restarts) run, one task each, the tensor shared
        (see [`affinity`][]). Results do not depend on it.

    Returns
    -------
    xarray.Dataset
        ``time_course`` (component, window), ``worm_loading`` (component, worm),
        ``pair_loading`` (component, pair), each scaled to a maximum of 1, and
        ``weight`` (component): the product of the scales; components sorted by
        decreasing weight. Slices that are missing everywhere (e.g. pairs never
        recorded together) are NaN. Attrs hold the rank, the relative
        reconstruction error (observed entries), the iterations and, for
        candidate ranks, the error and stability of every candidate.
    """
    update = _pick(NTF_METHODS, method, "method")
    ranks = [rank] if np.isscalar(rank) else list(rank)
    if not ranks or any(not float(r).is_integer() or int(r) < 1 for r in ranks):
        raise ValueError(f"`rank` must be a positive integer or a list of them; got {rank!r}")
    ranks = sorted({int(r) for r in ranks})
    restarts = int(n_restarts) if n_restarts is not None else (1 if len(ranks) == 1 else 3)
    if restarts < 1:
        raise ValueError(f"`n_restarts` must be >= 1; got {n_restarts!r}")
    da = as_dataarray(affinities, dims=("window", "worm", "pair"), name="affinities")
    da = da.transpose("window", "worm", "pair")
    data = np.asarray(da.values)
    data = data if data.dtype == np.float32 else data.astype(np.float32)
    if np.nanmin(data, initial=0.0) < 0:
        raise ValueError("affinities: hold negative values; NTF needs a non-negative tensor")
    # leave out slices that are missing everywhere (they carry no information), by
    # indexing chunks of the tensor during the fit: the tensor is never copied
    keep = observed_slices(data, batch)
    if not all(k.any() for k in keep):
        raise SchemaError("affinities: every entry is missing (NaN)")
    index = None if all(k.all() for k in keep) else tuple(np.flatnonzero(k) for k in keep)

    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=restarts).tolist()
    seeds[0] = int(seed)
    fits: dict[int, list] = {}
    jobs = [(r, s) for r in ranks for s in seeds]
    fit_options = dict(data=data, update=update, n_iter_max=n_iter_max, tol=tol, batch=batch,
                       n_threads=n_threads, index=index)  # fmt: skip
    done = run_tasks(
        _ntf_fit,
        jobs,
        shared=fit_options,
        scheduler=scheduler,
        progress=progress,
        desc="NTF fits",
    )
    for k, fit in sorted(done, key=lambda item: item[0]):
        fits.setdefault(jobs[k][0], []).append(fit)
    errors, stabilities = [], []
    for r in ranks:
        runs = fits[r]
        best = min(range(len(runs)), key=lambda k: runs[k][1][-1] if runs[k][1] else np.inf)
        others = [
            factor_similarity(runs[best][0], runs[k][0]) for k in range(len(runs)) if k != best
        ]
        errors.append(runs[best][1][-1] if runs[best][1] else float("nan"))
        stabilities.append(float(np.mean(others)) if others else float("nan"))
        fits[r] = runs[best]
    if len(ranks) == 1:
        chosen = ranks[0]
    else:
        stable = [r for r, st in zip(ranks, stabilities) if st >= stability_threshold]
        chosen = max(stable) if stable else ranks[0]
    factors, errs = fits[chosen]

    full = []
    for m, f in enumerate(factors):
        g = np.full((data.shape[m], chosen), np.nan, dtype=np.float32)
        g[keep[m]] = f
        full.append(g)
    scales = np.stack([np.nanmax(f, axis=0) for f in full])  # (3, rank)
    scales = np.where(scales > 0, scales, 1.0)
    weight = np.prod(scales, axis=0)
    order = np.argsort(-weight, kind="stable")
    full = [(f / s)[:, order] for f, s in zip(full, scales)]
    coords = {
        "component": np.arange(chosen),
        **{k: v for k, v in da.coords.items() if set(v.dims) <= {"window", "worm", "pair"}},
    }
    out = xr.Dataset(
        {
            "time_course": (("component", "window"), full[0].T),
            "worm_loading": (("component", "worm"), full[1].T),
            "pair_loading": (("component", "pair"), full[2].T),
            "weight": ("component", weight[order].astype(np.float64)),
        },
        coords=coords,
        attrs={
            "rank": int(chosen),
            "ntf_method": method,
            "seed": int(seed),
            "n_restarts": restarts,
            "reconstruction_error": float(errs[-1]) if errs else float("nan"),
            "n_iter": len(errs),
            "rank_candidates": ranks,
            "rank_error": [float(e) for e in errors],
            "rank_stability": [float(s) for s in stabilities],
            "stability_threshold": float(stability_threshold),
        },
    )
    for name in ("time_course", "worm_loading", "pair_loading"):
        out[name].attrs["long_name"] = "NTF factor scaled to a maximum of 1, dimensionless"
    return out


# --------------------------------------------------------------------------------------
# the whole pipeline
# --------------------------------------------------------------------------------------


def _ntf_fit(rank: int, seed: int, *, data: np.ndarray, **options: Any) -> Any:
    """One NTF fit (a task): [`fit_ntf`][] with the tensor passed by keyword."""
    return fit_ntf(data, rank, seed=seed, **options)


def dynamic_connectome(
    activity: Any,
    rank: int | Sequence[int] = 5,
    window: float = 30.0,
    seed: int = 0,
    *,
    step: float | None = None,
    affinity_method: str = "derivative",
    ntf_method: str = "hals",
    smooth: int = 3,
    min_samples: int = 3,
    align: str = "start",
    n_restarts: int | None = None,
    n_iter_max: int = 200,
    tol: float = 1e-6,
    batch: int | None = None,
    n_threads: int | None = 1,
    resolution: float = 1.0,
    n_seeds: int = 5,
    epochs: Any = None,
    keep_affinity: bool = False,
    progress: bool = False,
    scheduler: Any = None,
) -> xr.Dataset:
    """Dynamic functional connectome of stacked worms: affinities -> NTF -> communities.

    Parameters
    ----------
    activity : xarray.DataArray or xarray.Dataset
        Dims (worm, time, neuron), NaN for unrecorded neurons; per-worm clocks in a
        ``timestamps`` (worm, time) coordinate, or a shared ``time`` coordinate.
    rank : int or sequence of int
        Components, or candidate ranks (see [`ntf`][]).
    window : float
        Sliding-window length in seconds.
    seed : int
        Seed of the NTF initialisation and of the Louvain runs.
    step : float, optional
        Window step in seconds (default ``window``).
    affinity_method : str
        See [`affinity`][] (``"derivative"``, ``"correlation"``, ``"abs_correlation"``).
    ntf_method : str
        ``"hals"`` or ``"mu"`` (see [`ntf`][]).
    smooth, min_samples, align :
        See [`affinity`][].
    n_restarts, n_iter_max, tol, batch, n_threads :
        See [`ntf`][].
    resolution : float
        Louvain modularity resolution.
    n_seeds : int
        Louvain runs per component (stability across seeds).
    epochs : annotations, optional
        Experimental epochs (``onset``, ``duration``, ``label``, seconds on the
        windows' clock), stored with the result for the timeline figure.
    keep_affinity : bool
        Also return the affinity tensor (window, worm, pair) (large).
    progress : bool
        Progress bars.
    scheduler : None, str, distributed.Client or cluster
        Where the affinities (one task per worm) and the NTF fits run; see
        [`affinity`][].

    Returns
    -------
    xarray.Dataset
        ``time_course`` (component, window), ``worm_loading`` (component, worm),
        ``pair_loading`` (component, pair), ``weight`` (component), ``community``
        (component, neuron), ``modularity``, ``n_communities`` and ``stability``
        (component); coordinates ``window_start``/``window_stop`` (s),
        ``neuron_i``/``neuron_j``; parameters in attrs.
    """
    aff = affinity(
        activity,
        window,
        step=step,
        method=affinity_method,
        smooth=smooth,
        min_samples=min_samples,
        align=align,
        progress=progress,
        scheduler=scheduler,
    )
    result = ntf(
        aff,
        rank,
        method=ntf_method,
        seed=seed,
        n_restarts=n_restarts,
        n_iter_max=n_iter_max,
        tol=tol,
        batch=batch,
        n_threads=n_threads,
        progress=progress,
        scheduler=scheduler,
    )
    comms = detect_communities(
        result["pair_loading"].fillna(0.0), resolution=resolution, n_seeds=n_seeds, seed=seed
    )
    result = result.assign(
        community=comms["community"].assign_coords(neuron=comms["neuron"]),
        modularity=comms["modularity"],
        n_communities=comms["n_communities"],
        stability=comms["stability"],
    )
    if keep_affinity:
        result["affinity"] = aff
    if epochs is not None:
        ann = as_annotations(epochs, name="epochs")
        result = result.assign({f"epoch_{k}": ann[k] for k in ("onset", "duration", "label")})
    result.attrs.update(
        affinity_method=affinity_method,
        window=float(window),
        step=float(aff.attrs["step"]),
        smooth=int(smooth),
        min_samples=int(min_samples),
        align=align,
        resolution=float(resolution),
        n_seeds=int(n_seeds),
    )
    src = activity.attrs.get("source") if hasattr(activity, "attrs") else None
    if src:
        result.attrs["source"] = src
    return append_history(
        result,
        f"dynamic_connectome(rank={result.attrs['rank']}, window={window:g} s, "
        f"affinity={affinity_method}, ntf={ntf_method}, seed={seed})",
    )
