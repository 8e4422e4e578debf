"""``python -m benchmarks before_after [--base REV] [--quick]``: the peer ratios of two trees.

Each ratio of issue 22 (neurodata / peer, time and peak memory) measured for the
code at ``--base`` ("before", default ``fc9dacc``, main before the second session)
and for this tree ("after") in ONE run: three processes stay up side by side, one
importing the base tree, one this tree, one for the peers (himalaya, tensorly,
rsatoolbox, MNE) and for this tree's reference runs. Every case is run
``--repeat`` times (default 3) in each process, the order of the processes
rotating from one repetition to the next so that a change of load on a shared
machine hits every side; the table keeps the minimum of each side. Peak memory
is traced allocation (tracemalloc) in one more run.

The base tree is exported once with ``git archive`` (to a folder in the temporary
directory, reused by later runs); every process runs the current
``benchmarks/_cases.py``, with the base or current ``neurodata`` on its path.
The load average (as ``uptime`` prints it) is given before and after each case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIDES = ("before", "after", "peer")


@dataclass(frozen=True)
class Spec:
    """One row: ``case`` run with ``params`` by before/after (side "ours") and, when
    ``peer`` names one, by the peer process (side "peer", ``peer_params`` added)."""

    group: str
    label: str
    case: str
    params: dict[str, Any]
    peer: str | None
    repeat: int = 3  # runs when the command's --repeat is 3 (scaled with it)
    memory: bool = False
    peer_repeat: int | None = None  # slow peers: fewer runs (the first ones)
    peer_scale: float = 1.0  # the peer ran on a subset: its time times this
    peer_params: dict[str, Any] = field(default_factory=dict)
    check: str | None = "diff"  # "diff": max |ours - peer|; "alphas": share of equal alphas
    warm: bool = False  # one untimed run of each side first (caches, lazy imports, files)


def export_tree(rev: str) -> Path:
    """A plain copy of the repository at ``rev`` (``git archive``), made once."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    dest = Path(tempfile.gettempdir()) / f"neurodata-base-{sha[:12]}"
    if (dest / "neurodata" / "__init__.py").is_file():
        return dest
    partial = dest.with_name(dest.name + f".partial-{os.getpid()}")
    partial.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", sha],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(partial, filter="data")
    partial.rename(dest)
    return dest


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True)
    return out.stdout.decode().strip()


class Worker:
    """A long-lived `benchmarks._worker` process importing the neurodata of ``tree``."""

    def __init__(self, name: str, tree: Path, shim: Path, log: Path):
        env = dict(os.environ, MPLBACKEND="Agg", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        env["PYTHONPATH"] = os.pathsep.join([str(shim), str(tree)])
        self.name, self.log = name, log
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._worker"],
            cwd=shim,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        where = self.ask({"op": "info"})["neurodata"]
        if not Path(where).resolve().is_relative_to(tree.resolve()):
            raise RuntimeError(f"{name}: imported neurodata from {where}, not from {tree}")

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(f"{self.name} process ended on {request}:\n{tail}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name} failed on {request}: {answer['trace']}")
        return answer

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)


