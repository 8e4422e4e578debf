"""Fuzz worker: loads the files named on stdin, one JSON request per line, and reports.

Run as a subprocess by ``test_fuzz_loaders.py`` so that a hang can be killed and
memory can be capped (``RLIMIT_AS``) without touching the test process. Each
answer is one JSON line: ``{"outcome": "ok" | "neurodata" | "escape" | "memory", ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import traceback
import warnings

HEADROOM = int(os.environ.get("NEURODATA_FUZZ_MEMORY", str(1536 << 20)))


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _causes(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _answer(request: dict) -> dict:
    import neurodata as nd
    from neurodata.errors import NeurodataError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = nd.load(request["path"], **request.get("options", {}))
            obj.load()  # lazy readers read their data now: their errors count too
    except MemoryError as exc:
        return {"outcome": "memory", "type": "MemoryError", "message": str(exc)[:500]}
    except NeurodataError as exc:
        if any(isinstance(e, MemoryError) for e in _causes(exc)):
            return {"outcome": "memory", "type": type(exc).__name__, "message": str(exc)[:500]}
        return {"outcome": "neurodata", "type": type(exc).__name__, "message": str(exc)[:300]}
    except BaseException as exc:
        return {
            "outcome": "escape",
            "type": f"{type(exc).__module__}.{type(exc).__name__}",
            "message": str(exc)[:500],
            "traceback": traceback.format_exc()[-3000:],
        }
    return {"outcome": "ok"}


def main() -> None:
    import h5py  # noqa: F401 - import the heavy readers before capping memory
    import mne  # noqa: F401
    import nibabel  # noqa: F401
    import pynwb  # noqa: F401

    import neurodata.loaders.celegans
    import neurodata.loaders.eeg
    import neurodata.loaders.nwb  # noqa: F401

    baseline = _vm_size()
    if baseline:  # Linux: cap the address space; elsewhere run uncapped
        limit = baseline + HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(_answer(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
