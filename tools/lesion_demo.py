"""Real-data demonstration of issue 19: lesion MiniLM's localized language units.

    python tools/lesion_demo.py --mask loc/localizer.zarr --part hftp  --n-random 10 --out demo
    python tools/lesion_demo.py --mask loc/localizer.zarr --part alice --n-random 5  --out demo

(a) ``hftp``: the fraction of MiniLM's MLP neurons tagged at the sentence rate (1 Hz)
    for the shared HFTP corpus (structured condition), per layer;
(b) ``alice``: the Alice encoding scores (mean over subjects of the best layer's held-out
    r, per ROI) of the ``compare`` job.

Each is measured intact, with the localized units zeroed, and with ``--n-random`` random
masks of the same per-layer counts; writes ``<part>.zarr`` and ``<part>.png`` to ``--out``.
A further batch with another seed pools its random lesions with earlier ones:

    python tools/lesion_demo.py --mask loc/localizer.zarr --part alice --n-random 6 --seed 1 \
        --out demo-seed1 --pool-with demo/alice.zarr
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def hftp_measure(n_permutations: int, seed: int):
    from neurodata.pipelines.hftp import run_hftp

    with (SHARED / "stimuli" / "hftp_english_four_word_sentences.csv").open() as handle:
        sentences = [row["text"] for row in csv.DictReader(handle)]

    def measure(model):
        res = run_hftp(model, sentences, conditions=["structured"],
                       n_permutations=n_permutations, seed=seed, progress=False)  # fmt: skip
        frac = res["structured"]["fraction_significant"]
        return frac.sel(frequency=frac["frequency"].values.min())  # the sentence rate

    return measure


def alice_measure(seed: int):
    from neurodata.pipelines.compare import compare

    def measure(model):
        res = compare("alice", model, n_permutations=0, progress=False, seed=seed,
                      data_dir=SHARED)  # fmt: skip
        return res["r"].mean("subject").max("layer")

    return measure


def main() -> None:
    import numpy as np

    import neurodata as nd
    from neurodata.models import lesion_effect, load_model
    from neurodata.plotting.selectivity import plot_lesion_effect
    from neurodata.report import save_figure

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mask", type=Path, required=True, help="localizer.zarr of `localize`")
    parser.add_argument("--part", choices=["hftp", "alice"], required=True)
    parser.add_argument("--n-random", type=int, default=10)
    parser.add_argument("--n-permutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pool-with", type=Path, action="append", default=[],
                        help="earlier <part>.zarr of the same lesion (other seeds) to pool")  # fmt: skip
    args = parser.parse_args()
    mask = nd.open(args.mask)["mask"].load()
    model = load_model()
    if args.part == "hftp":
        measure = hftp_measure(args.n_permutations, args.seed)
    else:
        measure = alice_measure(args.seed)

    def logged(m):  # print every measurement as it comes (runs are long)
        value = measure(m)
        print(f"measured: {np.round(np.asarray(value.values), 4).tolist()}", flush=True)
        return value

    res = lesion_effect(logged, model, mask, n_random=args.n_random, seed=args.seed,
                        progress=True)  # fmt: skip
    if args.pool_with:
        from neurodata.models import pool_lesion_effects

        res = pool_lesion_effects([*(nd.open(p).load() for p in args.pool_with), res])
    args.out.mkdir(exist_ok=True)
    nd.save(res, args.out / f"{args.part}.zarr", overwrite=True)
    save_figure(plot_lesion_effect(res, title=f"{args.part}: lesion of {int(mask.sum())} "
                                   f"localized units vs {res.attrs['n_random']} random lesions"),
                args.out / f"{args.part}.png", overwrite=True)  # fmt: skip
    with np.printoptions(precision=4, suppress=True):
        for name in ("intact", "lesioned", "effect", "percentile", "p_value"):
            print(f"{name}: {res[name].values}")
        print("random effects:", res["random_effect"].values)


if __name__ == "__main__":
    main()
