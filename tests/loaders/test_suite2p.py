"""suite2p folders against numpy.load of the same files (real pynapple test output)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodata.errors import FormatError, NotFoundError
from neurodata.loaders.suite2p import read_suite2p
from neurodata.schema import problems


@pytest.fixture
def plane(shared_path):
    return shared_path("ophys_suite2p")


def test_values_and_iscell_match_numpy(plane):
    ds = read_suite2p(plane, sfreq=30.0)
    for name in ("F", "Fneu", "spks"):
        np.testing.assert_array_equal(ds[name].values, np.load(plane / f"{name}.npy").T)
        assert ds[name].dims == ("time", "roi")
    iscell = np.load(plane / "iscell.npy")
    np.testing.assert_array_equal(ds["iscell"].values, iscell[:, 0] == 1)
    assert ds.sizes == {"time": 2000, "roi": 219}
    np.testing.assert_allclose(ds["time"].values[:3], [0, 1 / 30, 2 / 30])
    assert ds.attrs["sfreq_source"] == "the sfreq argument"
    assert "neuropil not subtracted" in ds["F"].attrs["long_name"]
    assert problems(ds) == []


def test_cells_only_keeps_the_classified_cells(plane):
    cells = read_suite2p(plane, sfreq=30.0, cells_only=True)
    iscell = np.load(plane / "iscell.npy")[:, 0] == 1
    assert cells.sizes["roi"] == int(iscell.sum()) == 20
    np.testing.assert_array_equal(cells["roi"].values, np.flatnonzero(iscell))
    np.testing.assert_array_equal(cells["F"].values, np.load(plane / "F.npy")[iscell].T)
    assert "kept the 20 of 219 ROIs" in cells.attrs["history"]


def test_frame_rate_is_never_guessed(plane):
    with pytest.raises(FormatError, match=r"frame rate is unknown \(no ops.npy\); pass sfreq="):
        read_suite2p(plane)


def test_ops_fs_read_with_allow_pickle_and_checked(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "F.npy", rng.random((3, 10), dtype=np.float32))
    np.save(tmp_path / "ops.npy", np.array({"fs": 15.5}, dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="not read without allow_pickle=True"):
        read_suite2p(tmp_path)
    ds = read_suite2p(tmp_path, allow_pickle=True)
    assert ds.attrs["sfreq"] == 15.5 and ds.attrs["sfreq_source"] == "ops.npy fs"
    with pytest.raises(FormatError, match=r"fs is 15.5 Hz; `sfreq` says 30 Hz"):
        read_suite2p(tmp_path, sfreq=30, allow_pickle=True)
    np.save(tmp_path / "Fneu.npy", np.zeros((3, 9)))
    with pytest.raises(FormatError, match=r"Fneu.npy: shape \(3, 9\); expected"):
        read_suite2p(tmp_path, allow_pickle=True)
    with pytest.raises(NotFoundError, match=r"no F\.npy"):
        read_suite2p(tmp_path / "nothing")


def test_roi_positions_from_stat_with_allow_pickle(plane):
    stat = np.load(plane / "stat.npy", allow_pickle=True)
    without = read_suite2p(plane, sfreq=30)
    assert "roi_y" not in without.coords
    assert "stat.npy (ROI positions) not read" in without.attrs["history"]
    ds = read_suite2p(plane, sfreq=30, allow_pickle=True)
    np.testing.assert_array_equal(ds["roi_y"].values, [r["med"][0] for r in stat])
    np.testing.assert_array_equal(ds["roi_x"].values, [r["med"][1] for r in stat])
    np.testing.assert_array_equal(ds["npix"].values, [r["npix"] for r in stat])
    assert ds["roi_x"].attrs["units"] == "pixel"


def test_a_plane_folder_is_detected_by_load_and_the_cli(plane, tmp_path):
    from click.testing import CliRunner

    import neurodata as nd
    from neurodata.cli import cli
    from neurodata.io import detect_format

    assert detect_format(plane).name == "suite2p"
    xr_ds = nd.load(plane, sfreq=30.0, cells_only=True)
    direct = read_suite2p(plane, sfreq=30.0, cells_only=True)
    np.testing.assert_array_equal(xr_ds["F"].values, direct["F"].values)
    runner = CliRunner()
    refused = runner.invoke(cli, ["info", str(plane)])
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "pass sfreq=" in refused.output
    shown = runner.invoke(cli, ["info", str(plane), "-o", "sfreq=30"])
    assert shown.exit_code == 0, shown.output
    assert "[suite2p, Dataset]" in shown.output and "roi=219" in shown.output
    # history lines stay indented under their key
    history = shown.output[shown.output.index("history:") :].splitlines()
    assert len(history) == 3 and history[1].startswith(" " * 11 + "frame rate 30 Hz")
    assert history[2].startswith(" " * 11 + "stat.npy (ROI positions) not read")
    out = tmp_path / "plane.nc"
    assert runner.invoke(cli, ["convert", str(plane), str(out), "-o", "sfreq=30"]).exit_code == 0
    np.testing.assert_array_equal(nd.load(out)["spks"].values, np.load(plane / "spks.npy").T)


def test_an_unrelated_folder_is_not_suite2p(tmp_path):
    from neurodata.loaders.suite2p import sniff_suite2p

    np.save(tmp_path / "F.npy", np.zeros((2, 3)))
    assert not sniff_suite2p(tmp_path)  # F.npy alone could be anything
    np.save(tmp_path / "iscell.npy", np.zeros((2, 2)))
    assert sniff_suite2p(tmp_path) and not sniff_suite2p(tmp_path / "F.npy")
