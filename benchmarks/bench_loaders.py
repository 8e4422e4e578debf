"""EEG loaders against MNE's own readers (same files, same run).

- full loads of EDF, BDF and BrainVision files: ``neurodata.load(path)`` with
  the values in memory vs ``mne.io.read_raw(path, preload=True).get_data()``;
  real files from ../shared/data when present (with ``build_ms``, the time
  :func:`~neurodata.loaders.eeg.dataset_from_raw` takes on the preloaded Raw:
  the fixed cost of building the Dataset), plus generated 64-channel
  recordings (10 min at 512 Hz, read lazily by default; 1 min with ``quick``);
- a 1-minute window of a long generated EDF (2 h x 64 channels at 256 Hz;
  10 min with ``quick``) read through ``load`` + ``sel`` (the default call) and
  ``load(lazy=True)`` + ``isel``, with peak traced memory, vs MNE's
  ``read_raw_edf(preload=False).get_data(start, stop)``.

Every row carries ``load_avg``, the machine's 1-minute load average
(``os.getloadavg()``, as ``uptime`` prints it) when the row was measured.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._harness import measure, row

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEURODATA_SHARED_DATA", ROOT.parent / "shared" / "data"))
REAL = {
    "EDF": SHARED / "eeg" / "physionet_motor_imagery.edf",
    "BDF": SHARED / "eeg" / "openbci_sleep.bdf",
    "BrainVision": SHARED / "eeg" / "bv_dig_test.vhdr",
}


def _write_edf(path: Path, n_channels: int, sfreq: int, seconds: int, *, bdf: bool = False) -> Path:
    """A plain EDF/BDF written record by record (no big array in memory)."""
    dmax = 2**23 - 1 if bdf else 32767
    n_records = seconds
    labels = [f"EEG{i:03d}" for i in range(n_channels)]

    def field(values, size):
        return "".join(str(v)[:size].ljust(size) for v in values)

    header = (
        ("\xffBIOSEMI" if bdf else "0").ljust(8)
        + "X X X X".ljust(80)
        + "Startdate 01-JAN-2020 X X X".ljust(80)
        + "01.01.2012.00.00"
        + str(256 * (n_channels + 1)).ljust(8)
        + ("24BIT" if bdf else "").ljust(44)
        + str(n_records).ljust(8)
        + "1".ljust(8)
        + str(n_channels).ljust(4)
    )
    header += field(labels, 16) + field(["AgAgCl"] * n_channels, 80)
    header += field(["uV"] * n_channels, 8)
    header += field([-3200] * n_channels, 8) + field([3200] * n_channels, 8)
    header += field([-dmax - 1] * n_channels, 8) + field([dmax] * n_channels, 8)
    header += field([""] * n_channels, 80) + field([sfreq] * n_channels, 8)
    header += field([""] * n_channels, 32)
    raw_header = header.encode("latin-1")
    if bdf:
        raw_header = b"\xff" + raw_header[1:]
    rng = np.random.default_rng(0)
    with path.open("wb") as fh:
        fh.write(raw_header)
        block = rng.integers(-20000, 20000, size=(n_channels, sfreq), dtype=np.int32)
        for record in range(n_records):
            data = np.roll(block, record, axis=1)
            if bdf:
                b = data.astype("<i4").view(np.uint8).reshape(n_channels, sfreq, 4)[:, :, :3]
                fh.write(b.tobytes())
            else:
                fh.write(data.astype("<i2").tobytes())
    return path


def _generated(tmp: Path, quick: bool) -> dict[str, Path]:
    import mne

    seconds = 60 if quick else 600
    out = {
        "EDF": _write_edf(tmp / "gen.edf", 64, 512, seconds),
        "BDF": _write_edf(tmp / "gen.bdf", 64, 512, seconds, bdf=True),
    }
    raw = mne.io.read_raw_edf(out["EDF"], preload=True, verbose="ERROR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mne.export.export_raw(tmp / "gen.vhdr", raw, verbose="ERROR")
    out["BrainVision"] = tmp / "gen.vhdr"
    return out


def _full_load_rows(label: str, path: Path, size: str, repeat: int, **extra: Any) -> dict[str, Any]:
    import mne

    import neurodata as nd

    def ours():
        return nd.load(path)["signal"].values

    def peer():
        return mne.io.read_raw(path, preload=True, verbose="ERROR").get_data()

    np.testing.assert_array_equal(ours(), peer().T)
    measured = _alternating(ours, peer, repeat)
    return row(f"full load {label} ({size})", *measured, "mne.io.read_raw", **extra, **_load())


def _load() -> dict[str, float]:
    return {"load_avg": round(os.getloadavg()[0], 2)}


def _build_ms(path: Path, repeat: int) -> float:
    """Best time (ms) of building the Dataset from an already preloaded Raw."""
    import mne

    from neurodata.loaders.eeg import dataset_from_raw

    raw = mne.io.read_raw(path, preload=True, verbose="ERROR")
    return round(
        measure(lambda: dataset_from_raw(raw, source=path), repeat=repeat)["seconds"] * 1e3, 3
    )


def _alternating(ours, peer, repeat: int, memory: bool = False) -> tuple[dict, dict]:
    """Best of ``repeat`` runs each, alternating, so that load on a shared machine hits both."""
    runs: dict[str, list[dict]] = {"ours": [], "peer": []}
    for _ in range(repeat):
        runs["peer"].append(measure(peer, repeat=1))
        runs["ours"].append(measure(ours, repeat=1))
    best = [min(runs[k], key=lambda m: m["seconds"]) for k in ("ours", "peer")]
    if memory:
        best = [
            {**b, "peak_mib": measure(f, repeat=1, memory=True)["peak_mib"]}
            for b, f in zip(best, (ours, peer))
        ]
    return best[0], best[1]


def run(quick: bool = False) -> list[dict[str, Any]]:
    import mne

    mne.set_log_level("ERROR")
    rows = []
    repeat = 5 if quick else 9
    for label, path in REAL.items():
        if path.exists():
            # small files (tens of ms): more runs so that a busy machine does not decide
            build = _build_ms(path, 20 * repeat)
            rows.append(
                _full_load_rows(label, path, f"real {path.name}", 5 * repeat, build_ms=build)
            )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, path in _generated(tmp, quick).items():
            data_file = path.with_suffix(".eeg") if path.suffix == ".vhdr" else path
            mib = data_file.stat().st_size / 2**20
            lazily = " (read lazily by default)" if not quick else ""
            rows.append(_full_load_rows(label, path, f"generated {mib:.0f} MiB{lazily}", repeat))
        hours = 10 / 60 if quick else 2.0
        rows.extend(_window_rows(tmp, hours, repeat))
    return rows


def _window_rows(tmp: Path, hours: float, repeat: int) -> list[dict[str, Any]]:
    """One minute from the middle of a long EDF: the default call and lazy=True vs MNE."""
    import mne

    import neurodata as nd

    sfreq, n_channels = 256, 64
    long_edf = _write_edf(tmp / "long.edf", n_channels, sfreq, int(hours * 3600))
    first = int(3600 * hours / 2) * sfreq
    last = first + 60 * sfreq  # exclusive

    def peer_window():
        raw = mne.io.read_raw_edf(long_edf, preload=False, verbose="ERROR")
        return raw.get_data(start=first, stop=last)

    def default_window():  # seconds, both ends included: the last sample is at last - 1
        ds = nd.load(long_edf)
        return ds["signal"].sel(time=slice(first / sfreq, (last - 1) / sfreq)).values

    def lazy_window():
        ds = nd.load(long_edf, lazy=True)
        return ds["signal"].isel(time=slice(first, last)).values

    expected = peer_window().T
    rows = []
    full_mib = n_channels * sfreq * 3600 * hours * 8 / 2**20
    for call, ours in (("default call + sel", default_window), ("lazy=True + isel", lazy_window)):
        np.testing.assert_array_equal(ours(), expected)
        rows.append(
            row(
                f"1-min window of a {hours:g} h EDF ({n_channels} ch, {sfreq} Hz), {call}",
                *_alternating(ours, peer_window, repeat, memory=True),
                "mne read_raw_edf(preload=False).get_data(start, stop)",
                full_signal_mib=round(full_mib, 1),
                **_load(),
            )
        )
    return rows
