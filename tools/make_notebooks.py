"""Write the notebooks in notebooks/ (run from the repository root: python tools/make_notebooks.py)."""

import nbformat as nbf


def nb(cells, path):
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.cells = [
        nbf.v4.new_markdown_cell(c[3:])
        if c.startswith("md:")
        else nbf.v4.new_code_cell(c.strip("\n"))
        for c in cells
    ]
    nbf.write(book, path)


SHARED = """import os
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

# The real recordings live beside the repository (../shared/data) or wherever
# NEURODATA_DATA points; without them this notebook uses simulated data and says so.
_here = Path.cwd().resolve()
_beside = [p / "shared" / "data" for p in (_here, *_here.parents) if (p / "shared" / "data").is_dir()]
DATA = Path(os.environ.get("NEURODATA_DATA") or (_beside[0] if _beside else _here / "no-shared-data"))
HAVE_DATA = DATA.is_dir()
print("real data:" if HAVE_DATA else "no real data here: using simulated data", DATA if HAVE_DATA else "")"""

nb(
    [
        "md:# 1. Loading and converting recordings\n\nEEG/iEEG (through MNE), NWB, fMRI and C. elegans worms all load into one xarray data model with `neurodata.load`, are checked with `neurodata.validate`, and convert losslessly (atomic writes, no silent overwrite).",
        SHARED,
        """import tempfile
import numpy as np
import xarray as xr
import neurodata as nd

out = Path(tempfile.mkdtemp())
if HAVE_DATA:
    eeg = nd.load(DATA / "eeg" / "physionet_motor_imagery.edf")
else:  # a simulated recording, written to EDF with MNE and read back
    sfreq, n = 160.0, 1600
    rng = np.random.default_rng(0)
    eeg = xr.Dataset(
        {"signal": xr.DataArray(rng.standard_normal((n, 4)) * 1e-5, dims=("time", "channel"),
                                 coords={"time": ("time", np.arange(n) / sfreq, {"units": "s"}),
                                         "channel": ["Fz", "Cz", "Pz", "Oz"],
                                         "ch_type": ("channel", ["eeg"] * 4)},
                                 attrs={"units": "V", "sfreq": sfreq})},
        attrs={"sfreq": sfreq})
    nd.save(eeg, out / "sim.edf")
    eeg = nd.load(out / "sim.edf")
nd.validate(eeg, "timeseries")
print(nd.summarize(eeg)["time"], eeg.sizes)""",
        """# EDF -> zarr -> netCDF: values, coordinates and attrs survive
nd.save(eeg, out / "rec.zarr")
nd.save(nd.open(out / "rec.zarr"), out / "rec.nc")
back = nd.open(out / "rec.nc").load()
xr.testing.assert_identical(back, nd.open(out / "rec.zarr").load())
print("round trip identical;", back.signal.attrs["units"], back.sizes)""",
        """fig, ax = plt.subplots(figsize=(8, 3))
seg = eeg.signal.isel(channel=slice(0, 4)).sel(time=slice(0, 5))
for k, ch in enumerate(seg.channel.values):
    ax.plot(seg.time, seg.sel(channel=ch) * 1e6 + 100 * k, lw=0.6, label=str(ch))
ax.set_xlabel("time (s)"); ax.set_ylabel("µV (offset)"); ax.legend(fontsize=7)
fig""",
        """if HAVE_DATA:
    worm = nd.load(DATA / "celegans" / "flavell2023" / "2022-07-26-31-data.h5",
                   labels=DATA / "celegans" / "flavell2023" / "2022-07-26-31_neuropal_labels.csv")
    print(worm.activity.dims, "identified neurons:", int(worm.activity.notnull().any("time").sum()))
    fmri = nd.load(DATA / "fmri" / "fmri1.nii.gz")
    print(fmri.bold.dims, fmri.sizes, "TR", 1 / fmri.attrs["sfreq"], "s")""",
        """# Bad input gives one clear error naming the file
try:
    nd.load(out / "missing.edf")
except nd.NeurodataError as err:
    print(type(err).__name__, ":", err)""",
    ],
    "notebooks/01_loading_and_converting.ipynb",
)

