"""``neurodata sys-info``: versions of neurodata and its dependencies, and which extras work."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from typing import Any

import click

from .._compat import EXTRAS, extra_status
from .._version import __version__

_CORE = (
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "zarr",
    "h5netcdf",
    "h5py",
    "dask",
    "scikit-learn",
    "networkx",
    "tensorly",
    "matplotlib",
    "click",
    "tqdm",
)


def collect() -> dict[str, Any]:
    """Versions of Python, the core dependencies and every extra's modules."""
    core = {}
    for dist in _CORE:
        try:
            core[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            core[dist] = None
    extras = {}
    for extra in EXTRAS:
        modules = extra_status(extra)
        extras[extra] = {"usable": all(v is not None for v in modules.values()), "modules": modules}
    return {
        "neurodata": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "executable": sys.executable,
        "core": core,
        "extras": extras,
    }


@click.command("sys-info")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def command(as_json: bool) -> None:
    """Show versions of neurodata, Python and each optional dependency."""
    info = collect()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"neurodata {info['neurodata']}")
    click.echo(f"python    {info['python']} ({info['platform']})")
    click.echo("core:")
    for name, version in info["core"].items():
        click.echo(f"  {name:<14} {version or 'MISSING'}")
    click.echo("extras:")
    for extra, status in info["extras"].items():
        state = "usable" if status["usable"] else f"not usable: pip install 'neurodata[{extra}]'"
        mods = ", ".join(f"{m} {v or 'missing'}" for m, v in status["modules"].items())
        click.echo(f"  [{extra}] {state}\n      {mods}")
