"""Model neurophysiology: localizing units vs a bare batched forward pass; a forward pass
under ``intervene`` vs the same pass without it.

1. ``localize``: the 240 localizer stimuli (or a filler set of the same shape) through all
   layers of MiniLM with ``extract_activations`` (each stimulus alone, mean-pooled), then
   the Welch contrast and the top-1 % mask -- against what one would write by hand: padded
   batches of 32 stimuli, ``output_hidden_states=True``, a masked mean over tokens.
   Target: ratio <= 1.2.
2. ``intervene``: the same bare batched forward passes with the top-1 % units zeroed by
   ``intervene`` against the passes without it. Target: ratio <= 1.1.

Both sides use the same loaded model; model loading is outside the timings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._harness import measure, row

LOCALIZER = Path(__file__).resolve().parents[2] / "shared" / "data" / "localizer"


def _stimuli(quick: bool):
    import xarray as xr

    from neurodata.datasets import load_localizer

    if LOCALIZER.is_dir():
        ds = load_localizer(LOCALIZER)
    else:
        words = "the cat sat on the mat while a dog ran far away from home".split()
        texts = [" ".join(np.roll(words, i)[:12]) for i in range(240)]
        ds = xr.Dataset(coords={"stimulus": np.arange(240), "text": ("stimulus", texts),
                                "condition": ("stimulus", ["sentence", "nonword"] * 120)})  # fmt: skip
    return ds.isel(stimulus=slice(0, 48)) if quick else ds


def _bare(model, tok, texts, batch_size=32):
    import torch

    out = []
    with torch.no_grad():
        for b in range(0, len(texts), batch_size):
            enc = tok(texts[b : b + batch_size], padding=True, return_tensors="pt",
                      return_special_tokens_mask=True)  # fmt: skip
            keep = (enc.pop("special_tokens_mask") == 0) & (enc["attention_mask"] == 1)
            states = torch.stack(model(**enc, output_hidden_states=True).hidden_states)
            w = keep[None, :, :, None].float()
            out.append(((states * w).sum(2) / w.sum(2)).numpy())
    return np.concatenate(out, axis=1)


def run(quick: bool = False) -> list[dict]:
    from transformers import AutoTokenizer

    from neurodata.analyses.selectivity import contrast, top_units
    from neurodata.models import extract_activations, intervene, load_model

    stimuli = _stimuli(quick)
    texts = [str(t) for t in stimuli["text"].values]
    model = load_model()
    tok = AutoTokenizer.from_pretrained(model.config.neurodata_tokenizer, local_files_only=True)
    repeat = 1 if quick else 3
    state = {}

    def ours():
        acts = extract_activations(stimuli, model, progress=False)["activation"]
        stats = contrast(acts, "condition", positive="sentence", negative="nonword")
        state["mask"] = top_units(stats, fraction=0.01)
        state["acts"] = acts

    def bare():
        return _bare(model, tok, texts)

    mine, peer = _interleaved(ours, bare, repeat)
    diff = float(np.abs(_bare(model, tok, texts) - state["acts"].values).max())
    rows = [row("localize (extract + Welch + top 1 %)", mine, peer, "bare batched forward",
                n_stimuli=len(texts), max_abs_diff=f"{diff:.1e}")]  # fmt: skip

    def hooked():
        with intervene(model, state["mask"]):
            _bare(model, tok, texts)

    under, plain = _interleaved(hooked, bare, repeat + 2)
    rows.append(row("forward under intervene (top 1 % zeroed)", under, plain,
                    "same forward without intervene",
                    n_units=int(state["mask"].sum())))  # fmt: skip
    return rows


def _interleaved(ours, peer, repeat: int) -> tuple[dict, dict]:
    """Best times of ``ours`` and ``peer`` run alternately (a loaded machine drifts)."""
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for i in range(repeat):
        order = (("ours", ours), ("peer", peer)) if i % 2 == 0 else (("peer", peer), ("ours", ours))
        for name, func in order:
            times[name].append(measure(func, repeat=1)["seconds"])
    return {"seconds": min(times["ours"])}, {"seconds": min(times["peer"])}