def specs(quick: bool, groups: set[str], files: dict[str, Any]) -> list[Spec]:
    """The rows of issue 22, at small (``quick``) or full sizes."""
    out: list[Spec] = []
    n, p, t = (3000, 768, 2000) if quick else (3000, 768, 10000)
    out.append(Spec("encoding", f"ridge_cv {n}x{p}->{t}, 9 alphas, 5 folds, float32", "ridge",
                    {"n": n, "p": p, "t": t}, "himalaya RidgeCV (numpy)", memory=True,
                    check="alphas"))  # fmt: skip
    sizes = [(80, 150, 8)] if quick else [(40, 60, 4), (80, 150, 8), (120, 300, 10), (300, 100, 10)]
    for neurons, windows, worms in sizes:
        out.append(Spec("connectome", f"ntf {neurons} neurons x {windows} windows x {worms} "
                        "worms, rank 5, 50 iterations", "ntf",
                        {"neurons": neurons, "windows": windows, "worms": worms},
                        "tensorly non_negative_parafac_hals", memory=True, check=None))  # fmt: skip
    cond, feat = (500, 2000) if quick else (1000, 5000)
    for method in ("correlation", "crossnobis"):
        out.append(Spec("rsa", f"{method} RDM {cond}x{feat}", "rdm",
                        {"method": method, "n": cond, "p": feat}, "rsatoolbox 0.3.2",
                        peer_repeat=1 if method == "crossnobis" else None))  # fmt: skip
    cond, n_rdm = (1000, 20) if quick else (1000, 100)
    for method, subset in (("spearman", (n_rdm, n_rdm)), ("tau-a", (2, 5 if quick else 10))):
        scale = n_rdm * n_rdm / (subset[0] * subset[1])
        note = f", peer on {subset[0]}x{subset[1]} pairs x{scale:g}" if scale > 1 else ""
        out.append(Spec("rsa", f"{method} {n_rdm}x{n_rdm} RDMs of {cond} conditions, 1 thread"
                        f"{note}", "rdm_compare",
                        {"method": method, "n": cond, "n_rdm": n_rdm, "subset": list(subset)},
                        "rsatoolbox 0.3.2", peer_repeat=1, peer_scale=scale))  # fmt: skip
    for label, path in files["real"].items():
        out.append(Spec("loaders", f"full load, real {label} ({Path(path).name})", "load_full",
                        {"path": path}, "mne.io.read_raw(preload=True)", repeat=15, warm=True))  # fmt: skip
        out.append(Spec("loaders", f"Dataset build from a preloaded Raw, {label} (no peer)",
                        "build", {"path": path}, None, repeat=50, check=None, warm=True))  # fmt: skip
    if "long" in files:
        for call in ("default", "lazy"):
            how = "load + sel" if call == "default" else "load(lazy=True) + isel"
            out.append(Spec("window", f"1-min window of a 2 h x 64 ch EDF, {how}", "window",
                            {**files["long"], "call": call},
                            "mne read_raw_edf(preload=False).get_data", memory=True,
                            warm=True))  # fmt: skip
    subjects, perms = (3, 20) if quick else (14, 200)
    out.append(Spec("compare", f"compare on Alice, {subjects} subjects, {perms} permutations, "
                    "--out (peer: this tree, one subject at a time)", "alice",
                    {"subjects": subjects, "n_permutations": perms, "out": files["tmp"],
                     "batch": "default"}, "compare(subjects_batch=1), this tree",
                    repeat=1 if quick else 2, peer_params={"batch": "one"}))  # fmt: skip
    return [s for s in out if s.group in groups]


def measure(spec: Spec, workers: dict[str, Worker], tmp: Path, repeat: int) -> dict[str, Any]:
    """Minimum time (and peak memory) of each side, alternating; the checks."""
    sides = [s for s in SIDES if s != "peer" or spec.peer]
    runs = max(1, round(repeat * spec.repeat / 3))  # spec.repeat: runs at the default 3
    times: dict[str, list[float]] = {s: [] for s in sides}
    load = [round(os.getloadavg()[0], 2)]
    save = bool(spec.check and spec.peer)
    if spec.warm:  # the untimed first run is the one whose result is checked
        for side in sides:
            workers[side].ask(_request(spec, side, "save" if save else "time", tmp))
    for k in range(runs):
        for side in sides[k % len(sides) :] + sides[: k % len(sides)]:
            if side == "peer" and spec.peer_repeat is not None and k >= spec.peer_repeat:
                continue
            op = "save" if k == 0 and save and not spec.warm else "time"
            answer = workers[side].ask(_request(spec, side, op, tmp))
            times[side].append(answer["seconds"])
    result: dict[str, Any] = {"label": spec.label, "peer": spec.peer, "runs": runs}
    for side in sides:
        scale = spec.peer_scale if side == "peer" else 1.0
        result[f"{side}_s"] = min(times[side]) * scale
        if spec.memory:
            result[f"{side}_mib"] = workers[side].ask(_request(spec, side, "memory", tmp))[
                "peak_mib"
            ]
    if spec.peer:
        for side in ("before", "after"):
            result[f"{side}_ratio"] = result[f"{side}_s"] / result["peer_s"]
            if spec.memory:
                result[f"{side}_mem_ratio"] = result[f"{side}_mib"] / result["peer_mib"]
            if spec.check:
                result[f"{side}_{spec.check}"] = _check(spec.check, tmp, side)
    load.append(round(os.getloadavg()[0], 2))
    result["load"] = load
    return result


def _request(spec: Spec, side: str, op: str, tmp: Path) -> dict[str, Any]:
    params = {**spec.params, **(spec.peer_params if side == "peer" else {})}
    if op == "save":
        params["save_to"] = str(tmp / f"{side}.npy")
    return {"op": op, "case": spec.case, "side": "peer" if side == "peer" else "ours",
            "params": params}  # fmt: skip


def _check(kind: str, tmp: Path, side: str) -> float:
    ours, peer = np.load(tmp / f"{side}.npy"), np.load(tmp / "peer.npy")
    if kind == "alphas":
        return float(np.mean(np.isclose(ours, peer, rtol=1e-5)))
    peer = peer[tuple(slice(0, s) for s in ours.shape)] if ours.shape != peer.shape else peer
    ours = ours[tuple(slice(0, s) for s in peer.shape)]
    return float(np.nanmax(np.abs(ours.astype(float) - peer.astype(float)), initial=0.0))


