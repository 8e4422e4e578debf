"""The command group, its error handling, and the registration of subcommands."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence

import click

from .._version import __version__
from ..errors import NeurodataError

#: Exit codes: 1 for bad input / data problems, 2 for usage errors (click's), 3 for bugs.
EXIT_ERROR = 1
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """A group that turns exceptions into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        debug = bool(ctx.params.get("debug")) or os.environ.get("NEURODATA_DEBUG") == "1"
        try:
            with _background_reports(quiet=not debug):
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("neurodata: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except NeurodataError as exc:
            if debug:
                raise
            click.echo(f"neurodata: error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_ERROR)
        except OSError as exc:
            if debug:
                raise
            click.echo(f"neurodata: error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_ERROR)
        except ValueError as exc:
            # parameter checks raise "`param` must be ...; got ..." (the scikit-learn form):
            # the user's input, not a bug
            if debug or not str(exc).startswith("`"):
                if debug:
                    raise
                _internal(ctx, exc)
            click.echo(f"neurodata: error: {_one_line(exc)}", err=True)
            ctx.exit(EXIT_ERROR)
        except Exception as exc:
            if debug:
                raise
            _internal(ctx, exc)


#: Loggers through which background machinery reports a failed task by itself: asyncio
#: ("Task exception was never retrieved", zarr's event loop) and dask's workers.
_BACKGROUND_LOGGERS = ("asyncio", "distributed.worker", "distributed.core")


@contextlib.contextmanager
def _background_reports(*, quiet: bool) -> Iterator[None]:
    """Hold back what asyncio, dask and stray threads print while a command runs.

    They print their own tracebacks of a failure that the command then reports as one
    line; held back, those reports are shown only if the command succeeds (they were
    not about its failure then), and never when it fails. ``--debug`` shows everything.
    """
    if not quiet:
        yield
        return
    held: list[logging.LogRecord] = []
    handler = _Hold(held)
    saved = []
    for name in _BACKGROUND_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    hook = threading.excepthook
    threading.excepthook = lambda args: None  # the command's own error is the one reported
    failed = True
    try:
        yield
        failed = False
    finally:
        threading.excepthook = hook
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
        if not failed:
            for record in held:
                logging.getLogger(record.name).handle(record)


class _Hold(logging.Handler):
    def __init__(self, held: list[logging.LogRecord]):
        super().__init__(logging.DEBUG)
        self.held = held

    def emit(self, record: logging.LogRecord) -> None:
        self.held.append(record)


def _internal(ctx: click.Context, exc: BaseException) -> None:
    click.echo(
        f"neurodata: internal error: {type(exc).__name__}: {_one_line(exc)} "
        "(run with --debug for the traceback, and please report it)",
        err=True,
    )
    ctx.exit(EXIT_INTERNAL)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neurodata")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--max-expansion",
    type=click.FloatRange(min=1),
    default=None,
    help="Bytes a file may declare per byte it stores, above 64 MiB (default 100; 'inf' "
    "removes the bound). Raise it only for files you trust (docs/guarantees.md).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, max_expansion: float | None) -> None:
    """neurodata: brain recordings and neural-network activations as labelled data.

    Read EEG/iEEG, NWB, fMRI, C. elegans and connectome files into one xarray
    data model, convert between formats, and compare brains with language models.
    """
    if max_expansion is not None:  # for the whole command (nd.config, closed with it)
        from .._config import config

        ctx.with_resource(config(max_expansion=max_expansion))


def _register() -> None:
    from . import (
        compare,
        connectome,
        convert,
        demo,
        formats,
        info,
        localize,
        rsa,
        sys_info,
        tag,
        validate,
    )

    for module in (
        info, convert, validate, formats, compare, demo, tag, connectome, localize, rsa, sys_info
    ):  # fmt: skip
        cli.add_command(module.command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``neurodata`` console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="neurodata")
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
