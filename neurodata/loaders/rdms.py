"""RDM files of the MATLAB RSA toolbox: ``.mat`` struct arrays with ``name`` and ``RDM``.

The MATLAB RSA toolbox (Nili et al. 2014) stores RDMs as struct arrays with
fields ``name``, ``RDM`` and often ``color``; ``RDM`` is a square matrix
(n x n) or the upper-triangle vector of n(n-1)/2 dissimilarities (MATLAB's
``squareform``: the same order as `scipy.spatial.distance.squareform`,
row-major over the upper triangle). [`read_rdms`][] reads every such struct
array of a file (or the one named) into neurodata's RDM form, the dims of
[`neurodata.analyses.rsa.rdm`][]: (``rdm``, ``stimulus``, ``stimulus_2``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import FormatError, NotFoundError
from ._matguard import check_mat5

__all__ = ["rdm_structs", "read_rdms", "sniff_rdm_mat"]


def _is_rdm_struct(value: Any) -> bool:
    items = np.atleast_1d(value)
    return (
        items.dtype == object
        and items.size > 0
        and all(hasattr(x, "_fieldnames") and {"name", "RDM"} <= set(x._fieldnames) for x in items)
    )


def _loadmat(path: Path) -> dict[str, Any]:
    from scipy.io import loadmat

    check_mat5(path)
    try:
        return loadmat(path, squeeze_me=True, struct_as_record=False)
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise FormatError(f"{path}: not a MATLAB v5 file scipy can read ({exc})") from None


def rdm_structs(path: str | os.PathLike, contents: dict[str, Any] | None = None) -> list[str]:
    """Names of the variables of a ``.mat`` file that are RDM struct arrays (name + RDM)."""
    contents = _loadmat(Path(path)) if contents is None else contents
    return [k for k, v in contents.items() if not k.startswith("__") and _is_rdm_struct(v)]


def sniff_rdm_mat(path: str | os.PathLike) -> bool:
    """Whether ``path`` starts like a MATLAB v5 file (its 116-byte text header)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(10) == b"MATLAB 5.0"
    except OSError:
        return False


def _square(rdm: Any, where: str) -> np.ndarray:
    from scipy.spatial.distance import squareform

    values = np.asarray(rdm, dtype=np.float64)
    if values.ndim == 1:
        n = (1 + np.sqrt(1 + 8 * values.size)) / 2
        if n != int(n):
            raise FormatError(
                f"{where}: a vector of {values.size} dissimilarities is no upper triangle "
                "(expected n(n-1)/2 values)"
            )
        return squareform(values, checks=False)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise FormatError(
            f"{where}: RDM has shape {values.shape}; expected a square matrix or an "
            "upper-triangle vector"
        )
    if not np.allclose(values, values.T, equal_nan=True):
        raise FormatError(f"{where}: RDM is not symmetric")
    diag = np.diag(values)
    if np.any(np.abs(diag[np.isfinite(diag)]) > 1e-12):
        raise FormatError(f"{where}: RDM has a non-zero diagonal")
    return values


def read_rdms(
    path: str | os.PathLike, *, variable: str | None = None, dim: str = "stimulus"
) -> xr.DataArray:
    """Read the RDMs of a MATLAB RSA-toolbox ``.mat`` file.

    Parameters
    ----------
    path : str or os.PathLike
        A MATLAB v5 ``.mat`` file holding struct arrays with fields ``name`` and
        ``RDM`` (square or upper-triangle vector; ``color`` is kept if present).
    variable : str, optional
        The struct array to read; default every RDM struct array of the file,
        in file order.
    dim : str
        Name of the condition dim (default ``"stimulus"``).

    Returns
    -------
    xarray.DataArray
        Dims (``rdm``, `dim`, `dim`_2), float64, symmetric with a zero diagonal;
        coords ``rdm`` (the names), ``struct`` (the struct array each came from)
        and ``color`` (the struct's RGB as ``"#rrggbb"``, when the file has it); attrs ``source`` and
        ``source_format``.

    Raises
    ------
    FormatError
        A file without RDM structs, a vector that is no upper triangle, a
        matrix that is not square, symmetric or zero on the diagonal, or RDMs
        of different sizes.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    contents = _loadmat(path)
    found = rdm_structs(path, contents)
    if variable is not None:
        if variable not in found:
            raise FormatError(
                f"{path}: `variable` {variable!r} is not an RDM struct array (fields name, RDM); "
                f"the file has {found}"
            )
        found = [variable]
    if not found:
        names = sorted(k for k in contents if not k.startswith("__"))
        raise FormatError(
            f"{path}: no RDM struct array (fields 'name' and 'RDM') among its variables {names}"
        )
    names, sources, colors, squares = [], [], [], []
    for var in found:
        for i, item in enumerate(np.atleast_1d(contents[var])):
            name = str(item.name)
            squares.append(_square(item.RDM, f"{path}: {var}({i + 1}) {name!r}"))
            names.append(name)
            sources.append(var)
            color = np.asarray(getattr(item, "color", np.full(3, np.nan)), dtype=float).ravel()
            colors.append(color if color.size == 3 else np.full(3, np.nan))
    sizes = {s.shape[0] for s in squares}
    if len(sizes) > 1:
        listed = ", ".join(f"{n!r}: {s.shape[0]}" for n, s in zip(names, squares))
        raise FormatError(f"{path}: RDMs of different sizes ({listed})")
    n = squares[0].shape[0]
    out = xr.DataArray(
        np.stack(squares),
        dims=("rdm", dim, f"{dim}_2"),
        coords={
            "rdm": np.array(names, dtype=object),
            "struct": ("rdm", np.array(sources, dtype=object)),
            dim: np.arange(n),
            f"{dim}_2": np.arange(n),
        },
        attrs={
            "source": os.fspath(path),
            "source_format": "rsatoolbox-mat",
            "long_name": "dissimilarity as the file gives it (dimensionless)",
        },
    )
    if not np.isnan(colors).all():
        hexes = [
            ""
            if np.isnan(c).any()
            else "#" + "".join(f"{round(255 * min(max(v, 0), 1)):02x}" for v in c)
            for c in colors
        ]
        out = out.assign_coords(color=("rdm", np.array(hexes, dtype=object)))
    return out
