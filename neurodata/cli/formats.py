"""``neurodata formats``: what can be read and written."""

from __future__ import annotations

import click

from ..io import FORMATS


@click.command("formats")
def command() -> None:
    """List the formats neurodata reads and writes, with the extra each needs."""
    for spec in FORMATS:
        modes = "".join(("r" if spec.reader else "-", "w" if spec.writer else "-"))
        extra = f"  [needs neurodata[{spec.extra}]]" if spec.extra else ""
        click.echo(
            f"{spec.name:<12} {modes}  {', '.join(spec.extensions):<24} {spec.description}{extra}"
        )
