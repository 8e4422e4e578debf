"""Brennan et al. (2016) *Alice in Wonderland* fMRI: ROI time courses, words and regressors.

Participants listened to chapter 1 of *Alice's Adventures in Wonderland*
(about 12 min) in the scanner. The release holds, per subject, 362 volumes
(TR 2 s) of six left/right temporal and frontal language ROIs, the word
alignment of the audiobook (a Praat TextGrid), per-subject word-rate,
sound-power and head-motion regressors, and 12 linguistic predictors.

Clock. The audio starts with 20 s of silence padding (README_stimuli.txt)
and the ten first volumes of each run were discarded (README.txt): with the
scanner and the audio started together, the retained volume ``n`` was acquired
``20 + 2 n`` seconds after audio onset. ``time`` is that scanner/audio clock,
so the TextGrid's word times are used as they are. The check: word onsets
counted per volume and convolved with the SPM canonical HRF correlate with the
release's own word-rate regressor at r ≈ 0.99 for every subject (stored in
``alignment_r``); shifting by one volume either way drops r below 0.85. The
motion and linguistic-predictor files cover all 372 acquired volumes; their
first ten rows are dropped to match.

Reference: Brennan, J. R., Stabler, E. P., Van Wagenen, S. E., Luh, W.-M., &
Hale, J. T. (2016). Abstract linguistic structure correlates with temporal
activity during naturalistic comprehension. *Brain and Language*, 157-158,
81-94. Data: CC BY 4.0 (cite the paper).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError, NotFoundError
from ..io import load
from ..schema import append_history, validate, with_provenance
from ._root import find_folder

__all__ = ["ALICE_PREDICTORS", "ALICE_ROIS", "find_alice", "load_alice"]

#: The six ROIs, in the column order of the time-course files (README.txt).
ALICE_ROIS = ("LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG")

#: The 12 linguistic predictors of sept18-generic-predictors-... (README.txt).
ALICE_PREDICTORS = (
    "rate_conv",
    "frq_conv_orth",
    "break_conv_orth",
    "tdp_conv_orth",
    "tdx_conv_orth",
    "bup_conv_orth",
    "bux_conv_orth",
    "cfgsurp_conv_orth",
    "bigramlex_conv_orth",
    "trigramlex_conv_orth",
    "bigrampos_conv_orth",
    "trigrampos_conv_orth",
)

TR = 2.0
N_VOLUMES = 362
DISCARDED_VOLUMES = 10
TEXTGRID = "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid"
PREDICTORS = "sept18-generic-predictors-under-hrf-with-logfrqhal.txt"
_MOTION = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")

_SOURCE = (
    "the ROI time courses shared by J. Brennan with Brennan et al. (2016, Brain & Language "
    "157-158:81-94; CC BY 4.0), e.g. the 'alice_*_shared' files of github.com/daandouwe/Thesis "
    "(brain-data/syntax-in-rnng),"
)


def find_alice(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of the Alice release.

    Nothing is downloaded: the folder is the first of the data root itself,
    ``<root>/language/alice`` and ``<root>/alice`` that holds the audiobook's word
    alignment, ``DownTheRabbitHoleFinal_exp120_pad_1.TextGrid``.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        The release folder itself, or a data folder holding ``language/alice``
        (or ``alice``). Default: the environment variable ``NEURODATA_DATA``.

    Returns
    -------
    pathlib.Path
        The release folder, to pass on to [`load_alice`][] as ``data_dir``.

    Raises
    ------
    NotFoundError
        When no data root is given or none of the three folders holds the TextGrid;
        the message names the root, the folders looked in and where to get the files.
    """
    return find_folder(data_dir, "Alice fMRI dataset", _SOURCE, TEXTGRID,
                       ("", "language/alice", "alice"))  # fmt: skip


def _subject_ids(root: Path, radius: int) -> tuple[Path, list[str]]:
    folder = root / f"timecourses_{radius}mm"
    if not folder.is_dir():
        available = sorted(p.name for p in root.glob("timecourses_*mm"))
        raise NotFoundError(f"{root}: no folder timecourses_{radius}mm; found {available}")
    ids = sorted(
        m.group(1)
        for p in folder.iterdir()
        if (m := re.fullmatch(r"(s\d+)-timecourses\.txt", p.name))
    )
    return folder, ids


