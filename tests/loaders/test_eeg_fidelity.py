"""EDF channel types and units, MNE reader options, and EDF writing without padding.

Regressions of issue 17 cases 3, 4 and 5 (EDF side); MNE and edfio are the oracles.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import neurodata as nd
from neurodata.cli import cli
from neurodata.errors import FormatError

mne = pytest.importorskip("mne")
edfio = pytest.importorskip("edfio")

from tests.loaders.conftest import export, make_raw  # noqa: E402

SFREQ = 256


@pytest.fixture(scope="module")
def typed_edf(tmp_path_factory):
    """38 EEG, 2 ECG and 2 SaO2 channels labelled the EDF+ way, as in the report."""
    rng = np.random.default_rng(0)
    n = SFREQ * 4

    def signal(label, dim, values, rng_):
        return edfio.EdfSignal(values, SFREQ, label=label, physical_dimension=dim,
                               physical_range=rng_)  # fmt: skip

    signals = [
        signal(f"EEG E{i}", "uV", rng.standard_normal(n) * 20, (-200, 200)) for i in range(38)
    ]
    signals += [
        signal(f"ECG ECG{i}", "uV", rng.standard_normal(n) * 500, (-3000, 3000)) for i in (1, 2)
    ]
    signals += [signal(f"SaO2 X{i}", "%", 90 + rng.random(n), (0, 100)) for i in (9, 10)]
    path = tmp_path_factory.mktemp("typed") / "typed.edf"
    edfio.Edf(signals).write(path)
    return path


def _mne(path, **kwargs):
    return mne.io.read_raw_edf(path, verbose="ERROR", **kwargs)


def test_edf_channel_types_inferred_as_mne_does(typed_edf):
    ds = nd.load(typed_edf)
    raw = _mne(typed_edf, infer_types=True)
    assert collections.Counter(ds["ch_type"].values) == {"eeg": 38, "ecg": 2, "bio": 2}
    assert list(ds["ch_type"].values) == raw.get_channel_types()
    assert list(ds["channel"].values) == raw.ch_names
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)


def test_non_voltage_units_kept(typed_edf):
    ds = nd.load(typed_edf)
    units = dict(zip(ds["channel"].values, ds["ch_unit"].values))
    assert units["X9"] == "%" and units["E0"] == "V" and units["ECG1"] == "V"
    assert "units" not in ds["signal"].attrs  # mixed units: per channel in ch_unit
    assert "ch_unit" in ds["signal"].attrs["long_name"]
    assert float(ds["signal"].sel(channel="X9").min()) > 89  # percent, not scaled as volts


def test_types_and_units_written_back_to_edf(typed_edf, tmp_path):
    src = nd.load(typed_edf)
    out = nd.save(src, tmp_path / "back.edf")
    labels = [s.label for s in edfio.read_edf(out).signals]
    assert labels[0] == "EEG E0" and labels[38] == "ECG ECG1" and labels[40] == "BIO X9"
    back = nd.load(out)
    for name in ("channel", "ch_type", "ch_unit"):
        assert list(back[name].values) == list(src[name].values), name
    step = (src["signal"].max("time") - src["signal"].min("time")) / 65535
    assert bool((abs(back["signal"] - src["signal"]) <= step).all())


def test_fif_to_edf_keeps_every_sample(tmp_path):
    raw = make_raw(n_seconds=3.3)  # 844.8 -> 844 samples: not whole 1-s records
    fif = export(raw, tmp_path / "rec_raw.fif")
    src = nd.load(fif)
    out = nd.save(src, tmp_path / "rec.edf")
    assert mne.io.read_raw_edf(out, verbose="ERROR").n_times > src.sizes["time"]  # padded file
    back = nd.load(out)
    assert back.sizes["time"] == src.sizes["time"] == raw.n_times
    assert "BAD_ACQ_SKIP" not in set(back["label"].values)
    assert list(back["label"].values) == list(src["label"].values)
    np.testing.assert_allclose(back["onset"].values, src["onset"].values, atol=1e-3)
    step = (src["signal"].max("time") - src["signal"].min("time")) / 65535
    assert bool((abs(back["signal"] - src["signal"]) <= step).all())
    assert "padding" in back.attrs["history"]


def test_edf_refuses_a_non_integer_rate(tmp_path, eeg_like):
    rate = 199.5
    ds = eeg_like.assign_coords(
        time=("time", np.arange(eeg_like.sizes["time"]) / rate, {"units": "s"})
    )
    ds.attrs["sfreq"] = ds["signal"].attrs["sfreq"] = rate
    with pytest.raises(FormatError, match=r"199.5 Hz would change the sample times"):
        nd.save(ds, tmp_path / "x.edf")
    assert not (tmp_path / "x.edf").exists()


def test_every_mne_option_passes_through(typed_edf):
    ds = nd.load(typed_edf, infer_types=False, exclude=["EEG E0"])
    raw = _mne(typed_edf, infer_types=False, exclude=["EEG E0"])
    assert list(ds["channel"].values) == raw.ch_names and raw.ch_names[0] == "EEG E1"
    np.testing.assert_array_equal(ds["signal"].values, raw.get_data().T)


def test_cli_option_reaches_mne(typed_edf):
    result = CliRunner().invoke(
        cli, ["info", "--json", str(typed_edf), "-o", "infer_types=false", "-o", "eog=[1]"]
    )
    assert result.exit_code == 0, result.output
    assert '"eog": 1' in result.output and '"eeg": 41' in result.output


def test_unknown_option_lists_the_mne_readers_options(typed_edf):
    with pytest.raises(FormatError, match=r"read_raw_edf does not take option\(s\) \['data_fo"):
        nd.load(typed_edf, data_format="int16")


def test_mne_error_is_one_line_keeping_its_text(typed_edf):
    with pytest.raises(ValueError) as direct:
        _mne(typed_edf, infer_types=True, units="bogus")
    expected = " ".join(str(direct.value).split())
    with pytest.raises(FormatError) as ours:
        nd.load(typed_edf, units="bogus")
    assert expected in str(ours.value) and "\n" not in str(ours.value)
    assert "units='bogus'" in str(ours.value)


def test_cnt_takes_data_format(tmp_path):
    broken = tmp_path / "rec.cnt"
    broken.write_bytes(b"Version 3.0\x00" + bytes(1200))
    result = CliRunner().invoke(cli, ["info", str(broken), "-o", "data_format=int16"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "read_raw_cnt(data_format='int16'" in lines[0]
    assert "does not take" not in lines[0]


def test_export_warns_when_a_type_cannot_be_written(tmp_path, eeg_like):
    ds = eeg_like.assign_coords(
        ch_type=("channel", ["gsr"] + ["eeg"] * (eeg_like.sizes["channel"] - 1))
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nd.save(ds, tmp_path / "g.edf")
    assert any("channel type not written" in str(w.message) for w in caught)


@pytest.mark.parametrize("name", ["bad.edf", "bad.vhdr"])
def test_lost_bad_flags_are_said(tmp_path, eeg_like, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nd.save(eeg_like, tmp_path / name)
    said = [str(w.message) for w in caught if "cannot keep" in str(w.message)]
    assert len(said) == 1 and "bad-channel flags" in said[0]
    assert not nd.load(tmp_path / name)["bad"].values.any()  # the loss the line announced


def test_edf_export_says_what_other_readers_will_see(tmp_path, eeg_like):
    # 250 samples at 100 Hz: the last 1-s record is padded; no start: EDF's 1985 placeholder
    with pytest.warns(RuntimeWarning, match=r"last 1-s record gets 50 padding samples") as rec:
        nd.save(eeg_like, tmp_path / "a.edf")
    assert not any("start date" in str(w.message) for w in rec)
    undated = eeg_like.copy()
    undated.attrs.pop("start_time")
    with pytest.warns(RuntimeWarning, match=r"an unknown start date \(EDF writes 1985-01-01\)"):
        nd.save(undated, tmp_path / "b.edf")
    back = nd.load(tmp_path / "a.edf")
    assert back.sizes["time"] == eeg_like.sizes["time"]  # the padding is dropped on reading
