"""Small helpers shared by the figure modules."""

from __future__ import annotations

import xarray as xr

__all__ = ["coord_labels"]


def coord_labels(obj: xr.DataArray | xr.Dataset, dim: str) -> list[str]:
    """Tick labels along ``dim``: its coordinate values as text, else the positions."""
    if dim in obj.coords:
        return [str(v) for v in obj[dim].values]
    return [str(i) for i in range(obj.sizes[dim])]
