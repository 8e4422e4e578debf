"""Every writer round-tripped on every real recording, sample by sample (issue 17 case 5).

What a format cannot hold must be said in the one warning line of the conversion;
everything else must come back: sizes, names, values within the format's stated
precision, annotations, start time. The table in docs/loaders-eeg-nwb.md is this test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from tests.loaders.conftest import REAL_EEG

pytest.importorskip("mne")

RECORDINGS = REAL_EEG

#: Writer -> output name (FIF raw files end in _raw.fif).
WRITERS = {
    "edf": "out.edf",
    "brainvision": "out.vhdr",
    "fif": "out_raw.fif",
    "nwb": "out.nwb",
    "zarr": "out.zarr",
    "netcdf": "out.nc",
}


def _tolerance(kind: str, src: np.ndarray) -> np.ndarray:
    """Largest error each channel may show in ``kind`` (the format's documented precision)."""
    if kind == "edf":  # 16 bits between the channel's physical min and max, each written
        # in 8 characters of microvolts (relative rounding <= 1e-5), flat channels 1 uV wide
        span = src.max(axis=0) - src.min(axis=0)
        rounding = np.abs(src).max(axis=0) * 2e-5 + np.where(span == 0, 1e-6, 0)
        return (span + rounding) / 65534 * 1.001
    if kind == "brainvision":  # float32 samples
        return np.abs(src).max(axis=0) * 2.0**-23
    return np.zeros(src.shape[1])  # float64: exact


def _said(lost: str, messages: list[str]) -> bool:
    return any(lost in m for m in messages)


@pytest.mark.shared_data
@pytest.mark.parametrize("kind", sorted(WRITERS))
@pytest.mark.parametrize("recording", RECORDINGS)
def test_writer_round_trip(recording, kind, shared_data, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = nd.load(shared_data / recording)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = nd.save(src, tmp_path / WRITERS[kind])
    said = [str(w.message) for w in caught if "cannot keep" in str(w.message)]
    assert len(said) <= 1  # one line per conversion
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = nd.load(out)
    assert back.sizes["time"] == src.sizes["time"] and back.sizes["channel"] == src.sizes["channel"]
    assert list(back["channel"].values) == list(src["channel"].values)
    a, b = np.asarray(src["signal"].values), np.asarray(back["signal"].values)
    error = np.abs(a - b).max(axis=0)
    assert np.all(error <= _tolerance(kind, a)), (kind, float(error.max()))
    for coord, lost in (("ch_type", "channel types"), ("ch_unit", "units"), ("bad", "bad-channel")):
        if list(back[coord].values) != list(src[coord].values):
            assert _said(lost, said), (coord, said)
    positions = np.stack([src[a].values for a in "xyz"])
    if not np.allclose(np.stack([back[a].values for a in "xyz"]), positions, equal_nan=True):
        assert _said("electrode positions", said), said
    for attr in ("highpass", "lowpass", "line_freq"):
        if attr in src.attrs and not np.isclose(back.attrs.get(attr, np.nan), src.attrs[attr]):
            assert _said(
                attr.replace("pass", "pass/lowpass") if attr == "highpass" else attr, said
            ) or (kind == "fif" and np.isclose(back.attrs[attr], src.attrs[attr], rtol=1e-6)), (
                attr,
                said,
            )  # FIF stores filter edges as float32
    assert back.attrs.get("start_time") == src.attrs.get("start_time")
    n_events = src.sizes.get("event", 0)
    if n_events:
        if list(back["label"].values) != list(src["label"].values):
            assert _said("annotation labels", said)
        # FIF stores annotation start and end times as float32; BrainVision markers sit on
        # whole samples (MNE's exporter rounds down)
        atol = 1e-6
        if kind == "fif":
            atol = float(np.abs(src["onset"] + src["duration"]).max()) * 2.0**-22 + 1e-6
        elif _said("annotation times", said):
            atol = 1.0 / src.attrs["sfreq"]
        for var in ("onset", "duration"):
            np.testing.assert_allclose(back[var].values, src[var].values, rtol=0, atol=atol)


@pytest.mark.shared_data
def test_cli_convert_says_what_it_cannot_keep(shared_data, tmp_path):
    source = shared_data / "ieeg" / "sample_ecog_ieeg.fif"
    result = CliRunner().invoke(cli, ["convert", "-q", str(source), str(tmp_path / "x.vhdr")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "cannot keep" in line]
    assert len(lines) == 1 and lines[0].startswith("neurodata: warning: x.vhdr: brainvision")
    assert "channel types ['ecog', 'seeg']" in lines[0]
