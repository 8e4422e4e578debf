"""neurodata's data model as code: dimension names, coordinates, attrs and units.

Everything that passes between loaders, models and analyses is an
`xarray.Dataset` or `xarray.DataArray` with named dims drawn from
`DIMS`. [`validate`][] checks an object against those conventions (and,
optionally, against one *kind* of data from `KINDS`), and the coercion
gates ([`as_dataarray`][], [`as_dataset`][], [`as_timeseries`][],
[`as_annotations`][]) turn paths, arrays with explicit dims and xarray objects
into validated labelled data. Public functions call one gate first and do not
re-check shapes afterwards.

Conventions checked (see ``DESIGN.md``):

- every dim is a known neurodata dim (``time``, ``channel``, ...), or such a dim
  with the suffix ``_2`` (the second axis of a square matrix, e.g. an RDM);
- a ``time`` dim has a float coordinate in seconds (``units="s"``), strictly
  increasing; ``attrs["sfreq"]`` (Hz), when present, agrees with its steps;
  per-record clocks (e.g. one per worm) go in a ``timestamps`` coordinate that
  spans ``time`` and may hold NaN as padding;
- a ``frequency`` dim has a non-negative increasing coordinate in Hz;
- ``channel`` and ``neuron`` labels are unique strings; ``bad`` is boolean;
  electrode positions ``x``, ``y``, ``z`` are in metres;
- ``units`` attrs are physical units, never "a.u."-style placeholders (use
  ``long_name`` to say a quantity is dimensionless); in what a loader returns
  (``attrs["source_format"]`` set) every numeric data variable has one or the other;
- ``start_time`` is an ISO-8601 string."""

from __future__ import annotations

from ._gates import (  # noqa: F401
    DEFAULT_ARRAY_DIMS,
    _from_path,
    _in_seconds,
    _labelled_array,
    _take_variable,
    _time_coordinate,
    as_annotations,
    as_dataarray,
    as_dataset,
    as_timeseries,
)
from ._provenance import (
    append_history,
    with_provenance,
)
from ._validate import (  # noqa: F401
    _CONVENTION_CHECKS,
    KINDS,
    ArrayLike,
    _attr_problems,
    _data_arrays,
    _describe,
    _dim_problems,
    _find_attr,
    _frequency_problems,
    _is_lazy,
    _is_str_dtype,
    _kind_activations,
    _kind_annotations,
    _kind_connectome,
    _kind_rdm,
    _kind_spectrum,
    _kind_timeseries,
    _label_problems,
    _time_problems,
    _unitless_problems,
    _units_problems,
    _variables,
    infer_kinds,
    problems,
    validate,
)
from ._vocabulary import (  # noqa: F401
    _NOT_UNITS,
    _POSITION_COORDS,
    DIMS,
    LABEL_DIMS,
    UNIT_DIMS,
    unit_dims,
)

__all__ = [
    "DIMS",
    "KINDS",
    "LABEL_DIMS",
    "UNIT_DIMS",
    "append_history",
    "as_annotations",
    "as_dataarray",
    "as_dataset",
    "as_timeseries",
    "infer_kinds",
    "problems",
    "unit_dims",
    "validate",
    "with_provenance",
]
