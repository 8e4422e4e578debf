"""``neurodata formats``: what can be read and written."""

from __future__ import annotations

import click

from ..io import FORMATS


@click.command("formats")
def command() -> None:
    """List the formats neurodata reads and writes, with the extra each needs."""
    name_width = max(len(spec.name) for spec in FORMATS)
    ext_width = max(len(", ".join(spec.extensions)) for spec in FORMATS)
    for spec in FORMATS:
        modes = "".join(("r" if spec.reader else "-", "w" if spec.writer else "-"))
        extra = f"  [needs neurodata[{spec.extra}]]" if spec.extra else ""
        exts = ", ".join(spec.extensions)
        click.echo(
            f"{spec.name:<{name_width}} {modes}  {exts:<{ext_width}} {spec.description}{extra}"
        )
