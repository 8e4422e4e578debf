"""Options shared by several subcommands."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import FormatError


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("key=value", ...)`` -> dict; values are parsed as JSON when they can be."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FormatError(f"`--option` must look like key=value; got {pair!r}")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


reader_option = click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option for the reader (repeatable), e.g. -o labels=worm1_labels.csv.",
)

format_option = click.option(
    "--format", "fmt", default=None, help="Force the input format (see `neurodata formats`)."
)
