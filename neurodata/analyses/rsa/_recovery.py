"""Model recovery: can a comparison metric find the layer that generated the "brain"?

Han, Poggio & Cheung (2023) asked of brain-model comparisons: if we had the
right model, would we know? [`model_recovery`][] answers it for one's own
candidates and stimuli: a known layer, subsampled to ``n_units`` units and
corrupted by noise, plays the brain; RSA, CKA and encoding scores then rank
every candidate, and the confusion matrix shows how often each metric picks
the generating layer (and model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._progress import progress as _progress
from ..._registry import pick as _pick
from ...errors import SchemaError
from ._compare_methods import compare_vectors
from ._layers import layer_matrices
from ._rdm_methods import RDM_KERNELS

__all__ = ["RECOVERY_METRICS", "model_recovery"]


def _rsa_scores(brain: np.ndarray, cands: list[np.ndarray], ctx: dict) -> np.ndarray:
    kernel, iu = ctx["rdm_kernel"], ctx["iu"]
    if "cand_rdms" not in ctx:
        ctx["cand_rdms"] = np.stack([kernel(x)[iu] for x in cands])
    return compare_vectors(kernel(brain)[iu][None], ctx["cand_rdms"], ctx["rsa_method"])[0]


def _cka_scores(brain: np.ndarray, cands: list[np.ndarray], ctx: dict) -> np.ndarray:
    if "cand_grams" not in ctx:
        grams = []
        for x in cands:
            xc = x - x.mean(0)
            g = xc @ xc.T
            grams.append(g / np.linalg.norm(g))
        ctx["cand_grams"] = np.stack(grams)
    bc = brain - brain.mean(0)
    gb = bc @ bc.T
    gb /= np.linalg.norm(gb)
    return np.einsum("kij,ij->k", ctx["cand_grams"], gb)


def _encoding_scores(brain: np.ndarray, cands: list[np.ndarray], ctx: dict) -> np.ndarray:
    """Mean held-out Pearson r over the brain's units of a ridge from each candidate."""
    if "cand_svd" not in ctx:
        ctx["cand_svd"] = [[_fold_svd(x, tr) for tr, _ in ctx["folds"]] for x in cands]
    out = np.empty(len(cands))
    for c, per_fold in enumerate(ctx["cand_svd"]):
        pred = np.empty_like(brain)
        for (tr, te), (u, s, vt, mx) in zip(ctx["folds"], per_fold):
            pred[te] = _ridge_predict(u, s, vt, mx, brain[tr], cands[c][te], ctx["alphas"])
        out[c] = np.nanmean(_pearson(pred, brain))
    return out


def _fold_svd(x: np.ndarray, train: np.ndarray):
    mx = x[train].mean(0)
    u, s, vt = np.linalg.svd(x[train] - mx, full_matrices=False)
    return u, s, vt, mx