def _normalise_subjects(
    subjects: Sequence[str | int] | str | int | None, available: list[str]
) -> list[str]:
    if subjects is None:
        return available
    if isinstance(subjects, str | int):
        subjects = [subjects]
    wanted = []
    for s in subjects:
        sid = f"s{int(s):02d}" if isinstance(s, int) or str(s).isdigit() else str(s)
        if sid not in available:
            raise NotFoundError(f"Alice fMRI dataset: no subject {s!r}; available: {available}")
        wanted.append(sid)
    return wanted


def _column(path: Path, n_rows: int, skip: int = 0, n_cols: int = 1) -> np.ndarray:
    """Rows [skip:skip + n_rows] of a numeric text file; missing rows at the end are NaN."""
    try:
        values = np.loadtxt(path, ndmin=2)
    except ValueError as exc:
        raise FormatError(f"{path.name}: not a numeric table: {exc}") from None
    if values.shape[1] != n_cols:
        raise FormatError(f"{path.name}: {values.shape[1]} columns; expected {n_cols}")
    values = values[skip:]
    if values.shape[0] < n_rows:
        warnings.warn(
            f"{path.name}: {values.shape[0] + skip} rows; expected {n_rows + skip} "
            f"(one per acquired volume): the last {n_rows - values.shape[0]} are set to NaN",
            stacklevel=3,
        )
        values = np.vstack([values, np.full((n_rows - values.shape[0], n_cols), np.nan)])
    elif values.shape[0] > n_rows:
        raise FormatError(f"{path.name}: {values.shape[0] + skip} rows; expected {n_rows + skip}")
    return values


def _canonical_hrf(dt: float, length: float = 32.0) -> np.ndarray:
    """SPM's canonical haemodynamic response (double gamma: peaks 6 s and 16 s, ratio 1/6)."""
    t = np.arange(0.0, length, dt)

    def gamma_pdf(shape: float) -> np.ndarray:
        return t ** (shape - 1) * np.exp(-t) / math.gamma(shape)

    hrf = gamma_pdf(6.0) - gamma_pdf(16.0) / 6.0
    return hrf / hrf.sum()


def word_rate_regressor(onsets: np.ndarray, times: np.ndarray, *, dt: float = 0.1) -> np.ndarray:
    """Word onsets (s) as a rate convolved with the canonical HRF, sampled at ``times`` (s)."""
    grid = np.arange(0.0, times[-1] + dt, dt)
    counts = np.bincount(np.round(onsets / dt).astype(int), minlength=grid.size)[: grid.size]
    response = np.convolve(counts.astype(float), _canonical_hrf(dt))[: grid.size]
    return response[np.clip(np.round(times / dt).astype(int), 0, grid.size - 1)]


