"""MATLAB RSA-toolbox RDM files, written with scipy.io.savemat as MATLAB would store them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat
from scipy.spatial.distance import pdist, squareform

import neurodata as nd
from neurodata.errors import FormatError
from neurodata.io import detect_format
from neurodata.loaders.rdms import read_rdms


def _structs(*items):
    """A MATLAB struct array (1 x n) with fields name, RDM, color."""
    dtype = [("name", object), ("RDM", object), ("color", object)]
    arr = np.zeros((1, len(items)), dtype=dtype)
    for i, (name, rdm) in enumerate(items):
        arr[0, i] = (name, rdm, np.array([[1.0, 0.0, 0.5]]))
    return arr


@pytest.fixture
def square_and_vector(tmp_path, rng):
    a = squareform(pdist(rng.standard_normal((6, 4)), "correlation"))
    b = pdist(rng.standard_normal((6, 3)))  # an upper-triangle vector, as MATLAB squareform
    path = tmp_path / "rdms.mat"
    savemat(path, {"RDMs": _structs(("roi A", a), ("roi B", b[None, :])), "other": np.eye(2)})
    return path, a, b


def test_square_and_vector_rdms_in_scipy_squareform_order(square_and_vector):
    path, a, b = square_and_vector
    rdms = read_rdms(path)
    assert rdms.dims == ("rdm", "stimulus", "stimulus_2")
    assert list(rdms["rdm"].values) == ["roi A", "roi B"]
    np.testing.assert_array_equal(rdms.sel(rdm="roi A").values, a)
    np.testing.assert_array_equal(squareform(rdms.sel(rdm="roi B").values, checks=False), b)
    assert rdms[1, 0, 2] == b[1]  # row-major upper triangle: (0,1), (0,2), ...
    assert list(rdms["color"].values) == ["#ff0080", "#ff0080"]
    assert rdms.attrs["source_format"] == "rsatoolbox-mat"


def test_load_dispatches_on_mat_files(square_and_vector):
    path, a, _ = square_and_vector
    assert detect_format(path).name == "rsatoolbox-mat"
    np.testing.assert_array_equal(nd.load(path).sel(rdm="roi A").values, a)


def test_bad_files_are_named(tmp_path, rng):
    plain = tmp_path / "plain.mat"
    savemat(plain, {"x": np.eye(3)})
    with pytest.raises(FormatError, match=r"plain\.mat: no RDM struct array .*\['x'\]"):
        read_rdms(plain)
    bad_vec = tmp_path / "vec.mat"
    savemat(bad_vec, {"RDMs": _structs(("v", np.ones((1, 5))))})
    with pytest.raises(FormatError, match=r"RDMs\(1\) 'v': a vector of 5 .*n\(n-1\)/2"):
        read_rdms(bad_vec)
    asym = tmp_path / "asym.mat"
    m = squareform(pdist(rng.standard_normal((4, 2))))
    m[0, 1] += 1
    savemat(asym, {"RDMs": _structs(("a", m))})
    with pytest.raises(FormatError, match="'a': RDM is not symmetric"):
        read_rdms(asym)
    mixed = tmp_path / "mixed.mat"
    savemat(mixed, {"RDMs": _structs(("p", np.zeros((3, 3))), ("q", np.zeros((4, 4))))})
    with pytest.raises(FormatError, match=r"different sizes \('p': 3, 'q': 4\)"):
        read_rdms(mixed)
    with pytest.raises(FormatError, match=r"`variable` 'nope' is not an RDM struct array"):
        read_rdms(mixed, variable="nope")


def test_not_a_mat_file(tmp_path):
    path = tmp_path / "fake.mat"
    path.write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20)
    with pytest.raises(FormatError, match=r"fake\.mat"):
        read_rdms(path)
