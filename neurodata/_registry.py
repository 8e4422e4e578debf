"""Method registries: choosing a variant by name, with the error listing the choices."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["pick"]


def pick(registry: Mapping[str, Any] | Collection[str], name: Any, param: str) -> Any:
    """``registry[name]`` (or ``name`` itself for a collection of names).

    Raises
    ------
    ValueError
        "`param` must be one of [...]; got 'name'" when ``name`` is not registered.
    """
    try:
        found = name in registry
    except TypeError:  # unhashable name
        found = False
    if not found:
        raise ValueError(f"`{param}` must be one of {sorted(registry)}; got {name!r}")
    return registry[name] if isinstance(registry, Mapping) else name
