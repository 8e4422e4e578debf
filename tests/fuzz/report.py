"""Closing figures of the fuzz suite: files tried, escapes by type, hangs, blow-ups, kill trials.

Runs ``pytest tests/fuzz`` with every load logged (``NEURODATA_FUZZ_LOG``), then
``--kill-trials`` SIGKILLs of a dask write at a random moment (the writer of
``tests/test_faults.py``), and prints the figures the issue-18 attack reported::

    python -m tests.fuzz.report                      # 8 mutations per format, 10 kill trials
    python -m tests.fuzz.report --examples 100 --kill-trials 40

A mutated file passes when it loads or is refused with a ``NeurodataError``; a hostile
file only when it is refused; a kill trial when the output is absent or whole afterwards.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _class(test: str) -> str:
    name = test.split("::")[-1].split("[")[0]
    if name.startswith("test_mutated_files"):
        return "mutated seeds"
    if "declared_size_bombs" in name:
        from tests.fuzz._hostile import BUILDERS

        return BUILDERS[test.split("[")[-1].rstrip("]")][0]
    return {
        "test_brainvision_sidecar_escapes_are_refused": "sidecar escapes",
        "test_hdf5_data_kept_elsewhere_is_refused": "HDF5 data kept elsewhere",
        "test_a_fifo_named_like_each_seed_is_refused": "FIFOs and devices",
        "test_a_symlink_to_dev_zero_is_refused": "FIFOs and devices",
        "test_many_small_unbacked_datasets_are_refused": "declared-size bombs",
        "test_edf_lying_rates_and_calibrations_are_refused": "lying rates",
        "test_brainvision_lying_sampling_interval_is_refused": "lying rates",
    }.get(name, name)


def _kill_trials(n: int, folder: Path, seed: int) -> tuple[int, int]:
    """``n`` writes SIGKILLed after a random delay; returns (trials, outputs left broken)."""
    import xarray as xr

    import neurodata as nd
    from tests.test_faults import _start_writer

    rng = random.Random(seed)
    broken = 0
    old = xr.Dataset({"signal": (("time", "channel"), [[1.0, 2.0]])})
    for i in range(n):
        out = folder / f"kill{i}.zarr"
        overwrite = i % 2 == 1
        if overwrite:
            nd.save(old, out)
        proc = _start_writer(out, overwrite=overwrite, n=200)
        time.sleep(rng.uniform(0.5, 8.0))  # import, lock, write: anywhere in it
        proc.kill()
        proc.wait(timeout=60)
        if out.exists():
            try:
                got = nd.open(out).load()
                whole = got.identical(old) or float(got.signal.sum()) == 200 * 64
            except Exception:
                whole = False
            broken += not whole
    return n, broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8, help="mutations per format")
    parser.add_argument("--kill-trials", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "loads.jsonl"
        env = dict(os.environ, NEURODATA_FUZZ_LOG=str(log),
                   NEURODATA_FUZZ_EXAMPLES=str(args.examples))  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
        loads = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        trials, broken = _kill_trials(args.kill_trials, Path(tmp), seed=0)
    by_class = collections.defaultdict(collections.Counter)
    escapes = collections.Counter()
    for load in loads:
        by_class[_class(load["test"])][load["outcome"]] += 1
        if load["outcome"] == "escape":
            escapes[load["type"]] += 1
    total = collections.Counter()
    for counts in by_class.values():
        total.update(counts)
    print(f"fuzz suite: {done.stdout.strip().splitlines()[-1] if done.stdout else '?'} "
          f"({seconds:.0f} s)")  # fmt: skip
    print(f"files tried: {len(loads)}")
    print(f"{'class':32} {'files':>6} {'ok':>5} {'refused':>8} {'escape':>7} {'hang':>5} "
          f"{'memory':>7} {'crash':>6}")  # fmt: skip
    for name in sorted(by_class):
        c = by_class[name]
        print(f"{name:32} {sum(c.values()):6} {c['ok']:5} {c['neurodata']:8} {c['escape']:7} "
              f"{c['hang']:5} {c['memory']:7} {c['crash']:6}")  # fmt: skip
    print(f"escapes by type: {dict(escapes) or 'none'}")
    print(f"hangs: {total['hang']}, memory blow-ups: {total['memory']}, crashes: {total['crash']}")
    print(f"kill trials: {trials}, outputs left broken: {broken}")
    return 0 if done.returncode == 0 and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
