"""The before/after harness (``python -m benchmarks before_after``): its processes, the
alternation and the checks, on a tiny case. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ba = pytest.importorskip("benchmarks.before_after")


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    folder = tmp_path / "shim"
    folder.mkdir()
    (folder / "benchmarks").symlink_to(ba.HERE, target_is_directory=True)
    return folder


def test_every_side_runs_the_case_and_agrees_with_the_peer(tmp_path, shim):
    pytest.importorskip("rsatoolbox")
    worker = ba.Worker("after", ba.ROOT, shim, tmp_path / "after.log")
    try:  # one process plays the three sides (the run starts one per side)
        spec = ba.Spec("rsa", "correlation RDM 30x20", "rdm",
                       {"method": "correlation", "n": 30, "p": 20}, "rsatoolbox")  # fmt: skip
        row = ba.measure(spec, dict.fromkeys(ba.SIDES, worker), tmp_path, repeat=3)
    finally:
        worker.close()
    assert row["runs"] == 3
    assert row["before_diff"] < 1e-12 and row["after_diff"] < 1e-12
    assert row["before_ratio"] == pytest.approx(row["before_s"] / row["peer_s"])
    ours, peer = np.load(tmp_path / "after.npy"), np.load(tmp_path / "peer.npy")
    assert ours.shape == peer.shape == (30, 30)
    lines = ba.table([row]).splitlines()
    assert lines[1].startswith("correlation RDM 30x20") and "rsatoolbox" in lines[2]


def test_a_failing_case_names_the_side_and_the_request(tmp_path, shim):
    worker = ba.Worker("after", ba.ROOT, shim, tmp_path / "after.log")
    try:
        request = {"op": "time", "case": "rdm", "side": "ours",
                   "params": {"method": "nope", "n": 3, "p": 2}}  # fmt: skip
        with pytest.raises(RuntimeError, match=r"(?s)after failed on .*'rdm'.*must be one of"):
            worker.ask(request)
    finally:
        worker.close()


def test_a_tree_without_neurodata_is_refused(tmp_path, shim):
    with pytest.raises(RuntimeError, match=r"imported neurodata from .*, not from"):
        ba.Worker("before", tmp_path, shim, tmp_path / "before.log")
