"""Reading small delimited text tables (CSV, TSV, whitespace) without guessing wildly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["read_table"]


def delimiter(path: Path) -> str:
    """Tab, comma or semicolon when the first non-empty line holds one (in that order), else whitespace.

    csv.Sniffer is not used: on numeric or one-column tables it picks letters or
    digits as delimiters.
    """
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        line = next((row for row in fh if row.strip()), "")
    for sep in ("\t", ",", ";"):
        if sep in line:
            return sep
    return r"\s+"


def read_table(path: Path, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with the delimiter from [`delimiter`][]."""
    sep = delimiter(path)
    engine = "python" if sep == r"\s+" else "c"
    return pd.read_csv(path, sep=sep, engine=engine, encoding="utf-8-sig", **options)
