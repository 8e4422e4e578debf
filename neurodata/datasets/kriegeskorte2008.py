"""Kriegeskorte et al. (2008) 92 object images with the monkey-IT and human-IT RDMs.

The release of the MATLAB RSA toolbox (``demos/92imageData`` of
rsagroup/rsatoolbox) holds the 92 images (175 x 175 RGB on a grey background),
their category flags and vectors, and the RDMs of Figure 1: 674 monkey IT
neurons (Kiani et al. 2007) and 316 human IT voxels (fMRI), as upper-triangle
vectors; ``92_modelRDMs.mat`` adds 8 model RDMs (animacy, category, the monkey
IT RDM again as a square matrix, EVA, HMAX, V1, silhouette, Radon).

Vector order: the square monkey-IT matrix of ``92_modelRDMs.mat``
squareformed (scipy, row-major upper triangle) equals the mIT vector of the
supplemental file exactly; [`load_kriegeskorte2008`][] checks this on every
load and refuses files that disagree.

Reference: Kriegeskorte, N., Mur, M., Ruff, D. A., Kiani, R., Bodurka, J.,
Esteky, H., Tanaka, K., & Bandettini, P. A. (2008). Matching categorical object
representations in inferior temporal cortex of man and monkey. *Neuron*, 60(6),
1126-1141. Files: rsatoolbox (MIT); cite the paper.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ..io import load
from ..schema import validate
from ._root import find_folder

__all__ = ["find_kriegeskorte2008", "load_kriegeskorte2008"]

SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"
MODELS = "92_modelRDMs.mat"
_SOURCE = (
    "Kriegeskorte_Neuron2008_supplementalData.mat and 92_modelRDMs.mat from "
    "github.com/rsagroup/rsatoolbox (demos/92imageData; MIT; cite Kriegeskorte et al. 2008, "
    "Neuron 60:1126)"
)


def find_kriegeskorte2008(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding the 92-image files.

    Nothing is downloaded: the folder is the first of ``<root>/vision/kriegeskorte2008``,
    ``<root>/kriegeskorte2008`` and the data root itself that holds
    ``Kriegeskorte_Neuron2008_supplementalData.mat``. ``92_modelRDMs.mat`` is optional:
    when it is in the same folder, [`load_kriegeskorte2008`][] adds the model RDMs.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        The data root holding ``vision/kriegeskorte2008`` (or that folder
        itself). Default: the environment variable ``NEURODATA_DATA``.

    Returns
    -------
    pathlib.Path
        The folder of the supplemental file.

    Raises
    ------
    NotFoundError
        Saying where it looked and how to get the files (from rsatoolbox's
        ``demos/92imageData``).
    """
    return find_folder(data_dir, "92-image dataset", _SOURCE, SUPPLEMENT,
                       ("vision/kriegeskorte2008", "kriegeskorte2008", ""))  # fmt: skip


def _stimuli(contents: dict, path: Path) -> tuple[np.ndarray, dict]:
    structs = np.atleast_1d(contents.get("stimuli_92objs", []))
    if structs.size != 92 or not all(hasattr(s, "image") for s in structs):
        raise FormatError(f"{path}: expected 'stimuli_92objs' with 92 image structs")
    images = np.stack([np.asarray(s.image, dtype=np.uint8) for s in structs])
    labels = [str(x) for x in np.atleast_1d(contents["categoryLabels"])]
    vectors = np.asarray(contents["categoryVectors"])
    if vectors.shape != (92, len(labels)):
        raise FormatError(
            f"{path}: categoryVectors has shape {vectors.shape}; expected (92, {len(labels)})"
        )
    coords = {
        "category": ("stimulus", np.array([str(s.category) for s in structs], dtype=object)),
        # the images' own flag (not among categoryVectors): natural vs man-made
        "natural": ("stimulus", np.array([bool(s.natural) for s in structs])),
    }
    for i, label in enumerate(labels):
        coords[label] = ("stimulus", vectors[:, i].astype(bool))
    return images, coords


