"""What the user guide's pages take as given, made from the real data (see test_docs_examples).

``setup(page, work)`` links the files a page names into ``work`` (the scratch folder
the page's examples run in) and returns the namespace they start from. Pages without
an entry start from an empty namespace. Inputs are kept small where the page's
computation is long (a few subjects, layers, sentences): the code that runs is the
page's, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from tests.conftest import shared_path

EDF = ("eeg", "physionet_motor_imagery.edf")
WORMS = ("2022-07-26-31", "2022-07-26-38")


def _link(work: Path, name: str, *parts: str) -> Path:
    """``work/name`` -> the real file ``../shared/data/<parts>`` (skips when absent)."""
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(shared_path(*parts))
    return path


def _recording() -> dict[str, Any]:
    import neurodata as nd

    return {"nd": nd, "ds": nd.load(shared_path(*EDF))}


def _getting_started(work: Path) -> dict[str, Any]:
    _link(work, "recording.edf", *EDF)
    return {}


def _data_model(work: Path) -> dict[str, Any]:
    ns = _recording()
    ds = ns["ds"]
    ns["nd"].save(ds, work / "rec.zarr")
    ns["array"] = ds["signal"].values
    ns["pandas_frame"] = ds[["onset", "duration", "label"]].to_dataframe()
    return ns


def _storage(work: Path) -> dict[str, Any]:
    return _recording()


def _loaders_eeg(work: Path) -> dict[str, Any]:
    ns = _recording()
    ds = ns["ds"]  # PhysioNet pads its labels with dots ("Cz.."): written back without them
    ns["nd"].save(ds.assign_coords(channel=[c.strip(".") for c in ds.channel.values]),
                  work / "sub-01_task-rest_eeg.edf")  # fmt: skip
    _link(work, "overnight.edf", *EDF)  # 124 s: the hour-long window selects no sample
    return {}


def _scale(work: Path) -> dict[str, Any]:
    for sub in ("01", "02"):
        _link(work, f"bids_root/sub-{sub}/eeg/sub-{sub}_task-rest_eeg.edf", *EDF)
        _link(work, f"{'ab'[int(sub) - 1]}.edf", *EDF)
    (work / "bids_root" / "participants.tsv").write_text(
        "participant_id\tage\nsub-01\t31\nsub-02\t27\n", encoding="utf-8"
    )
    return {}


def _fmri(work: Path) -> dict[str, Any]:
    import nibabel as nib

    bold = _link(work, "sub-01_bold.nii.gz", "fmri", "fmri1.nii.gz")
    img = nib.load(bold)
    shape = img.shape[:3]
    nib.save(nib.Nifti1Image(np.ones(shape, np.uint8), img.affine), work / "sub-01_mask.nii.gz")
    atlas = np.zeros(shape, np.int16)
    atlas[: shape[0] // 2], atlas[shape[0] // 2 :] = 1, 2  # two halves
    nib.save(nib.Nifti1Image(atlas, img.affine), work / "atlas.nii.gz")
    (work / "atlas.tsv").write_text("index\tname\n2\tright\n1\tleft\n", encoding="utf-8")
    _link(work, "fmri_timeseries.csv", "fmri", "fmri_timeseries.csv")
    grid = _link(work, "story.TextGrid", "language", "alice",
                 "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid")  # fmt: skip
    import neurodata as nd

    words = nd.load(grid).to_dataframe().reset_index()
    words[["text", "onset", "offset"]].rename(columns={"text": "word"}).to_csv(
        work / "words.csv", index=False
    )
    events = words.assign(duration=words.offset - words.onset, trial_type="word")
    events[["onset", "duration", "trial_type", "text"]].to_csv(
        work / "sub-01_task-story_events.tsv", sep="\t", index=False
    )
    return {}


def _celegans(work: Path) -> dict[str, Any]:
    for uid in WORMS:
        _link(work, f"{uid}-data.h5", "celegans", "flavell2023", f"{uid}-data.h5")
        _link(work, f"{uid}_neuropal_labels.csv", "celegans", "flavell2023",
              f"{uid}_neuropal_labels.csv")  # fmt: skip
    return {"h5": f"{WORMS[1]}-data.h5", "csv": f"{WORMS[1]}_neuropal_labels.csv"}


def _connectome(work: Path) -> dict[str, Any]:
    import neurodata as nd
    from neurodata import celegans

    folder = shared_path("celegans", "flavell2023")
    worms = [nd.load(folder / f"{uid}-data.h5", labels=folder / f"{uid}_neuropal_labels.csv")
             for uid in WORMS]  # fmt: skip
    activity = celegans.resample(celegans.stack(worms), rate=1.0)["activity"]
    identified = np.isfinite(activity).all(("worm", "time"))
    activity = activity.sel(neuron=identified).isel(neuron=slice(30))  # 30 neurons, 435 pairs
    return {"activity": activity, "connectome": celegans.load_connectome("white1986")}


def _alice_words(n_words: int = 60) -> xr.Dataset:
    import neurodata as nd

    grid = shared_path("language", "alice", "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid")
    return nd.load(grid).isel(word=slice(n_words))


def _models(work: Path) -> dict[str, Any]:
    from neurodata.datasets import load_alice

    bold = load_alice(shared_path(), subjects=["s18"])["bold"]
    return {"words": _alice_words(), "bold": bold}


def _tiny_gpt2(work: Path) -> Path:
    from tests.models.conftest import save_tiny_gpt2

    # room for extract_activations' default windows (context 64 + stride 64 + specials)
    return save_tiny_gpt2(work.parent / "tiny-gpt2", n_positions=256)


def _ssvep_epochs(work: Path) -> xr.DataArray:
    import neurodata as nd
    from neurodata.analyses import frequency_tagging as ft

    rec = nd.load(shared_path("ssvep", "sub-01_ses-01_raw.fif"))
    return ft.segment(rec["signal"], 5.0, onsets=rec["onset"].values, labels=rec["label"].values)


def _frequency_tagging(work: Path) -> dict[str, Any]:
    from neurodata.analyses import frequency_tagging as ft
    from neurodata.models import extract_activations, hftp

    for suffix in ("_raw.fif", "-eve.fif"):
        _link(work, f"sub-01_ses-01{suffix}", "ssvep", f"sub-01_ses-01{suffix}")
    csv = _link(work, "hftp_english_four_word_sentences.csv", "stimuli",
                "hftp_english_four_word_sentences.csv")  # fmt: skip
    model = str(_tiny_gpt2(work))  # an untrained GPT-2: fast, and no syntax to tag
    sentences = hftp.read_sentences(csv)
    spectra = []
    for condition in hftp.CONDITIONS:
        stim = hftp.hftp_stimuli(sentences, condition, rate=4.0, seed=0)
        acts = extract_activations(stim, model, kind="mlp", pool="mean", progress=False)
        series = hftp.tagged_timeseries(acts, rate=4.0, samples_per_word=2)
        spectra.append(ft.spectrum(series, frequencies=[1.0, 2.0]).sel(frequency=[1.0, 2.0]))
    spectra = xr.concat(spectra, "condition").assign_coords(condition=list(hftp.CONDITIONS))
    # ../shared/data holds no HFTP recording: the brain side is a stand-in of 4 channels
    rng = np.random.default_rng(0)
    brain = xr.DataArray(rng.standard_normal((4, 3, 2)), dims=("channel", "condition", "feature"),
                         coords={"condition": list(hftp.CONDITIONS)})  # fmt: skip
    from neurodata.analyses import rsa

    return {"epochs": _ssvep_epochs(work), "series": series, "model": model, "spectra": spectra,
            "brain_rdms": rsa.rdm(brain, "condition", "correlation", feature_dim="feature")}  # fmt: skip


def _selectivity(work: Path) -> dict[str, Any]:
    from neurodata.datasets import load_localizer
    from neurodata.models import extract_activations, load_model

    stimuli = load_localizer(shared_path("localizer"))
    texts = stimuli.sel(stimulus=stimuli.condition == "sentence").isel(stimulus=slice(1))

    def measure(model):  # a score of the model: its mean final hidden state on a sentence
        acts = extract_activations(texts, model, progress=False)["activation"]
        return float(acts.isel(layer=-1).mean())

    return {"model": load_model(), "measure": measure}


def _encoding(work: Path) -> dict[str, Any]:
    from neurodata.datasets import load_alice
    from neurodata.models import align, extract_activations

    ds = load_alice(shared_path(), subjects=["s18", "s22"])
    words = ds[["text", "onset", "offset"]]  # along word
    acts = extract_activations(words, str(_tiny_gpt2(work)), progress=False)  # untrained
    activations = align(acts, ds["bold"], method="lanczos")["activation"]  # (layer, time, unit)
    bold = ds["bold"].transpose("time", "parcel", "subject")
    X, Y = activations.isel(layer=-1), bold.isel(subject=0)
    return {"activations": activations, "bold": bold, "word_rate": ds["word_rate"].isel(subject=0),
            "X": X, "Y": Y}  # fmt: skip


def _distributed(work: Path) -> dict[str, Any]:
    namespace = _encoding(work)
    patterns = _patterns({"layer": 2, "time": 3, "condition": 8, "unit": 20})
    namespace["patterns"] = patterns.assign_coords(time=("time", [0.0, 0.5, 1.0], {"units": "s"}))
    namespace["activity"] = _connectome(work)["activity"].isel(neuron=slice(12))
    return namespace


def _patterns(dims: dict[str, int], seed: int = 0) -> xr.DataArray:
    """Gaussian patterns with the named dims (the RSA page's inputs are abstract)."""
    rng = np.random.default_rng(seed)
    return xr.DataArray(rng.standard_normal(tuple(dims.values())), dims=tuple(dims))


def _rsa(work: Path) -> dict[str, Any]:
    from neurodata.analyses import rsa

    activations = _patterns({"layer": 2, "condition": 8, "unit": 20})
    bold = _patterns({"subject": 3, "run": 4, "condition": 8, "voxel": 30}, seed=1)
    regions = _patterns({"subject": 4, "region": 3, "condition": 8, "voxel": 30}, seed=2)
    return {"activations": activations, "bold": bold, "rdms": rsa.rdm(activations),
            "rdms_subject_region": rsa.rdm(regions)}  # fmt: skip


def _conventions(work: Path) -> dict[str, Any]:
    from neurodata.analyses import rsa

    return {
        "rdms_a": rsa.rdm(_patterns({"condition": 8, "unit": 20})),
        "rdms_b": rsa.rdm(_patterns({"condition": 8, "unit": 20}, seed=1)),
    }


SETUPS = {
    "conventions.md": _conventions,
    "distributed.md": _distributed,
    "encoding.md": _encoding,
    "selectivity.md": _selectivity,
    "models.md": _models,
    "frequency-tagging.md": _frequency_tagging,
    "rsa.md": _rsa,
    "celegans.md": _celegans,
    "connectome.md": _connectome,
    "getting-started.md": _getting_started,
    "data-model.md": _data_model,
    "storage-and-cli.md": _storage,
    "loaders-eeg-nwb.md": _loaders_eeg,
    "scale.md": _scale,
    "fmri-and-language.md": _fmri,
}


def setup(page: str, work: Path) -> dict[str, Any]:
    """Namespace (and files in ``work``) the examples of ``page`` start from."""
    make = SETUPS.get(page)
    return {} if make is None else make(work)