nb(
    [
        "md:# 3. Frequency tagging: SSVEP EEG and the HFTP probe of a language model\n\nThe same functions (`spectrum`, `snr`, `tag_test`) find flicker frequencies in EEG and the sentence/phrase rates in an LLM's MLP neurons.",
        SHARED,
        """import numpy as np
import xarray as xr
import neurodata as nd
from neurodata.analyses import frequency_tagging as ft
from neurodata.plotting.frequency_tagging import plot_layer_profile, plot_spectrum""",
        """# SSVEP: 5-s trials of occipital EEG; LED flicker at 13, 17 and 21 Hz (real data), or a simulated 13 Hz response
if HAVE_DATA:
    rec = nd.load(DATA / "ssvep" / "sub-01_ses-01_raw.fif")
    sig = rec.signal.sel(channel=rec.ch_type == "eeg")
    on = rec.label.values == "4"            # event code 4 = 17 Hz
    starts = rec.onset.values[on]
    target = 17.0
else:
    sfreq, target = 256.0, 13.0
    t = np.arange(int(60 * sfreq)) / sfreq
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t.size, 8)) + 0.3 * np.sin(2 * np.pi * target * t)[:, None]
    sig = nd.as_timeseries(x * 1e-6, dims=("time", "channel"), sfreq=sfreq, units="V")
    starts = np.arange(0, 55, 5.0)
epochs = ft.segment(sig, 5.0, onsets=starts)
res = ft.tag_test(epochs, [13.0, 17.0, 21.0], n_permutations=500, seed=0)
print(res.significant.mean("channel").to_pandas())""",
        """spec = ft.spectrum(epochs, average="frequency", fmin=5, fmax=30)
plot_spectrum(ft.snr(spec).mean("channel"), [13.0, 17.0, 21.0])""",
        """# HFTP: four-word sentences at 4 words/s in MiniLM's MLP neurons; controls are scrambled and random lists
from neurodata.pipelines.hftp import run_hftp
results = run_hftp(n_permutations=100, seed=0, progress=False)
for condition, r in results.items():
    print(condition, r.fraction_significant.mean("layer").values.round(3))""",
        """plot_layer_profile(results)""",
    ],
    "notebooks/03_frequency_tagging.ipynb",
)

nb(
    [
        "md:# 2. Which layer of a language model predicts the brain?\n\nMiniLM's word representations against the *Alice* fMRI release (Brennan et al. 2016) when it is present, otherwise against simulated responses generated from one known layer.",
        SHARED,
        """import neurodata as nd
from neurodata.pipelines.compare import compare, resolve_data
from neurodata.pipelines.demo import simulated_brain_data
from neurodata.pipelines.report import recovered_layer
from neurodata.plotting.encoding import plot_layer_scores

if HAVE_DATA:
    brain = resolve_data("alice", data_dir=DATA)   # s33 (all-zero time courses) is excluded and reported
    activations = None
else:
    from neurodata.datasets.simulated import story
    from neurodata.models.activations import extract_activations
    words = story(800, seed=0)
    activations = extract_activations(words, pool="mean", context=32, progress=False)["activation"]
    brain = simulated_brain_data(activations, words, seed=0)
print(brain.name, brain.responses.sizes, *brain.notes)""",
        """result = compare(brain, activations=activations, n_permutations=50, progress=False)
print("best layer on average:", recovered_layer(result), "| truth:", result.attrs["truth"] or "unknown (real data)")
result.r.mean("subject").to_pandas().round(3)""",
        """# the word-rate baseline alone, and each layer's gain over it
print("baseline r per region:", result.r_baseline.mean("subject").to_pandas().round(3).to_dict())
result.gain.mean("subject").to_pandas().round(3)""",
        """plot_layer_scores(result.r, result.get("ceiling"))""",
        """# RSA on the same layers: correlation RDMs over sentences-long stretches of the stimulus
from neurodata.analyses import rsa
acts = activations if activations is not None else None
if acts is not None:
    blocks = acts.coarsen(word=20, boundary="trim").mean().rename(word="condition")
    rdms = rsa.rdm(blocks, dim="condition", method="correlation", feature_dim="unit")
    sim = rsa.compare(rdms, rdms.rename(layer="layer_2"), method="spearman")
    print(sim.to_pandas().round(2))""",
    ],
    "notebooks/02_llm_vs_fmri.ipynb",
)