def _rdms(path: Path, struct: str, dim: str) -> xr.DataArray:
    """One struct array of RDMs, read by the RSA-toolbox reader, along ``dim``."""
    rdms = load(path, format="rsatoolbox-mat", variable=struct)
    return rdms.rename(rdm=dim)


def load_kriegeskorte2008(data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load the 92 object images of Kriegeskorte et al. (2008) and their RDMs (never downloads).

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        The data root holding ``vision/kriegeskorte2008`` (as for
        [`load_alice`][neurodata.datasets.load_alice]); default ``$NEURODATA_DATA``.

    Returns
    -------
    xarray.Dataset
        - ``image`` (``stimulus``, ``y``, ``x``, ``color``): uint8, 92 x 175 x 175 x 3;
        - ``brain_rdm`` (``brain``, ``stimulus``, ``stimulus_2``): the monkey-IT
          (``mIT_674neurons``) and human-IT (``hITvisStim_316vx``) RDMs of
          Figure 1 (1 - Pearson r between response patterns);
        - ``model_rdm`` (``model``, ``stimulus``, ``stimulus_2``): the 8 RDMs of
          ``92_modelRDMs.mat`` (when the file is there);
        - along ``stimulus``: ``category`` (e.g. "human face"), ``natural`` and
          the 12 ``categoryVectors`` columns as booleans (``animate``,
          ``inanim``, ``human``, ``nonhumani``, ``body``, ``face``, ``natObj``,
          ``artiObj``, ...); ``species`` along ``brain``.

    Raises
    ------
    NotFoundError
        When the files are not found (the message says how to get them).
    FormatError
        When a file is not the expected release, or the mIT vector disagrees
        with the square monkey-IT matrix of the model file.
    """
    from scipy.io import loadmat

    folder = find_kriegeskorte2008(data_dir)
    supplement = folder / SUPPLEMENT
    try:
        contents = loadmat(supplement, squeeze_me=True, struct_as_record=False)
    except (ValueError, TypeError, OSError) as exc:
        raise FormatError(f"{supplement}: not a MATLAB v5 file scipy can read ({exc})") from None
    images, coords = _stimuli(contents, supplement)
    brain = _rdms(supplement, "RDMs_mIT_hIT_fig1", "brain")
    species = ["monkey" if str(n).startswith("m") else "human" for n in brain["brain"].values]
    ds = xr.Dataset(
        {
            "image": (("stimulus", "y", "x", "color"), images),
            "brain_rdm": (brain.dims, brain.values),
        },
        coords={
            "stimulus": np.arange(92),
            "stimulus_2": np.arange(92),
            "brain": brain["brain"].values,
            "species": ("brain", species),
            **coords,
        },
        attrs={
            "source": os.fspath(folder),
            "source_format": "rsatoolbox 92imageData (.mat)",
            "reference": "Kriegeskorte et al. (2008) Neuron 60:1126-1141",
        },
    )
    ds["image"].attrs["long_name"] = "object image on a grey background (RGB, 0-255)"
    ds["brain_rdm"].attrs["long_name"] = "dissimilarity (1 - Pearson r)"
    models_file = folder / MODELS
    if models_file.is_file():
        models = _rdms(models_file, "Models", "model")
        monkey = models.sel(model="monkeyIT").values
        mit = ds["brain_rdm"].sel(brain="mIT_674neurons").values
        if not np.array_equal(monkey, mit):
            raise FormatError(
                f"{models_file}: its monkeyIT matrix differs from the mIT vector of {SUPPLEMENT} "
                f"(max |difference| {np.abs(monkey - mit).max():.3g}): vector order mismatch?"
            )
        ds = ds.assign_coords(model=models["model"].values)
        ds["model_rdm"] = (models.dims, models.values, {"long_name": "model dissimilarity"})
    validate(ds, name="kriegeskorte2008")
    return ds
