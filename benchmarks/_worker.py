"""One side of ``before_after``: a process that imports one neurodata tree and runs cases.

Started by `benchmarks.before_after` with ``PYTHONPATH`` naming the tree (and a
folder whose ``benchmarks`` is the current benchmarks, so that every side runs the
same case code). Requests come one JSON object a line on stdin, answers go one a
line to the original stdout (everything the libraries print goes to stderr):

- ``{"op": "info"}``: the neurodata it imported;
- ``{"op": "time" | "memory" | "save", "case": ..., "side": ..., "params": {...}}``:
  one timed run (seconds), one run under tracemalloc (peak MiB), or one run whose
  result is saved to ``params["save_to"]`` (``.npy``) for the checks.

A case is prepared (its data built) on first use and kept until another case is asked;
then everything alive is frozen out of the garbage collector's reach (``gc.freeze``),
so that a process that imported more (or holds bigger data) does not pay more per
collection in the timed runs.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import traceback
from typing import Any

import numpy as np

from ._cases import CASES
from ._harness import peak_mib


def _answer(request: dict, prepared: dict) -> dict[str, Any]:
    if request["op"] == "info":
        import neurodata

        return {"neurodata": neurodata.__file__}
    params = dict(request.get("params", {}))
    save_to = params.pop("save_to", None)
    key = json.dumps([request["case"], request["side"], params], sort_keys=True)
    if key not in prepared:
        gc.unfreeze()  # the previous case's data can be collected again
        prepared.clear()  # one case's data at a time
        gc.collect()
        prepared[key] = CASES[request["case"]](request["side"], **params)
        gc.collect()
        gc.freeze()  # what exists now (imports, the case's data) is not traversed by the
        # collections that a timed run triggers: every side pays only for its own objects
    work = prepared[key]
    if request["op"] == "memory":
        return {"peak_mib": peak_mib(work)}
    gc.collect()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    if request["op"] == "save" and save_to is not None:
        np.save(save_to, np.asarray(result))
    return {"seconds": seconds, "result": result if isinstance(result, float) else None}


def main() -> None:
    reply = sys.stdout
    sys.stdout = sys.stderr  # libraries may print; the protocol keeps its own stream
    prepared: dict = {}
    for line in sys.stdin:
        try:
            answer = _answer(json.loads(line), prepared)
        except Exception as exc:  # reported to the parent, which names the case
            answer = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


if __name__ == "__main__":
    main()
