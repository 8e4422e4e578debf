"""fMRI: masking and parcellating a 4D NIfTI with neurodata vs nilearn's maskers (same files, one run)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._harness import measure, row


def _write_inputs(
    folder: Path, shape: tuple[int, int, int, int], n_parcels: int
) -> dict[str, Path]:
    import nibabel as nib

    rng = np.random.default_rng(0)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    data = rng.normal(100.0, 10.0, shape).astype(np.float32)
    bold = folder / "bold.nii"
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms((3.0, 3.0, 3.0, 2.0))
    nib.save(img, bold)
    spatial = shape[:3]
    grid = np.indices(spatial).reshape(3, -1).T
    centres = rng.integers(0, spatial, size=(n_parcels, 3))
    nearest = np.argmin(((grid[:, None, :] - centres[None]) ** 2).sum(-1), axis=1) + 1
    mask = np.zeros(spatial, np.uint8)
    box = tuple(slice(s // 8, s - s // 8) for s in spatial)
    mask[box] = 1
    atlas = np.where(mask.ravel() > 0, nearest, 0).reshape(spatial).astype(np.int16)
    paths = {"bold": bold, "mask": folder / "mask.nii", "atlas": folder / "atlas.nii"}
    nib.save(nib.Nifti1Image(mask, affine), paths["mask"])
    nib.save(nib.Nifti1Image(atlas, affine), paths["atlas"])
    return paths


def run(quick: bool = False) -> list[dict[str, Any]]:
    from nilearn.maskers import NiftiLabelsMasker, NiftiMasker

    from neurodata.loaders.fmri import read_nifti

    shape = (24, 24, 16, 60) if quick else (64, 64, 40, 300)
    n_parcels = 20 if quick else 200
    repeat = 1 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = _write_inputs(Path(tmp), shape, n_parcels)
        bold, mask, atlas = (str(paths[k]) for k in ("bold", "mask", "atlas"))
        size = f"{'x'.join(map(str, shape))} float32"

        def ours_mask():
            return read_nifti(bold, mask=mask, chunks=None)["bold"].values

        def ours_mask_lazy():
            return read_nifti(bold, mask=mask, chunks="auto")["bold"].values

        def peer_mask():
            return NiftiMasker(mask_img=mask).fit_transform(bold)

        assert np.array_equal(ours_mask(), peer_mask())
        peer = measure(peer_mask, repeat=repeat, memory=not quick)
        rows.append(
            row(
                "mask to (time, voxel)",
                measure(ours_mask, repeat=repeat, memory=not quick),
                peer,
                "nilearn NiftiMasker",
                size=size,
            )
        )
        rows.append(
            row(
                "mask to (time, voxel), dask chunks",
                measure(ours_mask_lazy, repeat=repeat, memory=not quick),
                peer,
                "nilearn NiftiMasker",
                size=size,
            )
        )

        def ours_parcels():
            return read_nifti(bold, atlas=atlas, chunks=None)["bold"].values

        def peer_parcels():
            return NiftiLabelsMasker(labels_img=atlas).fit_transform(bold)

        np.testing.assert_allclose(ours_parcels(), peer_parcels(), rtol=1e-5)
        rows.append(
            row(
                f"parcel means ({n_parcels} parcels)",
                measure(ours_parcels, repeat=repeat, memory=not quick),
                measure(peer_parcels, repeat=repeat, memory=not quick),
                "nilearn NiftiLabelsMasker",
                size=size,
            )
        )
    return rows