nb(
    [
        "md:# 4. The dynamic functional connectome of worms vs the anatomical connectome\n\nPairwise affinities of calcium traces in sliding windows -> non-negative tensor factorization -> communities per component (Dyballa et al. 2024), compared with the Cook et al. 2019 wiring diagram against a degree-preserving null. Real Flavell-lab worms when `../shared/data` is present, otherwise simulated worms with planted motifs.",
        SHARED,
        """import neurodata as nd
from neurodata import celegans
from neurodata.analyses.connectome import compare_structure, dynamic_connectome
from neurodata.plotting.connectome import plot_communities, plot_timeline

if HAVE_DATA:
    folder = DATA / "celegans" / "flavell2023"
    worms = [nd.load(h5, labels=str(h5).replace("-data.h5", "_neuropal_labels.csv"))
             for h5 in sorted(folder.glob("*-data.h5"))]
    activity = celegans.stack(worms)["activity"]
    truth = None
else:
    from neurodata.datasets.simulated import planted_worms
    activity, truth = planted_worms(seed=0)
print(activity.dims, activity.sizes)""",
        """result = dynamic_connectome(activity, rank=3, window=60.0 if HAVE_DATA else 30.0, seed=0)
result""",
        """plot_timeline(result)""",
        """plot_communities(result, 0)""",
        """if HAVE_DATA:
    anatomy = celegans.load_connectome("cook2019", data_dir=DATA)
    structure = compare_structure(result, anatomy, n_null=50, seed=0)
    print(structure)
else:
    from neurodata.analyses.connectome import adjusted_rand_index
    print("ARI with the planted communities:",
          [round(adjusted_rand_index(truth["labels"], result.community.isel(component=k).values), 2)
           for k in range(result.sizes["component"])])""",
    ],
    "notebooks/04_worm_connectome.ipynb",
)

nb(
    [
        "md:# 5. Topological RSA: model selection over the (lower, upper) grid\n\nThe geo-topological transform (Lin & Kriegeskorte 2024) keeps only the topology of an RDM between two quantile thresholds. Which (l, u) best identifies brain regions across subjects? Leave-one-subject-out nearest-centroid identification answers it; here on simulated regions whose representations differ in their neighbourhood structure.",
        SHARED,
        """import numpy as np
import xarray as xr
from neurodata.analyses import rsa, trsa
from neurodata.plotting.rsa import plot_lu_grid, plot_rdm

rng = np.random.default_rng(0)
n_subjects, n_conditions, n_features = 6, 24, 40
# three regions: clustered, ring-like, and random geometry, each with subject noise
angles = np.linspace(0, 2 * np.pi, n_conditions, endpoint=False)
protos = {
    "clusters": np.repeat(rng.standard_normal((4, n_features)) * 2, n_conditions // 4, axis=0),
    "ring": np.c_[np.cos(angles), np.sin(angles), np.zeros((n_conditions, n_features - 2))] * 3,
    "random": rng.standard_normal((n_conditions, n_features)),
}
patterns = xr.DataArray(
    np.stack([[p + 4.0 * rng.standard_normal(p.shape) for p in protos.values()] for _ in range(n_subjects)]),
    dims=("subject", "region", "condition", "feature"),
    coords={"subject": [f"s{k}" for k in range(n_subjects)], "region": list(protos)},
)
rdms = rsa.rdm(patterns, dim="condition", method="correlation", feature_dim="feature")
plot_rdm(rdms.isel(subject=0, region=1))""",
        """accuracy = trsa.model_selection(rdms, label="region", over="subject", grid=trsa.lu_grid(0.1))
print("best (lower, upper):", accuracy.attrs["best_lower"], accuracy.attrs["best_upper"],
      "accuracy", float(accuracy.max()))
plot_lu_grid(accuracy)""",
        """# the input RDMs are never modified by the transforms
before = rdms.copy(deep=True)
_ = trsa.geodesic(rdms, 0.1, 0.5)
xr.testing.assert_identical(before, rdms)
print("inputs unchanged")""",
    ],
    "notebooks/05_trsa_model_selection.ipynb",
)

