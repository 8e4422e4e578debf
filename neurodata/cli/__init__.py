"""The ``neurodata`` command: a thin shell over the public API.

Each subcommand lives in its own module and calls public functions only.
Errors print one line (``neurodata: error: <file>: <reason>``) and exit with a
non-zero status; ``--debug`` (or ``NEURODATA_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

from ._app import cli, main

__all__ = ["cli", "main"]
