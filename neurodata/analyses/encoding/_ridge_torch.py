"""The torch backend of the cross-validation loop of `._ridge.ridge_cv_arrays`.

The decompositions (float64, small) stay in numpy; the large products over
targets (projections and the per-alpha predictions) run in torch on ``device``
(CPU here, CUDA when present). Imported only when ``backend="torch"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._compat import require
from ..._progress import progress


def _scores(torch: Any, name: str, y: Any, pred: Any) -> Any:
    f64 = torch.float64
    if name == "neg_mse":
        diff = y - pred
        return -(diff * diff).sum(0, dtype=f64) / y.shape[0]
    if name == "r2":
        sse = ((y - pred) ** 2).sum(0, dtype=f64)
        sst = ((y - y.mean(0, keepdim=True)) ** 2).sum(0, dtype=f64)
        return 1.0 - sse / sst
    yc = y - y.mean(0, keepdim=True)
    pc = pred - pred.mean(0, keepdim=True)
    num = (yc * pc).sum(0, dtype=f64)
    return num / torch.sqrt((yc * yc).sum(0, dtype=f64) * (pc * pc).sum(0, dtype=f64))


def cv_scores(
    Xd: np.ndarray,
    Y: np.ndarray,
    alphas_sorted: np.ndarray,
    bases: list,
    *,
    score: str,
    batches: list[slice],
    dtype: np.dtype,
    device: str | None,
    show_progress: bool,
) -> np.ndarray:
    """Mean CV score (n_alphas, n_targets) of every alpha, computed in torch."""
    torch = require("torch", "models", purpose="the torch backend of ridge_cv")
    tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    device = device or "cpu"

    def T(a: np.ndarray, dt: Any = tdtype) -> Any:
        return torch.as_tensor(np.ascontiguousarray(a), device=device).to(dt)

    def idx(a: np.ndarray) -> Any:
        return torch.as_tensor(a, dtype=torch.long, device=device)

    Xt = T(Xd)
    folds = [
        dict(
            train=idx(b.train),
            test=idx(b.test),
            excluded=idx(b.excluded),
            n_train=len(b.train),
            n_excluded=len(b.excluded),
            V=T(b.vectors),
            W=T(b.W),
            dual=b.dual,
            centred=b.centred,
            mean_x=T(b.mean_x, torch.float64),
            eig=T(b.eigvals, torch.float64),
            ones=None if b.ones_proj is None else T(b.ones_proj, torch.float64),
        )
        for b in bases
    ]
    use_xty = not all(f["dual"] for f in folds)
    mean_scores = np.zeros((len(alphas_sorted), Y.shape[1]))
    with torch.no_grad():
        for batch in progress(
            batches, desc="ridge_cv (torch)", enabled=show_progress, unit="batch"
        ):
            Yb = T(Y[:, batch])
            sum_y = Yb.sum(0, dtype=torch.float64)
            XtY = Xt.T @ Yb if use_xty else None
            for f in folds:
                n_train = f["n_train"]
                if f["dual"]:
                    Ytr = Yb[f["train"]]
                    Q = f["V"].T @ Ytr
                    mean_y = Ytr.mean(0, dtype=torch.float64)
                    if f["centred"]:
                        Q -= torch.outer(f["ones"], mean_y).to(tdtype)
                else:
                    if XtY is not None and f["n_excluded"] < n_train:
                        Yex = Yb[f["excluded"]]
                        mean_y = (sum_y - Yex.sum(0, dtype=torch.float64)) / n_train
                        XtrY = XtY - Xt[f["excluded"]].T @ Yex
                    else:
                        Ytr = Yb[f["train"]]
                        mean_y = Ytr.mean(0, dtype=torch.float64)
                        XtrY = Xt[f["train"]].T @ Ytr
                    if f["centred"]:
                        XtrY -= (n_train * torch.outer(f["mean_x"], mean_y)).to(tdtype)
                    Q = f["V"].T @ XtrY
                if not f["centred"]:
                    mean_y = torch.zeros_like(mean_y)
                Yte = Yb[f["test"]] - mean_y.to(tdtype)
                for i, alpha in enumerate(alphas_sorted):
                    FQ = Q * (1.0 / (f["eig"] + float(alpha))).to(tdtype)[:, None]
                    pred = f["W"] @ FQ
                    mean_scores[i, batch] += _scores(torch, score, Yte, pred).cpu().numpy()
    return mean_scores / len(folds)
