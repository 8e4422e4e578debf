"""Small real files, one per loader, written by the library that owns each format.

They seed the fuzz suite: every mutation starts from a file the real reader accepts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Seed:
    """A seed recording: ``main`` is what :func:`neurodata.load` opens; ``files`` may be mutated."""

    name: str
    main: str
    files: tuple[str, ...]
    options: tuple[tuple[str, object], ...] = ()


def _raw(n_seconds: float = 1.0):
    import mne

    sfreq = 128.0
    rng = np.random.default_rng(0)
    info = mne.create_info(["Fp1", "Cz", "O1"], sfreq, "eeg", verbose="ERROR")
    raw = mne.io.RawArray(
        rng.standard_normal((3, int(n_seconds * sfreq))) * 20e-6, info, verbose="ERROR"
    )
    raw.set_meas_date(1_600_000_000)
    raw.set_annotations(
        mne.Annotations([0.1, 0.5], [0.2, 0.0], ["stim", "resp"], orig_time=raw.info["meas_date"])
    )
    return raw


def _export(raw, path: Path) -> None:
    import mne

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.suffix == ".fif":
            raw.save(path, overwrite=True, verbose="ERROR")
        else:
            mne.export.export_raw(path, raw, overwrite=True, verbose="ERROR")


def _eeg(folder: Path) -> list[Seed]:
    raw = _raw()
    _export(raw, folder / "rec.edf")
    _export(raw, folder / "rec.bdf")
    _export(raw, folder / "rec.vhdr")
    _export(raw, folder / "rec_raw.fif")
    _export(raw, folder / "rec.set")
    return [
        Seed("edf", "rec.edf", ("rec.edf",)),
        Seed("bdf", "rec.bdf", ("rec.bdf",)),
        Seed("brainvision", "rec.vhdr", ("rec.vhdr", "rec.vmrk", "rec.eeg")),
        Seed("fif", "rec_raw.fif", ("rec_raw.fif",)),
        Seed("eeglab", "rec.set", ("rec.set",)),
    ]


def _nwb(folder: Path) -> Seed:
    from datetime import UTC, datetime

    import pynwb

    nwb = pynwb.NWBFile(
        session_description="fuzz seed",
        identifier="seed",
        session_start_time=datetime(2020, 1, 1, tzinfo=UTC),
    )
    rng = np.random.default_rng(1)
    nwb.add_acquisition(
        pynwb.TimeSeries(name="speed", data=rng.standard_normal(20), unit="m/s", rate=10.0)
    )
    with pynwb.NWBHDF5IO(str(folder / "rec.nwb"), "w") as io:
        io.write(nwb)
    return Seed("nwb", "rec.nwb", ("rec.nwb",))


def _nifti(folder: Path) -> Seed:
    import nibabel as nib

    data = np.random.default_rng(2).standard_normal((4, 4, 3, 5)).astype(np.float32)
    img = nib.Nifti1Image(data, np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.0
    nib.save(img, folder / "bold.nii")
    return Seed("nifti", "bold.nii", ("bold.nii",), (("mask", "all"),))


def _celegans(folder: Path) -> list[Seed]:
    import h5py

    rng = np.random.default_rng(3)
    with h5py.File(folder / "w1-data.h5", "w") as fh:
        fh["gcamp/trace_array"] = rng.standard_normal((30, 4))
        fh["timing/timestamp_confocal"] = 1000 + np.cumsum(rng.uniform(0.5, 0.7, 30))
    with h5py.File(folder / "worm.nwb", "w") as fh:
        fh.attrs["nwb_version"] = "2.1.0"
        fh.attrs["neurodata_type"] = "NWBFile"
        fh["identifier"] = b"seed-worm"
        fh["session_start_time"] = b"2020-06-18T10:07:10+01:00"
        for i, name in enumerate(["AVAL", "AVAR"]):
            group = fh.create_group(f"acquisition/Activity_{i:04d}")
            group.attrs["neurodata_type"] = "TimeSeries"
            group.attrs["description"] = f"Neuron: {name}"
            group["data"] = rng.standard_normal(25)
            group["timestamps"] = np.arange(25) / 6.0
    (folder / "edges.csv").write_text(
        "pre,post,type,synapses\nAVAL,AVAR,chemical,3\nAVAR,AVAL,electrical,2\nASHL,AVAL,chemical,5\n"
    )
    seeds = [
        Seed("flavell", "w1-data.h5", ("w1-data.h5",)),
        Seed("celegans-nwb", "worm.nwb", ("worm.nwb",)),
        Seed("connectome-edgelist", "edges.csv", ("edges.csv",)),
    ]
    try:
        import pandas as pd
        import pyarrow  # noqa: F401
    except ImportError:
        return seeds
    rows = [
        {
            "source_dataset": "Seed2024",
            "worm": "worm0",
            "neuron": name,
            "slot": slot,
            "is_labeled_neuron": True,
            "is_unlabeled_neuron": False,
            "original_calcium_data": rng.standard_normal(12).astype(np.float32),
            "calcium_data": rng.standard_normal(12).astype(np.float32),
            "original_time_in_seconds": (np.arange(12) / 3.0).astype(np.float32),
            "time_in_seconds": (np.arange(12) / 3.0).astype(np.float32),
        }
        for slot, name in enumerate(["AVAL", "AVAR"])
    ]
    pd.DataFrame(rows).to_parquet(folder / "worms.parquet")
    return [*seeds, Seed("celegans-homogenized", "worms.parquet", ("worms.parquet",))]


def _text_and_stores(folder: Path) -> list[Seed]:
    import xarray as xr

    import neurodata as nd

    (folder / "words.TextGrid").write_text(
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1.5\n<exists>\n1\n'
        '"IntervalTier"\n"words"\n0\n1.5\n3\n0\n0.5\n"the"\n0.5\n1.0\n"white"\n1.0\n1.5\n"rabbit"\n'
    )
    np.save(folder / "arr.npy", np.arange(24.0).reshape(4, 6))
    (folder / "regions.tsv").write_text(
        "V1\tV2\tA1\n"
        + "\n".join(
            "\t".join(f"{v:.3f}" for v in row)
            for row in np.random.default_rng(4).standard_normal((8, 3))
        )
    )
    ds = xr.Dataset(
        {"signal": (("time", "channel"), np.arange(12.0).reshape(4, 3))},
        coords={"channel": ["a", "b", "c"], "time": np.arange(4) / 10.0},
        attrs={"sfreq": 10.0},
    )
    nd.save(ds, folder / "store.nc")
    return [
        Seed("textgrid", "words.TextGrid", ("words.TextGrid",)),
        Seed("numpy", "arr.npy", ("arr.npy",)),
        Seed(
            "parcellated-table",
            "regions.tsv",
            ("regions.tsv",),
            (("format", "parcellated-table"), ("tr", 2.0)),
        ),
        Seed("netcdf", "store.nc", ("store.nc",)),
    ]


def make_seeds(folder: Path) -> dict[str, Seed]:
    """Write every seed into ``folder``; formats whose writer is not installed are left out."""
    seeds: list[Seed] = []
    for build in (_eeg, _nwb, _nifti, _celegans, _text_and_stores):
        try:
            made = build(folder)
        except ImportError:
            continue
        seeds.extend(made if isinstance(made, list) else [made])
    return {s.name: s for s in seeds}
