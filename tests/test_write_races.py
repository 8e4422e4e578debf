"""Writes under races and resource faults: stale-lock takeover, full disks, stragglers, long names."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dask
import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._atomic import atomic_output, lock_path
from neurodata.errors import ConcurrentWriteError, WriteError

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs flock, rlimits, fork")
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _small() -> xr.Dataset:
    return xr.Dataset({"signal": (("time", "channel"), np.arange(12.0).reshape(4, 3))})


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def _wait(predicate, procs, what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            for p in procs:
                p.kill()
            raise AssertionError(f"racers never {what}")
        time.sleep(0.02)


# Waits for `go`, then takes the lock of argv[1]; the stale-lock warning is made slow (1 s),
# which widens the window between judging the old lock stale and taking it over.
RACER = textwrap.dedent(
    """
    import os, sys, time, warnings
    from pathlib import Path
    from neurodata._atomic import atomic_output
    from neurodata.errors import ConcurrentWriteError

    out, work = Path(sys.argv[1]), Path(sys.argv[2])
    warnings.showwarning = lambda *a, **k: time.sleep(1.0)
    (work / f"ready-{os.getpid()}").touch()
    while not (work / "go").exists():
        time.sleep(0.005)
    try:
        with atomic_output(out, overwrite=True) as tmp:
            (work / f"won-{os.getpid()}").touch()
            while not (work / "release").exists():
                time.sleep(0.01)
            tmp.write_text(str(os.getpid()))
    except ConcurrentWriteError:
        sys.exit(17)
    """
)


@posix_only
def test_racing_writers_taking_over_a_stale_lock_have_one_winner(tmp_path):
    out, work = tmp_path / "race.txt", tmp_path / "work"
    work.mkdir()
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "time": "then"}
    lock_path(out).write_text(json.dumps(stale))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(out), str(work)], env=ENV, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    _wait(lambda: len(list(work.glob("ready-*"))) == 4, procs, "got ready")
    (work / "go").touch()

    def settled() -> bool:  # every racer either lost (exited) or holds the lock
        won = {int(p.name.split("-")[1]) for p in work.glob("won-*")}
        return all(p.poll() is not None or p.pid in won for p in procs)

    _wait(settled, procs, "settled")
    winners = sorted(p.name for p in work.glob("won-*"))
    (work / "release").touch()
    codes = [p.wait(timeout=300) for p in procs]
    assert len(winners) == 1, winners
    assert sorted(codes) == [0, 17, 17, 17], [p.stderr.read()[-500:] for p in procs]
    assert out.read_text() == winners[0].split("-")[1]
    assert not lock_path(out).exists()


def test_an_empty_or_unreadable_lock_is_stale(tmp_path):
    """What a writer killed (or out of space) before writing its record leaves."""
    for content in (b"", b"\x00\xff{garbage"):
        out = tmp_path / f"x{len(content)}.nc"
        lock_path(out).write_bytes(content)
        nd.save(_small(), out)
        assert out.is_file() and not lock_path(out).exists()


def test_the_lock_is_checked_again_before_the_final_rename(tmp_path):
    out = tmp_path / "x.txt"
    with pytest.raises(ConcurrentWriteError, match=r"x\.txt: the lock \.x\.txt\.lock was removed"):
        with atomic_output(out) as tmp:
            tmp.write_text("mine")
            lock_path(out).unlink()  # e.g. deleted by hand, then taken by another writer
            lock_path(out).write_text("{}")
    assert not out.exists() and not list(tmp_path.glob(".x.txt.*.tmp"))
    assert lock_path(out).read_text() == "{}"  # the other writer's lock is left alone


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    import numpy as np, xarray as xr
    import neurodata as nd
    from neurodata.errors import WriteError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    try:
        nd.save(xr.Dataset({"x": ("a", np.arange(3.0))}), sys.argv[1])
    except WriteError as exc:
        print(exc)
        sys.exit(17)
    """
)


