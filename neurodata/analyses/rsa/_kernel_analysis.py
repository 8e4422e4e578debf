"""Kernel analysis (Montavon, Braun & Müller 2011; the Neural Representation Benchmark).

How well a representation makes categories *simple*: the cross-validated loss of
a linear read-out of the labels from the first ``d`` kernel principal
components, as a function of ``d``. A representation whose categories are
captured by few leading components has a low curve (a small area under it).
Cadieu et al. (2014) compared IT cortex and deep networks this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..._registry import pick as _pick
from ...errors import SchemaError
from ._layers import layer_matrices

__all__ = ["KA_KERNELS", "kernel_analysis"]

#: Kernels of [`kernel_analysis`][].
KA_KERNELS = ("rbf", "linear")


def _gram(a: np.ndarray, b: np.ndarray, kernel: str, gamma: float) -> np.ndarray:
    if kernel == "linear":
        return a @ b.T
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-gamma * np.clip(sq, 0, None))


def _median_gamma(x: np.ndarray) -> float:
    """1 / the median squared distance between training patterns (the median heuristic)."""
    sq = (x**2).sum(1)[:, None] + (x**2).sum(1)[None, :] - 2 * x @ x.T
    med = np.median(sq[np.triu_indices(len(x), k=1)])
    return 1.0 / med if med > 0 else 1.0


def _fold_losses(
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    ds: np.ndarray,
    kernel: str,
    gamma: Any,
) -> np.ndarray:
    """Misclassification rate on `test` of least-squares read-outs on the first d kernel PCs."""
    xtr, xte = x[train], x[test]
    g = _median_gamma(xtr) if gamma == "median" else float(gamma)
    k = _gram(xtr, xtr, kernel, g)
    kt = _gram(xte, xtr, kernel, g)
    # centre in the training feature space (as sklearn's KernelCenterer)
    col = k.mean(0)
    kc = k - col[None, :] - col[:, None] + col.mean()
    ktc = kt - kt.mean(1, keepdims=True) - col[None, :] + col.mean()
    w, v = np.linalg.eigh(kc)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    keep = w > w[0] * 1e-10
    w, v = w[keep], v[:, keep]
    ztr = v * np.sqrt(w)
    zte = ktc @ (v / np.sqrt(w))
    classes = np.unique(y[train])
    onehot = (y[train][:, None] == classes[None, :]).astype(float)
    mean = onehot.mean(0)
    out = np.empty(ds.size)
    for i, d in enumerate(ds):
        d = min(int(d), ztr.shape[1])
        # the components are centred and orthogonal: least squares is a projection
        coef = (ztr[:, :d].T @ (onehot - mean)) / w[:d, None]
        pred = zte[:, :d] @ coef + mean
        out[i] = np.mean(classes[pred.argmax(1)] != y[test])
    return out


def kernel_analysis(
    activation: Any,
    labels: Any,
    *,
    dim: str = "stimulus",
    kernel: str = "rbf",
    gamma: float | str = "median",
    n_components: Sequence[int] | None = None,
    cv: int = 5,
    seed: int = 0,
) -> xr.Dataset:
    """Cross-validated classification loss against the number of kernel principal components.

    In each of ``cv`` stratified folds a kernel PCA is fitted to the training patterns
    (centred in feature space), the one-hot labels are regressed by least squares on its
    first ``d`` components, and each test pattern gets the class of its largest
    prediction. Categories read out from few leading components give a low curve: compare
    ``area`` across layers, and ``loss`` with ``chance``.

    Parameters
    ----------
    activation : xarray.DataArray
        Patterns, dims ([``layer``,] `dim`, ``unit``|``neuron``|...); NaN-padded
        units of narrower layers are dropped.
    labels : str or array_like
        The category of each condition: a coordinate name along `dim` (e.g.
        ``"category"`` or ``"animate"``) or an array of `dim`'s length.
    dim : str
        The condition dim.
    kernel : {"rbf", "linear"}
        Kernel of the kernel PCA.
    gamma : float or "median"
        RBF width, ``exp(-gamma |a - b|^2)``; "median": 1 / the median squared
        distance of each training set.
    n_components : sequence of int, optional
        Numbers of components ``d`` (default: 1 to the training-set size,
        geometric).
    cv : int
        Stratified folds (shuffled with `seed`).
    seed : int
        Seed of the fold assignment.

    Returns
    -------
    xarray.Dataset
        ``loss`` ([``layer``,] ``component``): mean held-out misclassification
        rate of a least-squares read-out of the one-hot labels from the first
        ``component`` kernel PCs; ``area`` ([``layer``]): the mean loss over the
        curve (on the ``log d`` axis; lower is simpler); ``chance`` (1 - the
        frequency of the commonest class). attrs record the parameters.
    """
    from sklearn.model_selection import StratifiedKFold

    _pick(KA_KERNELS, kernel, "kernel")
    if not (gamma == "median" or (isinstance(gamma, int | float) and gamma > 0)):
        raise SchemaError(f"`gamma` must be a positive number or 'median'; got {gamma!r}")
    names, mats, data = layer_matrices(activation, dim, name="activation")
    if isinstance(labels, str):
        if labels not in data.coords or data[labels].dims != (dim,):
            raise SchemaError(f"`labels`: no coordinate {labels!r} along {dim!r} on the activation")
        y = np.asarray(data[labels].values)
    else:
        y = np.asarray(labels)
    if y.shape != (data.sizes[dim],):
        raise SchemaError(
            f"`labels` must hold one label per {dim!r} ({data.sizes[dim]}); got shape {y.shape}"
        )
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2 or counts.min() < cv:
        raise SchemaError(
            f"`labels` need at least 2 classes with >= cv={cv} conditions each; got "
            f"{dict(zip(classes.tolist(), counts.tolist()))}"
        )
    folds = list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(mats[0], y))
    n_train = min(len(tr) for tr, _ in folds)
    ds = (
        np.unique(np.geomspace(1, n_train - 1, 16).round().astype(int))
        if n_components is None
        else np.asarray(n_components, dtype=int)
    )
    if ds.min() < 1:
        raise SchemaError(f"`n_components` must be >= 1; got {ds.tolist()}")
    loss = np.stack(
        [
            np.mean([_fold_losses(x, y, tr, te, ds, kernel, gamma) for tr, te in folds], axis=0)
            for x in mats
        ]
    )
    logd = np.log(ds)
    area = np.trapezoid(loss, logd, axis=-1) / (logd[-1] - logd[0]) if ds.size > 1 else loss[:, 0]
    has_layer = names != [""]
    lead = ("layer",) if has_layer else ()
    out = xr.Dataset(
        {
            "loss": ((*lead, "component"), loss if has_layer else loss[0]),
            "area": (lead, area if has_layer else area[0]),
            "chance": ((), 1 - counts.max() / counts.sum()),
        },
        coords={
            "component": ds,
            **({"layer": np.asarray(names, dtype=object)} if has_layer else {}),
        },
        attrs={
            "kernel": kernel,
            "gamma": str(gamma),
            "cv": int(cv),
            "seed": int(seed),
            "n_classes": int(classes.size),
        },
    )
    out["loss"].attrs["long_name"] = "held-out misclassification rate"
    return out
