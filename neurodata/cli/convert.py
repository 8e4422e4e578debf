"""``neurodata convert IN OUT``: read any supported format, write another."""

from __future__ import annotations

from pathlib import Path

import click

from ..io import load, save
from ._options import (
    format_option,
    one_line_warnings,
    parse_options,
    quiet_option,
    reader_option,
)


@click.command("convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--to", "to", default=None, help="Output format (default: from OUT's extension).")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@quiet_option(expose=True)
@format_option
@reader_option
def command(
    source: Path,
    target: Path,
    to: str | None,
    overwrite: bool,
    quiet: bool,
    fmt: str | None,
    options: tuple[str, ...],
) -> None:
    """Convert SOURCE to TARGET (written atomically; never overwrites without --overwrite)."""
    with one_line_warnings():  # what the reader or writer could not keep, one line each
        obj = load(source, format=fmt, **parse_options(options))
        written = save(obj, target, format=to, overwrite=overwrite)
    if not quiet:
        click.echo(f"wrote {written}")