@posix_only
def test_a_lock_record_that_cannot_be_written_is_removed(tmp_path):
    out = tmp_path / "full.nc"
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(out)], env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 17, done.stderr
    assert f"{out}: cannot write the lock record into {lock_path(out)}" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no lock left to block later writes
    nd.save(_small(), out)  # space is back: the write succeeds
    xr.testing.assert_identical(nd.open(out).load(), _small())


def test_a_read_only_folder_is_a_write_error_naming_the_output(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(WriteError, match=r"ro/x\.nc: cannot create the lock file \.x\.nc"):
            nd.save(_small(), folder / "x.nc")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_a_long_legal_output_name_can_be_written(tmp_path, suffix):
    out = tmp_path / ("n" * (248 - len(suffix)) + suffix)
    nd.save(_small(), out)
    nd.save(_small() * 2, out, overwrite=True)
    xr.testing.assert_identical(nd.open(out).load(), _small() * 2)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    assert len(lock_path(out).name.encode()) <= 255


def test_a_long_names_leftovers_are_cleaned(tmp_path):
    out = tmp_path / ("é" * 120 + ".nc")  # 244 bytes
    with pytest.raises(ZeroDivisionError), atomic_output(out) as tmp:
        tmp.write_text("half")
        partial = tmp
        raise ZeroDivisionError
    partial.write_text("half")  # as a killed writer would have left it
    with pytest.warns(RuntimeWarning, match="removed a partial output"):
        nd.save(_small(), out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


# --- a failing dask write: no task may write into the temporary store after the error -----


def _straggling(ds: xr.Dataset, var: str, flag: Path) -> xr.Dataset:
    """Block 1 fails; block 0 is still running then, and finishes a second later."""
    import dask.array as da

    def block(x, block_info=None):
        where = block_info[0]["chunk-location"][0]
        if where == 1:
            flag.touch()
            raise RuntimeError("disk on fire")
        while where == 0 and not flag.exists():
            time.sleep(0.01)
        if where == 0:
            time.sleep(1.0)  # the error has reached the caller by now (on the old code)
        return x

    data = ds[var].data
    data = data if isinstance(data, da.Array) else da.from_array(data, chunks=1)
    data = data.rechunk((1, *data.shape[1:]))
    out = ds.copy()
    out[var] = (ds[var].dims, da.map_blocks(block, data, dtype=data.dtype))
    return out


def test_a_failing_dask_save_leaves_no_straggler_sibling(tmp_path):
    ds = _straggling(
        xr.Dataset({"x": (("a", "b"), np.ones((3, 4)))}),
        "x",
        tmp_path.parent / f"{tmp_path.name}.flag",
    )
    with dask.config.set(num_workers=4), pytest.raises(RuntimeError, match="disk on fire"):
        nd.save(ds, tmp_path / "x.zarr")
    time.sleep(1.5)  # would a straggler still write? (not a timing assertion: absence only)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_collection_leaves_no_straggler_sibling(tmp_path):
    from neurodata.collections import write_collection

    rng = np.random.default_rng(0)
    ds = xr.Dataset({"signal": (("subject", "time", "channel"), rng.standard_normal((3, 50, 2)))})
    ds = _straggling(
        ds.assign_coords(subject=["a", "b", "c"]),
        "signal",
        tmp_path.parent / f"{tmp_path.name}.flag",
    )
    with dask.config.set(num_workers=4), pytest.raises(RuntimeError, match="disk on fire"):
        write_collection(ds, tmp_path / "c.zarr")
    time.sleep(1.5)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_on_a_distributed_client_leaves_no_straggler(tmp_path):
    distributed = pytest.importorskip("distributed")
    ds = _straggling(
        xr.Dataset({"x": (("a", "b"), np.ones((3, 4)))}),
        "x",
        tmp_path.parent / f"{tmp_path.name}.flag",
    )
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, threads_per_worker=3, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        with pytest.raises(RuntimeError, match="disk on fire"):
            nd.save(ds, tmp_path / "x.zarr")
        time.sleep(1.5)
    assert list(tmp_path.iterdir()) == []
