"""Options shared by several subcommands."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
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


def lesion_options(command: Any) -> Any:
    """``--lesion MASK`` and ``--lesion-mode zero|mean`` (the masked units of the model's forward
    passes), for the subcommands that run a model."""
    command = click.option(
        "--lesion-mode", type=click.Choice(["zero", "mean"]), default="zero", show_default=True,
        help="With --lesion: set the masked units to 0, or to their mean over the job's stimuli.",
    )(command)  # fmt: skip
    return click.option(
        "--lesion", type=click.Path(path_type=Path), default=None, metavar="MASK",
        help="Lesion these units on every forward pass: the localizer.zarr (or --out folder) "
        "of `neurodata localize`, or any store with a boolean mask (layer, unit).",
    )(command)  # fmt: skip


def _check_scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from .._distributed import check_scheduler

    try:
        return check_scheduler(value)
    except ValueError:
        raise click.BadParameter(
            f"expected 'threads', 'processes', 'synchronous' or a scheduler address such as "
            f"tcp://127.0.0.1:8786; got {value!r}"
        ) from None


scheduler_option = click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    callback=_check_scheduler,
    help="Run the heavy steps on this dask scheduler: an address (tcp://host:8786) of a "
    "running dask.distributed cluster, or threads/processes (default: this process).",
)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        from .._config import config

        # ``nd.config(progress=False)`` for the rest of the command: the functions it calls
        # take ``progress=None`` and read the setting, so no ``progress=`` is passed down
        ctx.with_resource(config(progress=False))
    return value


def quiet_option(*, expose: bool = False) -> Any:
    """``--quiet/-q``: no progress bars anywhere in the command; ``expose=True`` also passes
    the flag as ``quiet`` to a command that silences its own messages with it."""
    return click.option(
        "--quiet", "-q", is_flag=True, callback=_quiet, expose_value=expose,
        help="No progress bars.",
    )  # fmt: skip


def use_scheduler(scheduler: str | None) -> Any:
    """Connect to ``--scheduler`` once for the whole command (closed when it ends).

    Returns what the analyses' ``scheduler=`` takes: None, a local scheduler name
    or a ``distributed.Client``; an unreachable address raises ``NotFoundError``
    (one line on stderr, exit status 1).
    """
    from .._distributed import connect

    return click.get_current_context().with_resource(connect(scheduler))


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show the warnings raised inside (what a reader or writer could not keep) as one
    line each on stderr: ``neurodata: warning: <message>``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for item in caught:
                text = " ".join(str(item.message).split())
                if issubclass(item.category, DeprecationWarning) or text in seen:
                    continue
                seen.add(text)
                click.echo(f"neurodata: warning: {text}", err=True)
