"""Errors found when lazy data are computed name the file; a replaced store is not mixed.

Issue 18, items 8 and 5: a truncated EEGLAB ``.fdt`` read lazily and a corrupt chunk of
neurodata's own zarr store raised the reader's ``RuntimeError`` at compute time (and the
CLI exited 3, "please report it"); a reader holding a store open read NaN or a mix of
old and new chunks after another process overwrote it.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from neurodata.errors import FormatError

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _truncated_fdt(folder: Path) -> Path:
    """An EEGLAB .set whose samples live in a .fdt (written as EEGLAB does), then truncated."""
    pytest.importorskip("eeglabio")
    import scipy.io

    from tests.loaders.conftest import export, make_raw

    raw = make_raw()
    path = export(raw, folder / "rec.set")
    mat = scipy.io.loadmat(path, appendmat=False)
    (raw.get_data() * 1e6).T.astype("<f4").tofile(folder / "rec.fdt")  # EEGLAB's layout
    if "EEG" in mat:
        mat["EEG"]["data"][0, 0] = np.array(["rec.fdt"])
    else:
        mat["data"] = np.array(["rec.fdt"])
    scipy.io.savemat(path, {k: v for k, v in mat.items() if not k.startswith("__")},
                     appendmat=False)  # fmt: skip
    with open(folder / "rec.fdt", "r+b") as fh:
        fh.truncate(100 * len(raw.ch_names) * 4)  # 100 of the samples are left
    return path


def _corrupt_store(folder: Path) -> Path:
    values = np.random.default_rng(0).standard_normal((200, 4))
    ds = xr.Dataset({"signal": (("time", "channel"), values)}, coords={"time": np.arange(200.0)})
    path = nd.save(ds.chunk({"time": 50}), folder / "rec.zarr")
    chunk = path / "signal" / "c" / "1" / "0"
    data = bytearray(chunk.read_bytes())
    data[8:] = b"\xff" * (len(data) - 8)  # a damaged chunk: zstd refuses it
    chunk.write_bytes(bytes(data))
    return path


def _stderr_lines(text: str) -> list[str]:
    """Lines a terminal would show (a progress bar redraws itself with carriage returns)."""
    shown = [line.split("\r")[-1] for line in text.split("\n")]
    return [line for line in shown if line.strip()]


@pytest.mark.parametrize("lazy", [True, "indexed"])
def test_truncated_fdt_read_lazily_names_the_data_file(tmp_path, lazy):
    path = _truncated_fdt(tmp_path)
    with pytest.raises(FormatError, match=r"rec\.fdt: could not read samples 0:\d+: RuntimeError"):
        nd.load(path, lazy=lazy).load()


def test_corrupt_chunk_of_a_store_names_the_store(tmp_path):
    path = _corrupt_store(tmp_path)
    opened = nd.open(path)
    assert np.isfinite(opened.signal[:50].values).all()  # the intact chunk still reads
    with pytest.raises(FormatError, match=r"rec\.zarr: could not read its data: RuntimeError"):
        opened.signal.load()
    with pytest.raises(FormatError, match=r"rec\.zarr: could not read its data") as info:
        nd.load(path).load()
    assert isinstance(info.value.__cause__, RuntimeError)  # the reader's error, kept


@pytest.mark.parametrize("case", ["fdt", "zarr"])
def test_convert_of_a_broken_lazy_file_prints_one_line(tmp_path, case):
    if case == "fdt":
        source, options = _truncated_fdt(tmp_path), ["-o", "lazy=true"]
    else:
        source, options = _corrupt_store(tmp_path), []
    out = tmp_path / "out.nc"
    done = subprocess.run(
        [sys.executable, "-m", "neurodata", "convert", *options, str(source), str(out)],
        capture_output=True,
        env=ENV,
        timeout=600,
    )  # fmt: skip (bytes: text mode would turn the bar's carriage returns into newlines)
    lines = _stderr_lines(done.stderr.decode())
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith("neurodata: error: "), done.stderr
    assert ("rec.fdt" if case == "fdt" else "rec.zarr") in lines[0]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir() if "out" in p.name) == []


def test_sixty_four_dim_npy_is_one_typed_line(tmp_path):
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % ("1, " * 64)).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    path = tmp_path / "deep.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(8))
    assert np.load(path).ndim == 64  # numpy itself reads it, then fails on most operations
    with pytest.raises(
        FormatError, match=r"deep\.npy: header declares 64 dims; expected at most 32"
    ):
        nd.load(path)
    result = CliRunner().invoke(cli, ["convert", str(path), str(tmp_path / "o.zarr")])
    assert result.exit_code == 1 and "declares 64 dims" in result.stderr


def test_background_tracebacks_are_held_back_when_a_command_fails(caplog):
    from neurodata.cli._app import _Group

    @click.group(cls=_Group)
    @click.option("--debug", is_flag=True)
    def group(debug):
        pass

    @group.command()
    def fail():
        async def boom():
            raise RuntimeError("a background task failed")

        loop = asyncio.new_event_loop()
        task = loop.create_task(boom())
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        del task
        gc.collect()  # asyncio logs "Task exception was never retrieved" with its traceback
        raise FormatError("x.zarr: could not read its data")

    result = CliRunner().invoke(group, ["fail"])
    assert result.exit_code == 1
    assert _stderr_lines(result.stderr) == ["neurodata: error: x.zarr: could not read its data"]
    assert not [r for r in caplog.records if r.name == "asyncio"]  # held back, then dropped
    CliRunner().invoke(group, ["--debug", "fail"])
    assert [r for r in caplog.records if r.name == "asyncio"]  # --debug shows everything


# --- item 5: a store replaced under an open reader -------------------------------------------

_READER = """
import sys
import neurodata as nd
from neurodata.cli import cli
from neurodata.errors import FormatError

