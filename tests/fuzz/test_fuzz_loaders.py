"""Fuzz every loader's parsing with mutated real files: only NeurodataError escapes.

Each seed is a small real file written by the library that owns the format
(MNE for EDF/BDF/BrainVision/FIF/EEGLAB, pynwb for NWB, nibabel for NIfTI,
h5py for the C. elegans HDF5 layouts, plain text for tables and TextGrids, numpy,
xarray for netCDF). Hypothesis mutates its bytes (bit flips, truncation,
insertions, overwrites, numbers in text headers replaced by absurd values);
:func:`neurodata.load` reads the result — and its lazy data — in a separate
process (``_worker.py``) whose address space is capped (``RLIMIT_AS``, about
1.5 GiB above its baseline) and which is killed after ``TIMEOUT`` seconds.

A mutation passes when the load succeeds or raises a NeurodataError that is not
a disguised MemoryError. It fails on any other exception, a hang, a crash
(segfault) or a memory blow-up. Examples are derandomized (reproducible in CI);
``NEURODATA_FUZZ_EXAMPLES`` sets how many per format (default 8, to keep CI cheap; the whole
suite stays well under 3 minutes).
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz._mutate import apply, operations

FORMATS = [
    "edf",
    "bdf",
    "brainvision",
    "fif",
    "eeglab",
    "nwb",
    "nifti",
    "flavell",
    "celegans-nwb",
    "connectome-edgelist",
    "celegans-homogenized",
    "parcellated-table",
    "textgrid",
    "numpy",
    "netcdf",
]
EXAMPLES = int(os.environ.get("NEURODATA_FUZZ_EXAMPLES", "8"))
TIMEOUT = float(os.environ.get("NEURODATA_FUZZ_TIMEOUT", "30"))


@pytest.mark.parametrize("name", FORMATS)
def test_mutated_files_raise_only_neurodata_errors(name, seeds, loader_process, tmp_path_factory):
    folder, made = seeds
    if name not in made:
        pytest.skip(f"cannot write a {name} seed here (writer not installed)")
    seed = made[name]
    work = tmp_path_factory.mktemp(f"fuzz-{name}")
    baseline = loader_process.load(folder / seed.main, dict(seed.options), timeout=TIMEOUT)
    assert baseline["outcome"] == "ok", baseline  # the seed itself is a valid file

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(target=st.sampled_from(seed.files), ops=operations)
    def check(target, ops):
        for f in seed.files:
            shutil.copyfile(folder / f, work / f)
        (work / target).write_bytes(apply((folder / target).read_bytes(), ops))
        answer = loader_process.load(work / seed.main, dict(seed.options), timeout=TIMEOUT)
        assert answer["outcome"] in ("ok", "neurodata"), (
            f"{name}: mutating {target} with {ops} gave {answer}"
        )

    check()


def test_mutation_operations_are_applied():
    data = b"EDF 0123 header"
    assert apply(data, [("truncate", 3)]) == b"EDF"
    assert apply(data, [("flip", 0, 0)])[0] == ord("E") ^ 1
    assert apply(data, [("insert", 3, b"!")]) == b"EDF! 0123 header"
    assert apply(data, [("number", 0, 2)]) == b"EDF 99999999 header"
    assert apply(b"", [("overwrite", 5, b"x"), ("flip", 1, 1)]) == b""
