"""`import neurodata` stays light: no heavy optional dependency is imported."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "torch",
    "transformers",
    "mne",
    "mne_bids",
    "pynwb",
    "nibabel",
    "nilearn",
    "sklearn",
    "matplotlib",
    "tensorly",
    "networkx",
    "h5py",
    "zarr",
    "dask.distributed",
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_neurodata_is_light():
    loaded = _modules_after("import neurodata")
    assert not [m for m in HEAVY if m in loaded]


def test_cli_module_is_light():
    loaded = _modules_after("import neurodata.cli")
    assert not [m for m in HEAVY if m in loaded]


def test_public_api_is_curated():
    import neurodata

    for name in neurodata.__all__:
        assert hasattr(neurodata, name), name
    assert neurodata.__version__


def test_import_neurodata_does_not_import_dask():
    # dask's collections (dask.array imports in ~0.5 s) load when a lazy read needs them
    loaded = _modules_after("import neurodata")
    assert not [m for m in ("dask", "dask.array", "dask.dataframe", "distributed") if m in loaded]
