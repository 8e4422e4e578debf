"""``neurodata validate PATH``: check a file against neurodata's conventions."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SchemaError
from ..io import load
from ..schema import KINDS, infer_kinds, problems
from ._options import format_option, parse_options, reader_option


@click.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(sorted(KINDS)),
    help="Also require this kind of data (repeatable).",
)
@click.option("--all", "show_all", is_flag=True, help="List every problem, not just the first.")
@format_option
@reader_option
def command(
    path: Path, kinds: tuple[str, ...], show_all: bool, fmt: str | None, options: tuple[str, ...]
) -> None:
    """Check that PATH loads and follows neurodata's data conventions."""
    obj = load(path, format=fmt, **parse_options(options))
    found = problems(obj, list(kinds))
    if found:
        if show_all:
            for problem in found[1:]:
                click.echo(f"  {problem}", err=True)
        more = f" (and {len(found) - 1} more; --all lists them)" if len(found) > 1 else ""
        raise SchemaError(f"{path}: {found[0]}{more}")
    detected = ", ".join(infer_kinds(obj)) or "no specific kind"
    click.echo(f"{path}: valid ({detected})")
