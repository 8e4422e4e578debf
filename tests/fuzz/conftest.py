"""Fixtures of the fuzz suite: real seed files and a sandboxed loader process."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz._seeds import make_seeds

if sys.platform == "win32":  # select() on pipes and resource limits are POSIX-only
    pytest.skip("the fuzz worker needs POSIX", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_worker.py")


class LoaderProcess:
    """A long-lived subprocess that loads files on request under a memory cap.

    A request that does not answer within ``timeout`` seconds is a hang: the
    process is killed and restarted. A process that dies is a crash.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.ready = False

    def start(self) -> None:
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            MALLOC_ARENA_MAX="2",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
        )
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            bufsize=1,
        )
        self.ready = False  # it imports the readers while the caller goes on (seeds)

    def _wait_ready(self) -> None:
        if not self.ready:
            if self._read(timeout=300) is None:
                raise RuntimeError("the fuzz worker did not start")
            self.ready = True

    def _read(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"outcome": "crash", "returncode": self.proc.poll()}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def load(self, path: Path, options: dict, *, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self._wait_ready()
        self.proc.stdin.write(json.dumps({"path": str(path), "options": options}) + "\n")
        self.proc.stdin.flush()
        answer = self._read(timeout)
        if answer is None:
            self.stop()
            return {"outcome": "hang", "timeout": timeout}
        if answer.get("outcome") == "crash":
            self.stop()
        _log(path, answer)
        return answer


def _log(path: Path, answer: dict) -> None:
    """With ``NEURODATA_FUZZ_LOG`` set, one JSON line per load (``python -m tests.fuzz.report``)."""
    log = os.environ.get("NEURODATA_FUZZ_LOG")
    if log:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with open(log, "a") as fh:
            fh.write(json.dumps({"test": test, "path": str(path), **answer}) + "\n")


@pytest.fixture(scope="session")
def loader_process():
    worker = LoaderProcess()
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def seeds(tmp_path_factory, loader_process):  # the worker imports while seeds are written
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    return folder, make_seeds(folder)
