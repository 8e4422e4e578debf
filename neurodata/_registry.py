"""Method registries and argument checks: one place for the error form of every choice.

Every choice, integer and seed argument of the public API is checked here, so that the
message reads the same everywhere::

    SchemaError: `method` must be one of ['correlation', 'euclidean']; got 'pearson'
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Mapping
from typing import Any

from .errors import SchemaError

__all__ = ["check_int", "check_level", "check_seed", "pick", "rng"]


def _listed(registry: Collection[Any]) -> list[Any]:
    try:
        return sorted(registry)
    except TypeError:  # mixed kinds (e.g. None among strings): keep the given order
        return list(registry)


def pick(registry: Mapping[str, Any] | Collection[Any], name: Any, param: str) -> Any:
    """``registry[name]`` (or ``name`` itself for a collection of names).

    Raises
    ------
    SchemaError
        "`param` must be one of [...]; got 'name'" when ``name`` is not registered.
    """
    try:
        found = name in registry
    except TypeError:  # unhashable name
        found = False
    if not found:
        raise SchemaError(f"`{param}` must be one of {_listed(registry)}; got {name!r}")
    return registry[name] if isinstance(registry, Mapping) else name


def check_int(value: Any, param: str, *, minimum: int | None = None) -> int:
    """``value`` (an integer, numpy's included) as an int; bools, floats and values below
    ``minimum`` raise.

    Raises
    ------
    SchemaError
        "`param` must be an integer >= minimum; got value".
    """
    bound = "" if minimum is None else f" >= {minimum}"
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or (minimum is not None and int(value) < minimum):
        raise SchemaError(f"`{param}` must be an integer{bound}; got {value!r}")
    return int(value)


def check_level(level: Any, param: str = "level") -> float:
    """A significance level strictly between 0 and 1.

    Raises
    ------
    SchemaError
        "`level` must be in (0, 1); got 1.5".
    """
    try:
        ok = not isinstance(level, bool) and 0 < float(level) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SchemaError(f"`{param}` must be in (0, 1); got {level!r}")
    return float(level)


def check_seed(seed: Any, param: str = "seed") -> Any:
    """A seed: a non-negative int (or a ``numpy.random.Generator``, passed through).

    ``None`` is refused: results must be reproducible, and every ``seed`` defaults to 0.

    Raises
    ------
    SchemaError
        "`seed` must be a non-negative integer or a numpy.random.Generator; got None".
    """
    if type(seed).__name__ == "Generator" and hasattr(seed, "bit_generator"):
        return seed
    ok = isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0
    if not ok:
        raise SchemaError(
            f"`{param}` must be a non-negative integer or a numpy.random.Generator; got {seed!r}"
        )
    return int(seed)


def rng(seed: Any, param: str = "seed") -> Any:
    """A ``numpy.random.Generator`` from a checked seed (a Generator is passed through)."""
    import numpy as np

    seed = check_seed(seed, param)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
