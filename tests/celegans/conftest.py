"""Fixtures for the C. elegans tests (the real files are in ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def celegans_data(shared_data) -> Path:
    """../shared/data/celegans (skips when absent)."""
    path = shared_data / "celegans"
    if not (path / "flavell2023").is_dir() or not (path / "connectomes").is_dir():
        pytest.skip(f"C. elegans shared data not available: {path}")
    return path
