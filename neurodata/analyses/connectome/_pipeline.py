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
3. [`detect_communities`][]: consensus Louvain communities of each component's pair
   graph over seeds and a range of resolutions, with the co-assignment of every pair.
4. [`compare_structure`][]: each component against an anatomical connectome,
   against a degree-preserving null.

[`dynamic_connectome`][] runs 1-3 in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._distributed import run_tasks
from ..._registry import check_int, check_seed, pick
from ...errors import SchemaError
from ...schema import append_history, as_annotations, as_dataarray
from ._communities import DEFAULT_RESOLUTIONS, detect_communities
from ._ntf import NTF_METHODS, factor_similarity, fit_ntf, observed_slices
from ._windows import affinity

__all__ = ["dynamic_connectome", "ntf"]


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
    blas_threads: int | None = 1,
    progress: bool | None = None,
    scheduler: Any = None,
) -> xr.Dataset:
    """Non-negative CP decomposition of an affinity tensor (window, worm, pair).

    The tensor is approximated by a sum of ``rank`` non-negative rank-one components,
    with tensorly's updates run over chunks of pairs (no unfolding, no float64 copy);
    NaN entries are imputed from the current model before each update (EM) and the
    error is measured on the observed entries only. Step 2 of [`dynamic_connectome`][],
    between [`affinity`][] and [`detect_communities`][].

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
    blas_threads : int or None
        BLAS threads during the fit (default 1; None: ``nd.config``, else no limit).
        The products have only ``rank`` columns, so threads help little and contend
        on busy machines.
    progress : bool, optional
        Show a progress bar over fits (None: ``nd.config``).
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
    update = pick(NTF_METHODS, method, "method")
    progress = resolve("progress", progress)
    scheduler = resolve("scheduler", scheduler)
    ranks = [rank] if np.isscalar(rank) else list(rank)
    if not ranks or any(not float(r).is_integer() or int(r) < 1 for r in ranks):
        raise SchemaError(f"`rank` must be a positive integer or a list of them; got {rank!r}")
    ranks = sorted({int(r) for r in ranks})
    restarts = int(n_restarts) if n_restarts is not None else (1 if len(ranks) == 1 else 3)
    restarts = check_int(restarts, "n_restarts", minimum=1)
    seed = check_seed(seed)
    da = as_dataarray(affinities, dims=("window", "worm", "pair"), name="affinities")
    da = da.transpose("window", "worm", "pair")
    data = np.asarray(da.values)
    data = data if data.dtype == np.float32 else data.astype(np.float32)
    if np.nanmin(data, initial=0.0) < 0:
        raise SchemaError("affinities: hold negative values; NTF needs a non-negative tensor")
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
                       blas_threads=resolve("blas_threads", blas_threads),
                       index=index)  # fmt: skip
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
    """One NTF fit (a task): `fit_ntf` with the tensor passed by keyword."""
    return fit_ntf(data, rank, seed=seed, **options)


def dynamic_connectome(
    activity: Any,
    rank: int | Sequence[int] = 5,
    window: float | None = None,
    *,
    seed: int = 0,
    step: float | None = None,
    affinity_method: str = "derivative_correlation",
    ntf_method: str = "hals",
    smooth: int = 3,
    min_samples: int = 3,
    align: str = "start",
    n_restarts: int | None = None,
    n_iter_max: int = 200,
    tol: float = 1e-6,
    batch: int | None = None,
    blas_threads: int | None = 1,
    resolution: float | Sequence[float] = DEFAULT_RESOLUTIONS,
    n_seeds: int = 4,
    epochs: Any = None,
    keep_affinity: bool = False,
    progress: bool | None = None,
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
    window : float, optional
        Sliding-window length in seconds; default set from the data (see
        [`affinity`][]), recorded in ``attrs["window"]`` with ``window_rule`` and
        ``time_scale``.
    seed : int
        Seed of the NTF initialisation and of the Louvain runs.
    step : float, optional
        Window step in seconds (default ``window``).
    affinity_method : str
        See [`affinity`][] (default ``"derivative_correlation"``).
    ntf_method : str
        ``"hals"`` or ``"mu"`` (see [`ntf`][]).
    smooth, min_samples, align :
        See [`affinity`][].
    n_restarts, n_iter_max, tol, batch, blas_threads :
        See [`ntf`][].
    resolution : float or sequence of float
        Louvain modularity resolution(s): communities are the consensus over all
        of them and ``n_seeds`` seeds (see [`detect_communities`][]).
    n_seeds : int
        Louvain seeds per resolution.
    epochs : annotations, optional
        Experimental epochs (``onset``, ``duration``, ``label``, seconds on the
        windows' clock), stored with the result for the timeline figure.
    keep_affinity : bool
        Also return the affinity tensor (window, worm, pair) (large).
    progress : bool, optional
        Progress bars (None: ``nd.config``).
    scheduler : None, str, distributed.Client or cluster
        Where the affinities (one task per worm) and the NTF fits run; see
        [`affinity`][].

    Returns
    -------
    xarray.Dataset
        ``time_course`` (component, window), ``worm_loading`` (component, worm),
        ``pair_loading`` (component, pair), ``weight`` (component), ``community``
        (component, neuron), ``coassignment`` (component, neuron, neuron_2),
        ``community_stability`` (component, neuron), ``modularity``,
        ``n_communities`` and ``stability`` (component); coordinates
        ``window_start``/``window_stop`` (s), ``neuron_i``/``neuron_j``; parameters
        in attrs.
    """
    progress = resolve("progress", progress)
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
        blas_threads=blas_threads,
        progress=progress,
        scheduler=scheduler,
    )
    comms = detect_communities(
        result["pair_loading"].fillna(0.0),
        resolution=resolution,
        n_seeds=n_seeds,
        seed=seed,
        progress=progress,
    )
    result = result.assign({name: comms[name] for name in comms.data_vars}).assign_coords(
        neuron=comms["neuron"]
    )
    if keep_affinity:
        result["affinity"] = aff
    if epochs is not None:
        ann = as_annotations(epochs, name="epochs")
        result = result.assign({f"epoch_{k}": ann[k] for k in ("onset", "duration", "label")})
    window = aff.attrs["window"]
    result.attrs.update(
        affinity_method=affinity_method,
        window=float(window),
        step=float(aff.attrs["step"]),
        smooth=int(smooth),
        min_samples=int(min_samples),
        align=align,
        **{k: aff.attrs[k] for k in ("window_rule", "time_scale") if k in aff.attrs},
        **{k: v for k, v in comms.attrs.items() if k != "seed"},
    )
    src = activity.attrs.get("source") if hasattr(activity, "attrs") else None
    if src:
        result.attrs["source"] = src
    return append_history(
        result,
        f"dynamic_connectome(rank={result.attrs['rank']}, window={window:g} s, "
        f"affinity={affinity_method}, ntf={ntf_method}, seed={seed})",
    )