nb(
    [
        "md:# 6. Which MiniLM layer predicts which language region? `layer_scores` on the Alice fMRI release\n\nThirteen listeners of *Alice in Wonderland* (Brennan et al. 2016; s33, with all-zero time courses, is excluded), six language ROIs, TR 2 s. Features: the MiniLM layers' word representations resampled to the scans with FIR delays of 1-4 TRs; baseline: the word rate convolved with the canonical HRF. Every statistic that is estimated from data (cosine drift of 128 s, z-scores) is fitted on the training blocks of each fold; the test block is high-passed on its own. Outer folds leave one of six 2-min blocks out (with a 3-TR gap), inner folds choose every target's alpha. Without `../shared/data`, simulated responses generated from one known layer stand in.",
        SHARED,
        """import time
import numpy as np
import xarray as xr
from neurodata.analyses import encoding as enc
from neurodata.datasets.alice import word_rate_regressor
from neurodata.models.activations import extract_activations
from neurodata.models.align import align
from neurodata.plotting.encoding import plot_layer_scores, plot_variance_partition

CACHE = Path(os.environ.get("NEURODATA_CACHE", Path.home() / ".cache" / "neurodata"))
if HAVE_DATA:
    from neurodata.datasets.alice import load_alice
    ds = load_alice(DATA)                        # warns about s33 (all-zero time courses)
    ds = ds.sel(subject=ds.valid)
    words = ds.drop_dims([d for d in ds.dims if d != "word"])
    bold = ds.bold.drop_vars("valid")            # (subject, time, parcel)
    truth = None
else:
    from neurodata.datasets.simulated import story
    words = story(800, seed=0)
t0 = time.time()
acts = extract_activations(words, pool="mean", context=32, cache=CACHE, progress=False)["activation"]
if not HAVE_DATA:  # responses generated from one known layer
    from neurodata.pipelines.demo import simulated_brain_data
    brain = simulated_brain_data(acts, words, seed=0)
    bold, words, truth = brain.responses, brain.words, brain.truth
print(f"activations {dict(acts.sizes)} in {time.time() - t0:.0f} s (cached in {CACHE})")
print("responses", dict(bold.sizes))""",
        """# features at the scans, FIR delays of 1-4 TRs; the baseline is already HRF-convolved: no delay
features = align(acts, bold, method="lanczos", delays=[1, 2, 3, 4])
rate = word_rate_regressor(np.asarray(words["onset"]), bold["time"].values)
baseline = xr.DataArray(rate[:, None], dims=("time", "unit"),
                        coords={"time": bold["time"], "unit": ["word_rate"]})
n = bold.sizes["time"]
blocks = np.repeat(np.arange(6), -(-n // 6))[:n]           # six contiguous blocks
features, bold, baseline = (a.assign_coords(block=("time", blocks)) for a in (features, bold, baseline))
options = dict(baseline=baseline, cv=enc.LeaveGroupOut(gap=3), groups="block", inner_cv=4,
               drift_cutoff=128.0, zscore=True, n_permutations=200, block=10, seed=0)""",
        """# single subjects: (layer, target, subject) with p-values, baseline r and gain as coordinates
t0 = time.time()
scores = enc.layer_scores(features, bold, **options)
per_subject = (time.time() - t0) / bold.sizes.get("subject", 1)
print(f"{per_subject:.1f} s per subject for {features.sizes['layer']} layers + baseline")
scores.mean("subject").to_pandas().round(3)""",
        """# the word-rate baseline alone: positive in the temporal ROIs for most subjects?
temporal = [t for t in ("LATL", "LPTL") if t in scores["target"].values] or list(scores["target"].values[:2])
base_temporal = scores["r_baseline"].sel(target=temporal).mean("target")
print("baseline r (mean of", temporal, ") per subject:", base_temporal.round(3).to_pandas().to_dict())
print(f"positive for {int((base_temporal > 0).sum())} of {base_temporal.sizes['subject']} subjects")
print("fraction of subjects with p < 0.05 (layer + baseline, block permutations):")
(scores["p_value"] < 0.05).mean("subject").to_pandas().round(2)""",
        """# each layer's gain over the word-rate baseline (held-out r of layer + baseline minus baseline alone)
scores["gain"].mean("subject").to_pandas().round(3)""",
        """# the group-average response (less noisy than any single subject)
group = enc.layer_scores(features, bold.mean("subject"), **options)
print("baseline r:", group["r_baseline"].round(3).to_pandas().to_dict())
xr.Dataset({"r": group, "gain": group["gain"], "p": group["p_value"]}).to_dataframe()[["r", "gain", "p"]].unstack("target").round(3)""",
        """import matplotlib.pyplot as plt
ceiling = enc.noise_ceiling(enc.remove_drift(bold, zscore=True), "inter_subject") if "subject" in bold.dims else None
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
plot_layer_scores(scores, ceiling, ax=axes[0]); axes[0].set_title("single subjects (mean ± s.e.m.)")
plot_layer_scores(group, ax=axes[1]); axes[1].set_title("group-average response")
plot_layer_scores(scores["gain"].rename("gain"), ax=axes[2]); axes[2].set_title("gain over the word-rate baseline")
axes[2].axhline(0, color="k", lw=0.5)
if truth:
    print("simulated data: responses generated from layer", truth.get("layer"))
fig""",
        """# banded ridge on the group average: the best layer and the baseline as two feature spaces,
# each with its own learned weight; the held-out variance split into unique and shared parts
best = str(group.mean("target").idxmax("layer").values)
spaces = {"layer": features.sel(layer=best).drop_vars("layer"), "word_rate": baseline}
vp = enc.variance_partition(spaces, bold.mean("subject"), cv=enc.LeaveGroupOut(gap=3), groups="block",
                            inner_cv=4, drift_cutoff=128.0, zscore=True)
print("layer:", best)
table = vp["unique"].to_pandas().T.add_prefix("unique ")
table["shared"], table["total"] = vp["shared"].to_pandas(), vp["total"].to_pandas()
print(table.round(3))
plot_variance_partition(vp)""",
    ],
    "notebooks/06_alice_layer_scores.ipynb",
)