opened = nd.open(sys.argv[1])
print(float(opened.signal[:50].sum()), flush=True)      # chunk 0 of the old store
sys.stdin.readline()                                   # the store is replaced meanwhile
try:
    print("read", float(opened.signal[50:100].sum()), flush=True)
except FormatError as exc:
    print("refused", exc, flush=True)
"""


@pytest.mark.parametrize("new_dtype", ["float64", "float32"])
def test_a_reader_of_a_replaced_store_is_refused_not_mixed(tmp_path, new_dtype):
    old = xr.Dataset({"signal": (("time", "channel"), np.ones((200, 4)))})
    path = nd.save(old.chunk({"time": 50}), tmp_path / "out.zarr")
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_READER), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert float(reader.stdout.readline()) == 200.0
        new = xr.Dataset({"signal": (("time", "channel"), np.full((200, 4), 2.0, new_dtype))})
        nd.save(new.chunk({"time": 50}), path, overwrite=True)  # same chunks: a mix would pass
        out, _ = reader.communicate("go\n", timeout=600)
    finally:
        reader.kill()
    assert out.startswith("refused"), out
    assert "out.zarr: the store was replaced (or removed) after it was opened" in out
    assert float(nd.open(path).signal.sum()) == 1600.0  # opened again: the new store, whole


def test_a_store_left_alone_reads_normally_and_netcdf_is_checked_too(tmp_path):
    ds = xr.Dataset({"signal": (("time", "channel"), np.arange(40.0).reshape(10, 4))})
    store = nd.save(ds.chunk({"time": 5}), tmp_path / "a.zarr")
    opened = nd.open(store)
    nd.save(ds, tmp_path / "b.zarr")  # another output beside it changes nothing
    xr.testing.assert_identical(opened.compute(), ds)
    nc = nd.save(ds, tmp_path / "a.nc")
    lazy = nd.open(nc)
    nd.save(ds + 1, nc, overwrite=True)
    with pytest.raises(FormatError, match=r"a\.nc: the store was replaced"):
        lazy.signal.load()