def load_alice(
    data_dir: str | os.PathLike | None = None,
    subjects: Sequence[str | int] | str | int | None = None,
    *,
    radius: int = 6,
    silence: str = "drop",
) -> xr.Dataset:
    """Load the Brennan et al. (2016) *Alice* fMRI release (never downloads it).

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        The release folder, or a folder holding ``language/alice``; default
        ``$NEURODATA_DATA`` (see [`find_alice`][]).
    subjects : str, int or sequence, optional
        Subject ids (``"s18"`` or ``18``); default all.
    radius : int
        ROI radius in mm: the release's ``timecourses_<radius>mm`` folder.
    silence : {"drop", "keep"}
        Silence intervals of the TextGrid ("sp"): dropped, or kept with ``is_word``.

    Returns
    -------
    xarray.Dataset
        - ``bold(subject, time, parcel)``: ROI time courses; 362 volumes at TR 2 s,
          ``time`` on the scanner/audio clock (first retained volume at 20 s);
        - coordinate ``valid(subject)``: False for subjects whose time courses
          are all zero (s33 in the release; excluded by the source). Their
          ``bold`` is NaN (missing, not zero) and a warning names them: select
          ``ds.sel(subject=ds.valid)`` before fitting anything;
        - words along ``word``: ``text``, ``onset``, ``offset`` (s) on the same clock;
        - per subject ``word_rate``, ``sound_power`` and motion ``trans_x/y/z`` (m),
          ``rot_x/y/z`` (rad) along ``(subject, time)``;
        - ``predictors(time, feature)``: the 12 linguistic predictors (convolved);
        - ``alignment_r(subject)``: correlation of the words' HRF-convolved rate
          with the subject's word-rate regressor (the alignment check).
    """
    root = find_alice(data_dir)
    folder, available = _subject_ids(root, radius)
    ids = _normalise_subjects(subjects, available)
    words = load(root / TEXTGRID, format="textgrid", silence=silence)
    regressors = root / "subject_regressors"
    first = DISCARDED_VOLUMES * TR
    bold, rate, power, motion = [], [], [], []
    for sid in ids:
        series = load(
            folder / f"{sid}-timecourses.txt",
            format="parcellated-table",
            tr=TR,
            orientation="time-by-region",
            names=list(ALICE_ROIS),
        )["bold"]
        if series.sizes["time"] != N_VOLUMES:
            raise FormatError(
                f"{sid}-timecourses.txt: {series.sizes['time']} volumes; expected {N_VOLUMES}"
            )
        bold.append(series.values)
        rate.append(_column(regressors / f"{sid}-rate.txt", N_VOLUMES)[:, 0])
        power.append(_column(regressors / f"{sid}-sndpwr.txt", N_VOLUMES)[:, 0])
        rp = sorted(regressors.glob(f"{sid}-rp_*.txt"))
        if len(rp) != 1:
            raise FormatError(
                f"{regressors}: expected one motion file {sid}-rp_*.txt; found {len(rp)}"
            )
        motion.append(_column(rp[0], N_VOLUMES, skip=DISCARDED_VOLUMES, n_cols=6))
    bold_arr = np.stack(bold)
    valid = ~np.all(bold_arr == 0, axis=(1, 2))
    if not valid.all():
        bad = [s for s, ok in zip(ids, valid) if not ok]
        warnings.warn(
            f"Alice fMRI dataset: subject(s) {bad} have all-zero ROI time courses (excluded by "
            "the source); their bold is NaN and valid=False: use ds.sel(subject=ds.valid)",
            stacklevel=2,
        )
        bold_arr[~valid] = np.nan
    times = first + TR * np.arange(N_VOLUMES)
    rate_arr = np.stack(rate)
    expected = word_rate_regressor(np.asarray(words["onset"]), times)
    alignment = np.array([np.corrcoef(expected, r)[0, 1] for r in rate_arr])
    motion_arr = np.stack(motion)
    predictors = _column(root / PREDICTORS, N_VOLUMES, skip=DISCARDED_VOLUMES, n_cols=12)
    sub_time = ("subject", "time")
    data = {
        "bold": (
            ("subject", "time", "parcel"),
            bold_arr,
            {"long_name": f"BOLD in {radius} mm ROIs (scanner intensity, dimensionless)"},
        ),
        "word_rate": (sub_time, rate_arr, {"long_name": "word rate convolved with the HRF"}),
        "sound_power": (
            sub_time,
            np.stack(power),
            {"long_name": "sound power convolved with the HRF"},
        ),
        "predictors": (("time", "feature"), predictors, {"long_name": "linguistic predictors"}),
        "alignment_r": (
            "subject",
            alignment,
            {"long_name": "r(HRF-convolved TextGrid word onsets, word_rate)"},
        ),
    }
    for n, name in enumerate(_MOTION):
        scale, units = (1e-3, "m") if name.startswith("trans") else (1.0, "rad")
        data[name] = (
            sub_time,
            motion_arr[:, :, n] * scale,
            {"units": units, "long_name": f"head motion {name} (SPM realignment)"},
        )
    ds = xr.Dataset(
        data,
        coords={
            "subject": list(ids),
            "valid": ("subject", valid),
            "time": ("time", times, {"units": "s"}),
            "parcel": list(ALICE_ROIS),
            "feature": list(ALICE_PREDICTORS),
            **{name: words[name].variable for name in words.coords},
        },
        attrs={
            "sfreq": 1 / TR,
            "repetition_time": TR,
            "discarded_volumes": DISCARDED_VOLUMES,
            "clock": "seconds from the start of the audio and of the scan (first retained volume at 20 s)",
            "reference": "Brennan et al. (2016) Brain and Language 157-158:81-94",
            "license": "CC BY 4.0",
        },
    )
    low = [s for s, r, ok in zip(ids, alignment, valid) if ok and not r > 0.95]
    if low:
        warnings.warn(
            f"Alice fMRI dataset: words and word-rate regressor disagree for {low} "
            f"(r = {[round(float(r), 3) for s, r in zip(ids, alignment) if s in low]}); "
            "check the files",
            stacklevel=2,
        )
    ds = with_provenance(ds, source=root, source_format="alice-brennan2016")
    ds = append_history(
        ds, f"load_alice: {len(ids)} subject(s), {radius} mm ROIs, {words.sizes['word']} words"
    )
    return validate(ds, "timeseries", name="Alice fMRI dataset")