def floor_row(ridge: dict[str, Any], workers: dict[str, Worker], spec: Spec) -> dict[str, Any]:
    """ridge_cv's time over the machine's GEMM floor (its large products at the measured
    float32 matrix-multiply throughput, best of 5 runs)."""
    from . import bench_encoding as be

    gflops = max(workers["peer"].ask({"op": "time", "case": "gemm", "side": "peer",
                                      "params": {}})["result"] for _ in range(5))  # fmt: skip
    bound = be._flops(spec.params["n"], spec.params["p"], spec.params["t"]) / (gflops * 1e9)
    row = {"label": f"{spec.label} vs the GEMM floor", "peer": f"{gflops:.0f} GFLOP/s floor"}
    row |= {"peer_s": bound, "load": [round(os.getloadavg()[0], 2)]}
    for side in ("before", "after"):
        row[f"{side}_s"] = ridge[f"{side}_s"]
        row[f"{side}_ratio"] = ridge[f"{side}_s"] / bound
    return row


def _fmt(row: dict[str, Any], side: str) -> str:
    if f"{side}_ratio" not in row:
        return f"{row[f'{side}_s'] * 1e3:.2f} ms"
    text = f"{row[f'{side}_ratio']:.3g}x"
    if f"{side}_mem_ratio" in row:
        text += f" (mem {row[f'{side}_mem_ratio']:.3g}x)"
    return text


def table(rows: list[dict[str, Any]]) -> str:
    """The ratios neurodata / peer before and after, one line per row."""
    lines = [f"{'case':<78} {'before':>20} {'after':>20} {'after/before':>12}  load"]
    for r in rows:
        speed = r["after_s"] / r["before_s"]
        lines.append(f"{r['label'][:78]:<78} {_fmt(r, 'before'):>20} {_fmt(r, 'after'):>20} "
                     f"{speed:>11.3g}x  {'-'.join(map(str, r['load']))}")  # fmt: skip
        if r.get("peer"):
            extra = "".join(f"  {k}={v:.3g}" for k, v in r.items()
                            if k.endswith(("_diff", "_alphas")))  # fmt: skip
            lines.append(f"    peer: {r['peer']}; seconds: before {r['before_s']:.4g}, after "
                         f"{r['after_s']:.4g}, peer {r['peer_s']:.4g}{extra}")  # fmt: skip
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table as a markdown table (for the docs)."""
    lines = [
        "| case | peer | before | after | after / before | load |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['label']} | {r.get('peer') or '-'} | {_fmt(r, 'before')} | "
                     f"{_fmt(r, 'after')} | {r['after_s'] / r['before_s']:.3g}x | "
                     f"{'-'.join(map(str, r['load']))} |")  # fmt: skip
    return "\n".join(lines)


def _files(tmp: Path, groups: set[str]) -> dict[str, Any]:
    from . import bench_loaders as bl

    files: dict[str, Any] = {"tmp": str(tmp), "real": {}}
    if "loaders" in groups:
        files["real"] = {k: str(p) for k, p in bl.REAL.items() if p.exists()}
    if "window" in groups:
        sfreq = 256
        path = bl._write_edf(tmp / "long.edf", 64, sfreq, 2 * 3600)
        first = 3600 * sfreq
        files["long"] = {"path": str(path), "first": first, "last": first + 60 * sfreq}
    return files


GROUPS = ("encoding", "connectome", "rsa", "loaders", "window", "compare")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks before_after", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--base", default="fc9dacc", help="the 'before' revision (git)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 10 min)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (minimum kept)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--markdown", type=Path, default=None, help="and the table here")
    args = parser.parse_args(argv)
    groups = set(args.only)
    base = export_tree(args.base)
    print(f"before: {args.base} ({base}); after: {ROOT}", flush=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="before-after-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "shim").mkdir()
        (tmp / "shim" / "benchmarks").symlink_to(HERE, target_is_directory=True)
        trees = {"before": base, "after": ROOT, "peer": ROOT}
        workers = {s: Worker(s, trees[s], tmp / "shim", tmp / f"{s}.log") for s in SIDES}
        try:
            files = _files(tmp, groups)
            if "compare" in groups:  # in a process of its own (torch stays out of the sides)
                once = Worker("activations", ROOT, tmp / "shim", tmp / "activations.log")
                once.ask({"op": "time", "case": "activations", "side": "ours",
                          "params": {"out": str(tmp)}})  # fmt: skip
                once.close()
            for spec in specs(args.quick, groups, files):
                new = [measure(spec, workers, tmp, args.repeat)]
                if spec.case == "ridge":
                    new.append(floor_row(new[0], workers, spec))
                print(table(new).split("\n", 1)[1], flush=True)
                rows.extend(new)
        finally:  # the rows measured so far are kept even if a case fails
            for worker in workers.values():
                worker.close()
            shutil.rmtree(tmp / "shim")
            print("\n" + table(rows))
            print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2, default=str))
            if args.markdown:
                args.markdown.write_text(markdown(rows) + "\n")


if __name__ == "__main__":
    main()
