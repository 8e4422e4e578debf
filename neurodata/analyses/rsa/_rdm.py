"""Representational similarity analysis: RDMs from labelled patterns, and RDM comparison.

[`rdm`][] turns patterns ``(condition, feature)`` -- with any extra dims such as
``layer``, ``time`` or ``subject``, which broadcast -- into representational
dissimilarity matrices ``(..., condition, condition_2)``. [`compare`][] compares
two sets of RDMs with a choice of similarity measures, batched: every RDM is
vectorised (and, for rank-based measures, ranked) exactly once. Inference
(noise ceilings, bootstrap, permutation tests) lives in
[`neurodata.analyses.rsa_inference`][].

Definitions follow rsatoolbox 0.3.2 where they agree (see ``docs/rsa.md``):
distances are divided by the number of features, ``'euclidean'`` is squared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..._config import resolve
from ..._distributed import chunk_extra_dims, compute
from ..._registry import pick as _pick
from ...errors import SchemaError
from ...schema import unit_dims, validate
from ._compare_methods import COMPARE_METHODS, compare_vectors, rank
from ._rdm_methods import NOISE_METHODS, RDM_KERNELS, noise_covariance

__all__ = [
    "COMPARE_METHODS",
    "RDM_METHODS",
    "as_patterns",
    "as_rdms",
    "compare_vectors",
    "noise_precision",
    "rank",
    "rdm",
    "to_vectors",
]

#: RDM methods: name -> numpy kernel (see `neurodata.analyses._rdm_methods`).
RDM_METHODS: Mapping[str, Callable[..., np.ndarray]] = {k: v[0] for k, v in RDM_KERNELS.items()}

# --------------------------------------------------------------------------------------
# coercion gates
# --------------------------------------------------------------------------------------


def as_patterns(
    data: Any, dim: str = "condition", feature_dim: str | None = None, *, name: str | None = None
) -> tuple[xr.DataArray, str]:
    """Validate patterns and find their feature dim.

    Parameters
    ----------
    data : xarray.DataArray or xarray.Dataset
        Patterns with dims (`dim`, `feature_dim`) and any others. A Dataset must
        hold one data variable.
    dim : str
        The condition dim (rows/columns of the RDM).
    feature_dim : str, optional
        The feature dim; by default the one dim of ``data`` among
        ``feature, unit, voxel, channel, neuron, parcel, roi``.

    Returns
    -------
    (xarray.DataArray, str)
        The patterns and the name of their feature dim.
    """
    if isinstance(data, xr.Dataset):
        if len(data.data_vars) != 1:
            raise SchemaError(
                f"{name or 'patterns'}: a Dataset must hold one variable; got "
                f"{sorted(map(str, data.data_vars))}"
            )
        data = next(iter(data.data_vars.values()))
    if not isinstance(data, xr.DataArray):
        raise TypeError(
            f"{name or 'patterns'}: expected an xarray DataArray with dims ({dim!r}, <feature>); "
            f"got {type(data).__name__} (wrap arrays with xarray.DataArray(x, dims=...))"
        )
    where = name or (f"DataArray {data.name!r}" if data.name is not None else "patterns")
    if dim not in data.dims:
        raise SchemaError(f"{where}: has dims {data.dims}; expected a {dim!r} dim")
    if feature_dim is None:
        found = unit_dims(data.dims)
        if len(found) != 1:
            raise SchemaError(
                f"{where}: cannot tell the feature dim among {data.dims}; pass `feature_dim` "
                f"(one of the dims; found candidates {found})"
            )
        feature_dim = found[0]
    elif feature_dim not in data.dims:
        raise SchemaError(f"{where}: `feature_dim` {feature_dim!r} is not one of {data.dims}")
    validate(data, name=where)
    return data, feature_dim


def as_rdms(
    rdms: Any, dim: str | None = None, *, name: str | None = None
) -> tuple[xr.DataArray, str]:
    """Validate RDM(s) with dims (..., `dim`, `dim`_2); returns them and `dim`.

    ``dim`` defaults to the one dim ``d`` of ``rdms`` for which ``d + '_2'`` is also a dim.
    """
    where = name or "rdms"
    if not isinstance(rdms, xr.DataArray):
        raise TypeError(f"{where}: expected an xarray DataArray of RDMs; got {type(rdms).__name__}")
    if dim is None:
        pairs = [str(d) for d in rdms.dims if f"{d}_2" in rdms.dims]
        if len(pairs) != 1:
            raise SchemaError(f"{where}: expected dims (..., <dim>, <dim>_2); found {rdms.dims}")
        dim = pairs[0]
    if dim not in rdms.dims or f"{dim}_2" not in rdms.dims:
        raise SchemaError(
            f"{where}: expected dims (..., {dim!r}, {dim + '_2'!r}); found {rdms.dims}"
        )
    if rdms.sizes[dim] != rdms.sizes[f"{dim}_2"]:
        raise SchemaError(f"{where}: dims {dim!r} and {dim + '_2'!r} differ in size")
    return rdms, dim


def to_vectors(rdms: xr.DataArray, dim: str) -> tuple[np.ndarray, xr.DataArray]:
    """Upper triangles (row-major, as ``scipy.spatial.distance.squareform``) of every RDM.

    Returns the ``(n_rdm, n_pair)`` float64 array and a template DataArray holding
    the extra dims (for labelling results).
    """
    core = (dim, f"{dim}_2")
    extra = [d for d in rdms.dims if d not in core]
    mats = np.asarray(rdms.transpose(*extra, *core).values, dtype=float)
    n = mats.shape[-1]
    iu = np.triu_indices(n, k=1)
    vectors = mats.reshape(-1, n, n)[:, iu[0], iu[1]]
    template = rdms.isel({dim: 0, f"{dim}_2": 0}, drop=True).transpose(*extra)
    return vectors, template


# --------------------------------------------------------------------------------------
# RDMs
# --------------------------------------------------------------------------------------


def noise_precision(
    residuals: xr.DataArray | np.ndarray,
    method: str = "shrinkage_diag",
    *,
    feature_dim: str | None = None,
    dof: float | None = None,
) -> np.ndarray:
    """Noise precision (inverse covariance) over features from residuals.

    Parameters
    ----------
    residuals : xarray.DataArray or numpy.ndarray
        Residuals with dims (..., `feature_dim`): all other dims are stacked as
        observations. Arrays are ``(n_residual, n_feature)``.
    method : str
        One of `NOISE_METHODS`: ``'shrinkage_diag'`` (Schäfer & Strimmer),
        ``'shrinkage_eye'`` (Ledoit & Wolf), ``'diag'``, ``'full'``. Same estimators
        as ``rsatoolbox.data.noise.prec_from_residuals``.
    dof : float, optional
        Degrees of freedom (default: number of residuals - 1).

    Returns
    -------
    numpy.ndarray
        ``(n_feature, n_feature)`` precision matrix.
    """
    _pick(NOISE_METHODS, method, "method")
    if isinstance(residuals, xr.DataArray):
        fdim = feature_dim or next(iter(unit_dims(residuals.dims)), None)
        if fdim is None:
            raise SchemaError(f"residuals: pass `feature_dim` (one of {residuals.dims})")
        others = [d for d in residuals.dims if d != fdim]
        r = residuals.transpose(*others, fdim).values.reshape(-1, residuals.sizes[fdim])
    else:
        r = np.asarray(residuals, dtype=float)
    return np.linalg.inv(noise_covariance(r, method, dof))


def _fold_precision(x: np.ndarray, method: str) -> np.ndarray:
    """Per-leading-index precision from residuals around the fold means of ``x`` (..., F, n, p)."""
    n_fold, n_cond, n_feat = x.shape[-3:]
    flat = x.reshape(-1, n_fold, n_cond, n_feat)
    out = np.empty((flat.shape[0], n_feat, n_feat))
    for i, xi in enumerate(flat):
        resid = (xi - xi.mean(axis=0, keepdims=True)).reshape(-1, n_feat)
        cov = noise_covariance(resid, method, dof=n_cond * (n_fold - 1))
        out[i] = np.linalg.inv(cov)
    return out.reshape(*x.shape[:-3], n_feat, n_feat)


def _kernel_call(
    x: np.ndarray,
    *,
    method: str,
    cv: bool,
    has_folds: bool,
    noise: Any,
    options: dict[str, Any],
) -> np.ndarray:
    kernel = RDM_METHODS[method]
    precision = None
    if isinstance(noise, str):
        precision = _fold_precision(x, noise)
    elif noise is not None:
        precision = noise
    if has_folds and not cv:
        x = x.mean(axis=-3)
    return kernel(x, precision=precision, **options)


def rdm(
    data: xr.DataArray,
    dim: str = "condition",
    method: str = "euclidean",
    *,
    feature_dim: str | None = None,
    folds: str | None = None,
    noise: Any = None,
    remove_mean: bool = False,
    prior_lambda: float = 1.0,
    prior_weight: float = 0.1,
    scheduler: Any = None,
) -> xr.DataArray:
    """Representational dissimilarity matrices.

    Parameters
    ----------
    data : xarray.DataArray
        Patterns with dims (`dim`, `feature_dim`), optionally a fold dim
        (`folds`), and any extra dims (``layer``, ``time``, ``subject`` ...),
        which broadcast: one RDM per combination. Dask-backed data stay lazy.
    dim : str
        Condition dim: the rows and columns of the RDMs.
    method : str
        One of `RDM_METHODS`:

        - ``'euclidean'``: squared Euclidean distance divided by the number of
          features (rsatoolbox's definition);
        - ``'correlation'``: 1 - Pearson correlation;
        - ``'cosine'``: 1 - cosine similarity;
        - ``'mahalanobis'``: squared Mahalanobis distance per feature, with
          precision `noise`;
        - ``'crossnobis'``: cross-validated squared Mahalanobis distance per
          feature (needs a fold dim), averaged over leave-one-fold-out splits;
        - ``'poisson'``: symmetrised KL divergence of Poisson rates (counts),
          with a prior ``prior_lambda``/``prior_weight``;
        - ``'poisson_cv'``: its cross-validated form (needs a fold dim).
    feature_dim : str, optional
        Feature dim (default: the one dim among ``feature, unit, voxel,
        channel, neuron, parcel, roi``).
    folds : str, optional
        Dim of independent measurements (e.g. ``'fold'`` or ``'run'``). Needed
        by the cross-validated methods (default ``'fold'`` for them); other
        methods average over it first.
    noise : array_like, xarray.DataArray or str, optional
        For ``'mahalanobis'``/``'crossnobis'``: a precision matrix
        ``(feature, feature)`` (as rsatoolbox's ``noise``; a DataArray may carry
        extra dims, broadcast like `data`), ``None`` for the identity (never
        materialised), or the name of an estimator in
        `NOISE_METHODS`
        (``'shrinkage_diag'`` ...) to estimate it from the residuals around the
        fold means (needs `folds`; dof = n_condition x (n_fold - 1)).
    remove_mean : bool
        Subtract each pattern's mean over features first (euclidean,
        mahalanobis, crossnobis).
    prior_lambda, prior_weight : float
        Prior of the Poisson methods.
    scheduler : None, str, distributed.Client or cluster
        Compute the RDMs on this dask scheduler (``"threads"``, ``"processes"``,
        a ``distributed.Client``, a cluster or a scheduler address) and return
        them in memory. The extra dims are split into tasks: by the data's own
        dask chunks, or for in-memory data into chunks of about 16 MiB, whole
        along `dim`, `feature_dim` and `folds`. None (default): the scheduler of
        ``neurodata.config``; without one, in this process, and dask-backed data stay lazy.

    Returns
    -------
    xarray.DataArray
        Dims (..., `dim`, `dim`_2), symmetric with a zero diagonal; the `dim`
        coordinate (if any) is copied to `dim`_2. attrs record ``method`` and
        its parameters.
    """
    _pick(RDM_METHODS, method, "method")
    cv = RDM_KERNELS[method][1]
    data, feature_dim = as_patterns(data, dim, feature_dim)
    if folds is None and cv:
        folds = "fold"
    if folds is not None and folds not in data.dims:
        raise SchemaError(
            f"patterns: method {method!r} needs a fold dim {folds!r} (pass `folds`); "
            f"found dims {data.dims}"
        )
    if isinstance(noise, str):
        _pick(NOISE_METHODS, noise, "noise")
        if folds is None:
            raise SchemaError(
                f"`noise`={noise!r} estimates the noise from residuals across folds; pass `folds`"
            )
    if noise is not None and method not in ("mahalanobis", "crossnobis"):
        raise SchemaError(
            f"`noise` applies to 'mahalanobis' and 'crossnobis'; got method {method!r}"
        )
    options: dict[str, Any] = {}
    if method in ("euclidean", "mahalanobis", "crossnobis"):
        options["remove_mean"] = remove_mean
    if method.startswith("poisson"):
        options.update(prior_lambda=prior_lambda, prior_weight=prior_weight)

    core = [folds, dim, feature_dim] if folds is not None else [dim, feature_dim]
    out_dim = f"{dim}_2"
    args: list[Any] = [data]
    in_core: list[list[Hashable]] = [core]
    noise_arg: Any = noise
    if noise is not None and not isinstance(noise, str):
        if isinstance(noise, xr.DataArray):
            ndims = [d for d in noise.dims if d not in data.dims or d == feature_dim]
            if len(ndims) != 2:
                raise SchemaError(
                    f"noise: expected two feature dims (e.g. ({feature_dim!r}, "
                    f"{feature_dim + '_2'!r})); found {noise.dims}"
                )
            args.append(noise)
            in_core.append(ndims)
            noise_arg = _FROM_ARGS
        else:
            prec = np.asarray(noise, dtype=float)
            p = data.sizes[feature_dim]
            if prec.shape != (p, p):
                raise SchemaError(
                    f"`noise` must be a ({p}, {p}) precision matrix over {feature_dim!r}; "
                    f"got shape {prec.shape}"
                )
            noise_arg = prec

    def kernel(x: np.ndarray, *rest: np.ndarray) -> np.ndarray:
        nz = rest[0] if noise_arg is _FROM_ARGS else noise_arg
        return _kernel_call(
            x, method=method, cv=cv, has_folds=folds is not None, noise=nz, options=options
        )

    scheduler = resolve("scheduler", scheduler)
    if scheduler is not None:
        data = chunk_extra_dims(data, core)
        args[0] = data
    if data.chunks is not None:
        n = data.sizes[dim]
        result = xr.apply_ufunc(
            kernel,
            *args,
            input_core_dims=in_core,
            output_core_dims=[[dim, out_dim]],
            dask="parallelized",
            output_dtypes=[float],
            dask_gufunc_kwargs={"output_sizes": {out_dim: n}, "allow_rechunk": True},
            keep_attrs=False,
        )
    else:
        result = xr.apply_ufunc(
            kernel, *args, input_core_dims=in_core, output_core_dims=[[dim, out_dim]]
        )
    if scheduler is not None:
        result = compute(result, scheduler)
    if dim in data.coords:
        result = result.assign_coords({out_dim: data.coords[dim].values})
    attrs = {
        "method": method,
        "long_name": f"{method} dissimilarity",
        "feature_dim": str(feature_dim),
        "n_feature": int(data.sizes[feature_dim]),
    }
    if folds is not None:
        attrs["folds"] = str(folds)
    if isinstance(noise, str):
        attrs["noise"] = noise
    elif noise is not None:
        attrs["noise"] = "given precision"
    for key, value in options.items():
        attrs[key] = int(value) if isinstance(value, bool) else value
    result.attrs = attrs
    return result.rename("rdm")


_FROM_ARGS = object()


# --------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------
