"""fMRI loader: NIfTI through masks and atlases (nilearn's maskers as oracles), TR checks, tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import neurodata as nd
from neurodata.errors import FormatError
from neurodata.loaders import fmri

nib = pytest.importorskip("nibabel")
maskers = pytest.importorskip("nilearn.maskers")
signal_extraction = pytest.importorskip("nilearn.regions.signal_extraction")


SHAPE = (7, 8, 6)
N_TIMES = 15
AFFINE = np.array([[3.0, 0, 0, -10.0], [0, 3.0, 0, -12.0], [0, 0, 3.5, -8.0], [0, 0, 0, 1.0]])
#: atlas value -> region name (value 4 is named but absent from the image).
REGIONS = {1: "left_STG", 2: "right_STG", 3: "left_IFG", 7: "precuneus", 4: "absent_region"}


def write_bold(
    path: Path,
    *,
    tr: float = 2.0,
    unit: str = "sec",
    dtype=np.float32,
    shape=(*SHAPE, N_TIMES),
    affine=AFFINE,
    seed: int = 0,
) -> Path:
    """A 4D image with a bright 'brain' box on a dark background (so masks are non-trivial)."""
    rng = np.random.default_rng(seed)
    data = np.zeros(shape)  # an exactly-zero background, as after skull stripping
    if len(shape) == 4:
        box = (slice(1, -1), slice(1, -1), slice(1, -1))
        spatial = 100.0 + rng.normal(0.0, 20.0, shape[:3])[box]
        data[box] = spatial[..., None] + rng.normal(0.0, 1.0, data[box].shape)
    else:
        data = rng.normal(0.0, 1.0, shape)
    if np.dtype(dtype).kind == "i":
        data = np.round(data * 10)
    img = nib.Nifti1Image(data.astype(dtype), affine)
    img.header.set_xyzt_units("mm", unit)
    if len(shape) == 4:
        zooms = img.header.get_zooms()
        img.header.set_zooms((*zooms[:3], tr))
    nib.save(img, path)
    return path


def atlas_data(shape=SHAPE) -> np.ndarray:
    labels = np.zeros(shape, dtype=np.int16)
    labels[1:4, 1:4, 1:5] = 1
    labels[4:6, 1:4, 1:5] = 2
    labels[1:6, 4:7, 1:3] = 3
    labels[1:6, 4:7, 3:5] = 7
    labels[0, 0, 0] = 7  # a stray voxel on the background, outside most masks
    return labels


@pytest.fixture
def bold_path(tmp_path) -> Path:
    return write_bold(tmp_path / "bold.nii.gz")


@pytest.fixture
def atlas_path(tmp_path) -> Path:
    path = tmp_path / "atlas.nii.gz"
    nib.save(nib.Nifti1Image(atlas_data(), AFFINE), path)
    return path


@pytest.fixture
def mask_path(tmp_path) -> Path:
    mask = np.zeros(SHAPE, dtype=np.uint8)
    mask[1:6, 1:7, 1:4] = 1
    path = tmp_path / "mask.nii.gz"
    nib.save(nib.Nifti1Image(mask, AFFINE), path)
    return path


@pytest.fixture
def labels_tsv(tmp_path) -> Path:
    """The label table in shuffled row order, with extra columns, as atlases ship them."""
    rows = [
        (7, "precuneus"),
        (4, "absent_region"),
        (2, "right_STG"),
        (0, "Background"),
        (3, "left_IFG"),
        (1, "left_STG"),
    ]
    path = tmp_path / "atlas_labels.tsv"
    path.write_text("index\tname\tcolor\n" + "".join(f"{v}\t{n}\t#ffffff\n" for v, n in rows))
    return path


PRESENT = {v: n for v, n in REGIONS.items() if v != 4}


def _shared(root, *parts):
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# --------------------------------------------------------------------------------------
# voxels through a mask
# --------------------------------------------------------------------------------------


def test_given_mask_matches_nifti_masker(bold_path, mask_path):
    ds = nd.load(bold_path, mask=mask_path)
    expected = _quiet(maskers.NiftiMasker(mask_img=str(mask_path)).fit_transform, str(bold_path))
    assert ds["bold"].dims == ("time", "voxel")
    assert ds["bold"].dtype == expected.dtype
    np.testing.assert_array_equal(ds["bold"].values, expected)
    mask = np.asanyarray(nib.load(mask_path).dataobj).astype(bool)
    i, j, k = np.nonzero(mask)
    np.testing.assert_array_equal(ds["i"], i)
    np.testing.assert_array_equal(ds["j"], j)
    np.testing.assert_array_equal(ds["k"], k)
    np.testing.assert_array_equal(ds.attrs["affine"], AFFINE)
    np.testing.assert_array_equal(ds["bold"].attrs["affine"], AFFINE)


def test_computed_background_mask_matches_nifti_masker(bold_path):
    ds = nd.load(bold_path, mask="background")
    masker = maskers.NiftiMasker(mask_strategy="background")
    expected = _quiet(masker.fit_transform, str(bold_path))
    np.testing.assert_array_equal(ds["bold"].values, expected)
    assert ds.sizes["voxel"] == 5 * 6 * 4  # the non-zero box


def test_computed_epi_mask_matches_nifti_masker(shared_data):
    path = _shared(shared_data, "fmri", "fmri1.nii.gz")
    ds = nd.load(path, mask="epi")
    expected = _quiet(maskers.NiftiMasker(mask_strategy="epi").fit_transform, str(path))
    np.testing.assert_array_equal(ds["bold"].values, expected)
    assert 0 < ds.sizes["voxel"] < 10 * 10 * 18


def test_default_mask_is_background(bold_path):
    a = nd.load(bold_path)
    b = nd.load(bold_path, mask="background")
    xr.testing.assert_identical(a["bold"], b["bold"])
    assert "computed, 'background'" in a.attrs["history"]


def test_mask_all_keeps_every_voxel_and_boolean_array_mask(bold_path):
    ds = nd.load(bold_path, mask="all")
    assert ds.sizes["voxel"] == np.prod(SHAPE)
    data = np.asanyarray(nib.load(bold_path).dataobj)
    np.testing.assert_array_equal(ds["bold"].values, data.reshape(-1, N_TIMES).T)
    mask = np.zeros(SHAPE, bool)
    mask[2, 3, 4] = mask[0, 0, 0] = True
    ds = fmri.read_nifti(bold_path, mask=mask)
    np.testing.assert_array_equal(ds["bold"].values, data[mask].T)


def test_integer_image_gives_float32_like_nilearn(tmp_path, mask_path):
    path = write_bold(tmp_path / "int16.nii", dtype=np.int16)
    ds = nd.load(path, mask=mask_path)
    expected = _quiet(maskers.NiftiMasker(mask_img=str(mask_path)).fit_transform, str(path))
    assert ds["bold"].dtype == np.float32
    np.testing.assert_array_equal(ds["bold"].values, expected)


def test_lazy_chunks_equal_eager(bold_path, mask_path):
    lazy = fmri.read_nifti(bold_path, mask=mask_path, chunks=4)
    eager = fmri.read_nifti(bold_path, mask=mask_path, chunks=None)
    assert lazy["bold"].chunks is not None
    assert lazy["bold"].chunks[0] == (4, 4, 4, 3)
    assert eager["bold"].chunks is None
    np.testing.assert_array_equal(lazy["bold"].values, eager["bold"].values)
    with pytest.raises(ValueError, match=r"`chunks` must be"):
        fmri.read_nifti(bold_path, chunks=0)


@pytest.mark.parametrize("use_atlas", [False, True])
def test_eager_block_reads_of_uncompressed_files(
    tmp_path, atlas_path, mask_path, monkeypatch, use_atlas
):
    path = write_bold(tmp_path / "plain.nii")
    options = {"atlas": atlas_path} if use_atlas else {"mask": mask_path}
    whole = fmri.read_nifti(path, chunks=None, **options)
    monkeypatch.setattr(fmri, "EAGER_BLOCK_BYTES", int(np.prod(SHAPE)) * 8 * 4)  # 4 volumes
    blocks = fmri.read_nifti(path, chunks=None, **options)
    np.testing.assert_array_equal(blocks["bold"].values, whole["bold"].values)
    masker = (
        maskers.NiftiLabelsMasker(labels_img=str(atlas_path))
        if use_atlas
        else maskers.NiftiMasker(mask_img=str(mask_path))
    )
    np.testing.assert_allclose(
        blocks["bold"].values, _quiet(masker.fit_transform, str(path)), rtol=1e-6
    )


def test_time_coordinate_and_provenance(bold_path):
    ds = nd.load(bold_path)
    np.testing.assert_allclose(ds["time"], np.arange(N_TIMES) * 2.0)
    assert ds["time"].attrs["units"] == "s"
    assert ds.attrs["sfreq"] == 0.5 and ds.attrs["repetition_time"] == 2.0
    assert ds.attrs["source_format"] == "nifti"
    assert ds.attrs["voxel_size"] == [3.0, 3.0, 3.5]
    nd.validate(ds, "timeseries")


# --------------------------------------------------------------------------------------
# parcels through a labels atlas
# --------------------------------------------------------------------------------------


def test_atlas_with_shuffled_table_matches_nifti_labels_masker(bold_path, atlas_path, labels_tsv):
    with pytest.warns(UserWarning, match=r"no voxel.*absent_region"):
        ds = nd.load(bold_path, atlas=atlas_path, labels=labels_tsv)
    masker = maskers.NiftiLabelsMasker(labels_img=str(atlas_path))
    expected = _quiet(masker.fit_transform, str(bold_path))
    assert ds["bold"].dims == ("time", "parcel")
    values = sorted(PRESENT)
    assert ds["label_value"].values.tolist() == values
    assert ds["parcel"].values.tolist() == [PRESENT[v] for v in values]
    np.testing.assert_allclose(ds["bold"].values, expected, rtol=1e-6, atol=0)
    # matched by value, not by row order: the 'precuneus' column is label 7's mean
    data = np.asanyarray(nib.load(bold_path).dataobj).astype(float)
    region = atlas_data() == 7
    np.testing.assert_allclose(ds["bold"].sel(parcel="precuneus"), data[region].mean(0), rtol=1e-6)


def test_atlas_with_mask_matches_nifti_labels_masker(bold_path, atlas_path, mask_path):
    ds = nd.load(bold_path, atlas=atlas_path, mask=mask_path)
    masker = maskers.NiftiLabelsMasker(labels_img=str(atlas_path), mask_img=str(mask_path))
    expected = _quiet(masker.fit_transform, str(bold_path))
    np.testing.assert_allclose(ds["bold"].values, expected, rtol=1e-6, atol=0)
    assert ds["parcel"].values.tolist() == ["1", "2", "3", "7"]  # named by value without a table


@pytest.mark.parametrize("strategy", sorted(fmri.REDUCTIONS))
def test_every_reduction_matches_nilearn(bold_path, atlas_path, strategy):
    ds = fmri.read_nifti(bold_path, atlas=atlas_path, strategy=strategy, chunks=None)
    expected, labels, *_ = _quiet(
        signal_extraction.img_to_signals_labels, str(bold_path), str(atlas_path), strategy=strategy
    )
    assert ds["label_value"].values.tolist() == list(labels)
    np.testing.assert_allclose(ds["bold"].values, expected, rtol=1e-5, atol=1e-5)


def test_atlas_float64_image_gives_float64(tmp_path, atlas_path):
    path = write_bold(tmp_path / "f64.nii.gz", dtype=np.float64)
    ds = fmri.read_nifti(path, atlas=atlas_path, chunks=2)
    expected = _quiet(
        maskers.NiftiLabelsMasker(labels_img=str(atlas_path)).fit_transform, str(path)
    )
    assert ds["bold"].dtype == np.float64 and ds["bold"].chunks is not None
    np.testing.assert_allclose(ds["bold"].values, expected, rtol=1e-12)


def test_label_table_forms_agree(tmp_path, bold_path, atlas_path):
    headerless = tmp_path / "labels.csv"
    headerless.write_text("".join(f"{v},{n}\n" for v, n in reversed(list(PRESENT.items()))))
    forms = [
        headerless,
        PRESENT,
        pd.DataFrame({"Name": list(PRESENT.values()), "Index": list(PRESENT)}),
        ["bg", "left_STG", "right_STG", "left_IFG", "x4", "x5", "x6", "precuneus"],
    ]
    results = [_quiet(fmri.read_nifti, bold_path, atlas=atlas_path, labels=f) for f in forms]
    for ds in results:
        assert ds["parcel"].values.tolist() == ["left_STG", "right_STG", "left_IFG", "precuneus"]
        xr.testing.assert_equal(ds["bold"], results[0]["bold"])


def test_label_table_missing_a_region_is_an_error(tmp_path, bold_path, atlas_path):
    table = tmp_path / "partial.tsv"
    table.write_text("index\tname\n1\tleft_STG\n2\tright_STG\n")
    with pytest.raises(
        FormatError,
        match=r"bold.nii.gz: atlas atlas.nii.gz has region value\(s\) \[3, 7\].*partial.tsv",
    ):
        nd.load(bold_path, atlas=atlas_path, labels=table)


def test_label_table_without_usable_columns(tmp_path, bold_path, atlas_path):
    table = tmp_path / "bad.tsv"
    table.write_text("colour\tsize\nred\t3\n")
    with pytest.raises(FormatError, match=r"needs a value column"):
        nd.load(bold_path, atlas=atlas_path, labels=table)
    dup = tmp_path / "dup.tsv"
    dup.write_text("index\tname\n1\ta\n1\tb\n")
    with pytest.raises(FormatError, match=r"repeats value\(s\) \[1\]"):
        nd.load(bold_path, atlas=atlas_path, labels=dup)


def test_non_integer_atlas_is_an_error(tmp_path, bold_path):
    path = tmp_path / "prob.nii.gz"
    nib.save(nib.Nifti1Image(np.full(SHAPE, 0.5, np.float32), AFFINE), path)
    with pytest.raises(FormatError, match=r"non-integer values"):
        nd.load(bold_path, atlas=path)


def test_unknown_strategy_lists_choices(bold_path, atlas_path):
    with pytest.raises(ValueError, match=r"`strategy` must be one of \['maximum', 'mean'"):
        nd.load(bold_path, atlas=atlas_path, strategy="mode")
    with pytest.raises(ValueError, match=r"`mask` must be one of \['all', 'background', 'epi'\]"):
        nd.load(bold_path, mask="brain")
    with pytest.raises(ValueError, match=r"pass `atlas` too"):
        nd.load(bold_path, labels={1: "a"})


# --------------------------------------------------------------------------------------
# bad inputs: one-line errors naming the file and the problem
# --------------------------------------------------------------------------------------


def test_3d_image_is_an_error(tmp_path):
    path = write_bold(tmp_path / "anat.nii.gz", shape=SHAPE)
    with pytest.raises(FormatError, match=r"anat.nii.gz: image has 3 dimensions .*expected a 4D"):
        nd.load(path)


def test_mask_shape_mismatch(tmp_path, bold_path):
    path = tmp_path / "small_mask.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), AFFINE), path)
    with pytest.raises(
        FormatError,
        match=r"bold.nii.gz: mask small_mask.nii.gz has shape \(4, 4, 4\); expected .*\(7, 8, 6\)",
    ):
        nd.load(bold_path, mask=path)


def test_mask_affine_mismatch(tmp_path, bold_path):
    path = tmp_path / "shifted_mask.nii.gz"
    shifted = AFFINE.copy()
    shifted[0, 3] += 3.0
    nib.save(nib.Nifti1Image(np.ones(SHAPE, np.uint8), shifted), path)
    with pytest.raises(FormatError, match=r"shifted_mask.nii.gz affine differs .* resample"):
        nd.load(bold_path, mask=path)


def test_atlas_shape_mismatch(tmp_path, bold_path):
    path = tmp_path / "big_atlas.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((8, 8, 8), np.int16), AFFINE), path)
    with pytest.raises(FormatError, match=r"atlas big_atlas.nii.gz has shape"):
        nd.load(bold_path, atlas=path)


def test_non_binary_and_empty_masks(tmp_path, bold_path):
    path = tmp_path / "weights.nii.gz"
    nib.save(nib.Nifti1Image(np.full(SHAPE, 3, np.int16), AFFINE), path)
    with pytest.raises(FormatError, match=r"expected a binary image"):
        nd.load(bold_path, mask=path)
    nib.save(nib.Nifti1Image(np.zeros(SHAPE, np.uint8), AFFINE), path)
    with pytest.raises(FormatError, match=r"selects no voxel"):
        nd.load(bold_path, mask=path)


def test_missing_mask_file(tmp_path, bold_path):
    with pytest.raises(FormatError, match=r"nope.nii.gz: mask file does not exist"):
        nd.load(bold_path, mask=str(tmp_path / "nope.nii.gz"))


def test_not_a_nifti(tmp_path):
    path = tmp_path / "fake.nii.gz"
    path.write_bytes(b"not a nifti at all")
    with pytest.raises(FormatError, match=r"fake.nii.gz"):
        nd.load(path)


# --------------------------------------------------------------------------------------
# repetition time
# --------------------------------------------------------------------------------------


def test_tr_in_milliseconds_unit_is_converted(tmp_path):
    ds = nd.load(write_bold(tmp_path / "ms.nii.gz", tr=2000.0, unit="msec"))
    assert ds.attrs["repetition_time"] == 2.0


def test_tr_in_ms_with_sec_unit_is_detected_and_corrected(tmp_path):
    path = write_bold(tmp_path / "bug.nii.gz", tr=2000.0, unit="sec")
    with pytest.warns(
        UserWarning, match=r"bug.nii.gz: header TR is 2000 .*milliseconds.*'sec'.*using 2 s"
    ):
        ds = nd.load(path)
    assert ds.attrs["repetition_time"] == 2.0
    np.testing.assert_allclose(ds["time"][-1], (N_TIMES - 1) * 2.0)


def test_tr_override(tmp_path):
    path = write_bold(tmp_path / "tr.nii.gz", tr=2.0)
    with pytest.warns(UserWarning, match=r"header TR is 2 'sec'.*using tr=1.5 s"):
        ds = nd.load(path, tr=1.5)
    assert ds.attrs["repetition_time"] == 1.5
    bug = write_bold(tmp_path / "bug.nii.gz", tr=2000.0)
    with pytest.warns(UserWarning, match="using tr=2.5"):
        assert nd.load(bug, tr=2.5).attrs["sfreq"] == 0.4
    with pytest.raises(ValueError, match=r"`tr` must be a positive"):
        nd.load(path, tr=-1)


def test_missing_or_absurd_tr_is_an_error(tmp_path):
    zero = write_bold(tmp_path / "zero.nii.gz", tr=0.0)
    with pytest.raises(
        FormatError, match=r"zero.nii.gz: header holds no repetition time.*pass `tr`"
    ):
        nd.load(zero)
    assert nd.load(zero, tr=2.0).attrs["repetition_time"] == 2.0
    absurd = write_bold(tmp_path / "absurd.nii.gz", tr=900000.0)
    with pytest.raises(FormatError, match=r"outside the plausible range"):
        nd.load(absurd)


def test_header_tr_is_the_written_decimal(tmp_path):
    ds = nd.load(write_bold(tmp_path / "tr135.nii.gz", tr=1.35))
    assert ds.attrs["repetition_time"] == 1.35  # not 1.350000023841858


# --------------------------------------------------------------------------------------
# confounds
# --------------------------------------------------------------------------------------


def test_confounds_attach_along_time(tmp_path, bold_path):
    table = tmp_path / "confounds.tsv"
    rows = ["csf\ttrans_x\tframewise_displacement"]
    rows += [f"{i * 0.5}\t{i * 0.01}\t{'n/a' if i == 0 else i * 0.1}" for i in range(N_TIMES)]
    table.write_text("\n".join(rows) + "\n")
    ds = nd.load(bold_path, confounds=table)
    assert ds["trans_x"].dims == ("time",)
    np.testing.assert_allclose(ds["csf"], np.arange(N_TIMES) * 0.5)
    assert np.isnan(ds["framewise_displacement"][0]) and ds["framewise_displacement"][1] == 0.1
    assert ds["csf"].attrs["role"] == "confound"


def test_confounds_of_the_wrong_length(tmp_path, bold_path):
    table = tmp_path / "short.tsv"
    table.write_text("csf\n1\n2\n")
    with pytest.raises(
        FormatError, match=r"confounds short.tsv has 2 rows; expected one per volume \(15\)"
    ):
        nd.load(bold_path, confounds=table)


# --------------------------------------------------------------------------------------
# parcellated tables
# --------------------------------------------------------------------------------------


def _write_table(path, values, names, orientation):
    frame = pd.DataFrame(values, columns=names)
    if orientation == "region-by-time":
        frame.T.to_csv(path, sep="\t", header=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("orientation", ["time-by-region", "region-by-time"])
def test_parcellated_table_orientations(tmp_path, rng, orientation):
    values = rng.normal(size=(20, 4))
    names = ["LATL", "RATL", "LIFG", "LPTL"]
    path = _write_table(tmp_path / f"{orientation}.txt", values, names, orientation)
    ds = nd.load(path, format="parcellated-table", tr=2.0)
    assert ds["bold"].dims == ("time", "parcel")
    assert ds["parcel"].values.tolist() == names
    np.testing.assert_allclose(ds["bold"].values, values, rtol=1e-12)
    assert ds.attrs["repetition_time"] == 2.0


def test_parcellated_table_without_names(tmp_path, rng):
    values = rng.normal(size=(12, 3))
    path = tmp_path / "plain.txt"
    np.savetxt(path, values)
    with pytest.raises(
        FormatError, match=r"plain.txt: cannot tell whether rows or columns.*orientation"
    ):
        nd.load(path, format="parcellated-table", tr=2.0)
    ds = nd.load(
        path,
        format="parcellated-table",
        tr=2.0,
        orientation="time-by-region",
        names=["a", "b", "c"],
    )
    np.testing.assert_allclose(ds["bold"].values, values)
    ds = nd.load(path, format="parcellated-table", tr=2.0, orientation="region-by-time")
    assert ds.sizes == {"time": 3, "parcel": 12}
    with pytest.raises(FormatError, match=r"2 region names for 3 regions"):
        nd.load(
            path, format="parcellated-table", tr=2.0, orientation="time-by-region", names=["a", "b"]
        )


def test_parcellated_table_with_one_region(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("LIFG\n1.5\n2.5\n3.5\n")
    ds = nd.load(path, format="parcellated-table", tr=2.0)
    assert ds["parcel"].values.tolist() == ["LIFG"]
    np.testing.assert_array_equal(ds["bold"].values[:, 0], [1.5, 2.5, 3.5])


def test_parcellated_table_needs_tr(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(
        FormatError, match=r"t.csv: a parcellated table holds no repetition time; pass `tr`"
    ):
        nd.load(path, format="parcellated-table")
    with pytest.raises(ValueError, match=r"`orientation` must be one of"):
        nd.load(path, format="parcellated-table", tr=1.0, orientation="rows")


def test_real_nitime_table(shared_data):
    path = _shared(shared_data, "fmri", "fmri_timeseries.csv")
    ds = nd.load(path, format="parcellated-table", tr=1.89)
    expected = pd.read_csv(path)
    assert ds.sizes == {"time": 250, "parcel": 31}
    assert ds["parcel"].values.tolist() == list(expected.columns)
    np.testing.assert_array_equal(ds["bold"].values, expected.to_numpy())
    np.testing.assert_allclose(ds["time"][-1], 249 * 1.89)


# --------------------------------------------------------------------------------------
# real images, dispatch, conversion
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fmri1.nii.gz", "nipy_functional.nii.gz"])
def test_real_images_match_nifti_masker(shared_data, name):
    path = _shared(shared_data, "fmri", name)
    ds = nd.load(path)
    expected = _quiet(maskers.NiftiMasker().fit_transform, str(path))
    np.testing.assert_array_equal(ds["bold"].values, expected)
    img = nib.load(path)
    assert ds.sizes["time"] == img.shape[3]
    assert ds.attrs["repetition_time"] == pytest.approx(float(img.header.get_zooms()[3]))


def test_format_detection(bold_path, tmp_path):
    assert nd.io.detect_format(bold_path).name == "nifti"
    plain = tmp_path / "noext"
    plain.write_bytes(bold_path.read_bytes())
    assert nd.io.detect_format(plain).name == "nifti"  # sniffed from the content
    raw = write_bold(tmp_path / "raw.nii", dtype=np.float32).rename(tmp_path / "raw_image")
    assert nd.io.detect_format(raw).name == "nifti"
    with pytest.raises(FormatError, match=r"does not take option"):
        nd.load(bold_path, atlsa="x")


def test_save_open_round_trip(tmp_path, bold_path, atlas_path, labels_tsv):
    ds = _quiet(nd.load, bold_path, atlas=atlas_path, labels=labels_tsv)
    store = nd.save(ds, tmp_path / "parcels.zarr")
    back = nd.open(store).load()
    xr.testing.assert_allclose(back["bold"], ds["bold"].load())
    np.testing.assert_array_equal(back.attrs["affine"], AFFINE)


def test_cli_convert_with_atlas(tmp_path, bold_path, atlas_path, labels_tsv):
    from neurodata.cli import main

    out = tmp_path / "out.nc"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(
            [
                "convert",
                str(bold_path),
                str(out),
                "-q",
                "-o",
                f"atlas={atlas_path}",
                "-o",
                f"labels={labels_tsv}",
            ]
        )
    assert code == 0
    back = nd.open(out)
    assert back["parcel"].values.tolist() == ["left_STG", "right_STG", "left_IFG", "precuneus"]