def _ridge_predict(u, s, vt, mx, ytr, xte, alphas):
    """Ridge with one alpha for all targets, chosen by efficient leave-one-out error.

    The criterion of scikit-learn's ``RidgeCV(alphas)`` (``cv=None``, intercept
    unpenalised): the mean over samples and targets of squared leave-one-out
    residuals ``(y - y_hat) / (1 - h_ii)``.
    """
    my = ytr.mean(0)
    yc = ytr - my
    uty = u.T @ yc
    n = u.shape[0]
    best, best_err = alphas[0], np.inf
    for a in alphas:
        f = s**2 / (s**2 + a)
        resid = yc - u @ (f[:, None] * uty)
        h = (u**2) @ f + 1.0 / n
        err = np.mean((resid / (1 - h)[:, None]) ** 2)
        if err < best_err:
            best, best_err = a, err
    coef = vt.T @ ((s / (s**2 + best))[:, None] * uty)
    return (xte - mx) @ coef + my


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a**2).sum(0) * (b**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(0) / den


#: Scores of a candidate against the simulated brain: higher = more similar.
RECOVERY_METRICS = {"rsa": _rsa_scores, "cka": _cka_scores, "encoding": _encoding_scores}


def _candidates(
    candidates: Any, dim: str
) -> tuple[list[str], list[str], list[np.ndarray], xr.DataArray]:
    """(model per candidate, layer per candidate, matrices, first patterns) of all candidates."""
    if isinstance(candidates, xr.DataArray):
        candidates = {str(candidates.attrs.get("model", candidates.name or "model")): candidates}
    elif isinstance(candidates, xr.Dataset):
        if "activation" in candidates.data_vars and len(candidates.data_vars) == 1:
            candidates = {str(candidates.attrs.get("model", "model")): candidates["activation"]}
        else:
            candidates = {str(k): v for k, v in candidates.data_vars.items()}
    if not isinstance(candidates, Mapping) or not candidates:
        raise SchemaError(
            "candidates: expected a DataArray (layer, stimulus, unit), a Dataset or a dict "
            f"{{model name: activation}}; got {type(candidates).__name__}"
        )
    models, layers, mats, first = [], [], [], None
    for model, acts in candidates.items():
        if isinstance(acts, xr.Dataset):
            acts = acts["activation"]
        names, found, data = layer_matrices(acts, dim, name=f"candidates[{model!r}]")
        first = data if first is None else first
        if data.sizes[dim] != first.sizes[dim]:
            raise SchemaError(
                f"candidates[{model!r}]: {data.sizes[dim]} stimuli; others have {first.sizes[dim]}"
            )
        models += [str(model)] * len(names)
        layers += [n or str(model) for n in names]
        mats += found
    return models, layers, mats, first


def model_recovery(
    candidates: Any,
    truth: Sequence[str] | str | None = None,
    *,
    metric: Sequence[str] | str = ("rsa", "cka", "encoding"),
    noise: float | Sequence[float] = 1.0,
    n_units: int = 50,
    n_draws: int = 20,
    dim: str = "stimulus",
    rsa_method: str = "spearman",
    rdm_method: str = "correlation",
    alphas: Sequence[float] = tuple(np.logspace(-2, 6, 9)),
    cv: int = 5,
    level: float = 0.05,
    seed: int = 0,
    progress: bool | None = None,
) -> xr.Dataset:
    """How often RSA, CKA and encoding pick the layer (and model) that generated a simulated brain.

    For each true candidate and draw: ``n_units`` of its units, drawn without
    replacement, each plus Gaussian noise of ``noise`` times that unit's
    standard deviation over stimuli, play the brain; every metric scores every
    candidate against it, and the best-scoring one is the metric's pick.

    Parameters
    ----------
    candidates : xarray.DataArray, xarray.Dataset or dict
        Candidate layers: activations (``layer``, `dim`, ``unit``) of one model
        (NaN-padded units are dropped), or ``{model name: activations}`` for
        several models over the same stimuli.
    truth : str or sequence of str, optional
        Layers that play the brain (names along ``candidate``, e.g.
        ``"_blocks.12"`` or ``"model/layer"``); default every candidate in turn.
    metric : str or sequence of str
        Among `RECOVERY_METRICS`: ``"rsa"`` (`rsa_method` between
        `rdm_method` RDMs), ``"cka"`` (linear CKA), ``"encoding"`` (mean
        held-out Pearson r over the brain's units of a ridge regression from the
        candidate, one penalty from `alphas` chosen by efficient leave-one-out
        error, as scikit-learn's ``RidgeCV``, inside each of `cv` shuffled
        folds over stimuli).
    noise : float or sequence of float
        Noise standard deviation relative to each unit's signal (1/SNR in
        amplitude); a sequence adds a ``noise`` dim.
    n_units : int
        Units of the true layer the "brain" records (all if the layer has fewer).
    n_draws : int
        Simulated brains per true candidate (and noise level).
    level : float
        Significance level of the binomial test against chance.
    seed : int
        Seed of the unit draws, the noise and the folds.

    Returns
    -------
    xarray.Dataset
        ``confusion`` (``noise``, ``metric``, ``truth``, ``chosen``): fraction of
        draws in which each candidate was picked; ``accuracy`` (``noise``,
        ``metric``): the true layer picked; ``model_accuracy``: the true model
        picked; ``p_value``: one-sided binomial test of the correct picks
        against chance (1 / the number of candidates); ``recovered`` (``noise``,
        ``metric``, ``truth``): that truth is picked in more than half of its
        draws; ``identifiable`` (``noise``, ``metric``): significant and every
        truth recovered; ``verdict`` (``noise``, ``metric``): a sentence saying
        whether the metric can tell the candidates apart. The ``noise`` dim is
        dropped for a scalar `noise`.
    """
    from scipy.stats import binomtest
    from sklearn.model_selection import KFold

    metrics = [metric] if isinstance(metric, str) else list(metric)
    for m in metrics:
        _pick(RECOVERY_METRICS, m, "metric")
    _pick(RDM_KERNELS, rdm_method, "rdm_method")
    for value, param, low in ((n_units, "n_units", 2), (n_draws, "n_draws", 1), (cv, "cv", 2)):
        if not isinstance(value, int | np.integer) or value < low:
            raise SchemaError(f"`{param}` must be an integer >= {low}; got {value!r}")
    noises = np.atleast_1d(np.asarray(noise, dtype=float))
    if noises.ndim != 1 or (noises < 0).any():
        raise SchemaError(f"`noise` must be >= 0; got {noise!r}")
    models, layers, mats, first = _candidates(candidates, dim)
    several = len(set(models)) > 1
    names = [f"{m}/{la}" if several else la for m, la in zip(models, layers)]
    if len(set(names)) != len(names):
        raise SchemaError(f"candidates: duplicate candidate names {names}")
    if len(names) < 2:
        raise SchemaError("candidates: model recovery needs at least 2 candidate layers")
    truths = names if truth is None else ([truth] if isinstance(truth, str) else list(truth))
    unknown = [t for t in truths if t not in names]
    if unknown:
        raise SchemaError(f"`truth` must be among the candidates {names[:6]}...; got {unknown}")
    n = first.sizes[dim]
    rng = np.random.default_rng(seed)
    ctx = {
        "rdm_kernel": RDM_KERNELS[rdm_method][0],
        "iu": np.triu_indices(n, k=1),
        "rsa_method": rsa_method,
        "folds": list(KFold(cv, shuffle=True, random_state=seed).split(np.arange(n))),
        "alphas": np.asarray(alphas, dtype=float),
    }
    picks = np.empty((noises.size, len(metrics), len(truths), n_draws), dtype=int)
    scores = np.empty((noises.size, len(metrics), len(truths), n_draws, len(names)))
    show = resolve("progress", progress)
    tasks = [(a, t) for a in range(noises.size) for t in range(len(truths))]
    for a, t in _progress(tasks, desc="model recovery", enabled=show, total=len(tasks)):
        source = mats[names.index(truths[t])]
        sd = source.std(0)
        for k in range(n_draws):
            units = rng.choice(source.shape[1], size=min(n_units, source.shape[1]), replace=False)
            signal = source[:, units]
            brain = signal + rng.standard_normal(signal.shape) * sd[units] * noises[a]
            for m, name in enumerate(metrics):
                s = RECOVERY_METRICS[name](brain, mats, ctx)
                scores[a, m, t, k] = s
                picks[a, m, t, k] = int(np.nanargmax(s))
    truth_idx = np.array([names.index(t) for t in truths])
    correct = picks == truth_idx[None, None, :, None]
    model_arr = np.asarray(models)
    model_ok = model_arr[picks] == model_arr[truth_idx][None, None, :, None]
    confusion = np.stack(
        [(picks == c).mean(-1) for c in range(len(names))], axis=-1
    )  # (noise, metric, truth, chosen)
    chance = 1.0 / len(names)
    n_trials = len(truths) * n_draws
    p = np.array(
        [
            [
                binomtest(int(correct[a, m].sum()), n_trials, chance, alternative="greater").pvalue
                for m in range(len(metrics))
            ]
            for a in range(noises.size)
        ]
    )
    accuracy = correct.mean((-1, -2))
    recovered = correct.mean(-1) > 0.5
    identifiable = (p < level) & recovered.all(-1)
    verdict = np.empty(accuracy.shape, dtype=object)
    for a in range(noises.size):
        for m, name in enumerate(metrics):
            acc = accuracy[a, m]
            if identifiable[a, m]:
                verdict[a, m] = (
                    f"{name}: identifies the generating layer (picked in {acc:.0%} of draws; "
                    f"chance {chance:.0%}) at noise {noises[a]:g}"
                )
            else:
                missed = [truths[t] for t in range(len(truths)) if not recovered[a, m, t]]
                verdict[a, m] = (
                    f"{name}: cannot identify the generating layer at noise {noises[a]:g}: the true "
                    f"layer is picked in {acc:.0%} of draws (chance {chance:.0%}, binomial "
                    f"p={p[a, m]:.2g}); not recovered: {missed[:4]}{' ...' if len(missed) > 4 else ''}"
                )
    coords = {
        "noise": noises,
        "metric": np.asarray(metrics, dtype=object),
        "truth": np.asarray(truths, dtype=object),
        "chosen": np.asarray(names, dtype=object),
        "draw": np.arange(n_draws),
        "chosen_model": ("chosen", np.asarray(models, dtype=object)),
        "chosen_layer": ("chosen", np.asarray(layers, dtype=object)),
    }
    out = xr.Dataset(
        {
            "confusion": (("noise", "metric", "truth", "chosen"), confusion),
            "score": (("noise", "metric", "truth", "draw", "chosen"), scores),
            "accuracy": (("noise", "metric"), accuracy),
            "model_accuracy": (("noise", "metric"), model_ok.mean((-1, -2))),
            "p_value": (("noise", "metric"), p),
            "recovered": (("noise", "metric", "truth"), recovered),
            "identifiable": (("noise", "metric"), identifiable),
            "verdict": (("noise", "metric"), verdict),
        },
        coords=coords,
        attrs={
            "chance": chance,
            "n_units": int(n_units),
            "n_draws": int(n_draws),
            "rsa_method": rsa_method,
            "rdm_method": rdm_method,
            "cv": int(cv),
            "level": float(level),
            "seed": int(seed),
        },
    )
    return out.squeeze("noise", drop=False) if np.ndim(noise) == 0 else out
