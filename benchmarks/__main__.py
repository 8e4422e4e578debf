"""``python -m benchmarks [names...] [--quick]``: run benchmarks and print ratio tables.

``python -m benchmarks before_after [--base REV] [--quick]`` measures the peer ratios of
the code at ``REV`` and of this tree side by side (see `benchmarks.before_after`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    if sys.argv[1:2] == ["before_after"]:
        from benchmarks.before_after import main as before_after

        return before_after(sys.argv[2:])
    available = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {available}")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--json", type=Path, default=None, help="also write all rows to this file")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available}")
    rows = []
    for name in args.names or available:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name} ==", flush=True)
        for result in module.run(quick=args.quick):
            result = {"benchmark": name, **result}
            rows.append(result)
            print(
                "  " + "  ".join(f"{k}={v}" for k, v in result.items() if k != "benchmark"),
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
