"""Atomic, locked writes of one output (a file or a directory).

Every output neurodata writes — stores from :func:`neurodata.save`, converted
recordings, pipeline results, HTML reports, figures — goes through
:func:`atomic_output`:

1. a lock file ``.<name>.lock`` beside the output is created with
   ``O_CREAT | O_EXCL`` and holds the writer's pid, host and start time; a
   second writer gets :class:`~neurodata.errors.ConcurrentWriteError`. A lock
   whose process is dead (same host) is stale: it is taken over, with a warning.
2. leftovers of an interrupted writer (``.<name>.<hex>.tmp`` partial outputs,
   ``.<name>.<hex>.old`` backups) are cleaned up — a backup whose output is
   missing is put back first — with a warning naming them.
3. the caller writes to a temporary sibling ``.<name>.<hex>.tmp``; only when
   that returns without error is it renamed onto the output (``os.replace``:
   atomic for files, and for directories onto nothing; an existing directory
   is first moved aside to a ``.old`` backup and removed after the swap).

So a process killed at any point leaves the old output or none, never a
half-written one, and the next run says what it cleaned.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from .errors import ConcurrentWriteError, NotFoundError, OutputExistsError

__all__ = ["atomic_output", "lock_path", "output_lock"]

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.(?P<kind>tmp|old)$")


def lock_path(path: Path) -> Path:
    """The lock file guarding ``path``."""
    return path.with_name(f".{path.name}.lock")


def _pid_alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would terminate it on Windows: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_lock(lock: Path) -> dict:
    try:
        return json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _is_stale(owner: dict) -> bool:
    """A lock is stale when its writer ran on this host and is dead."""
    pid = owner.get("pid")
    if not isinstance(pid, int) or owner.get("host") != socket.gethostname():
        return False
    return not _pid_alive(pid)


def _try_create(lock: Path, record: dict) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    return True


@contextlib.contextmanager
def output_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the write lock of ``path`` for the duration of the block.

    Raises
    ------
    ConcurrentWriteError
        If another live process holds the lock (the message names it).
    """
    path = Path(path)
    lock = lock_path(path)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "token": uuid.uuid4().hex,
    }
    if not _try_create(lock, record):
        owner = _read_lock(lock)
        if not owner and lock.exists():  # being written right now, or garbage: look again
            time.sleep(0.05)
            owner = _read_lock(lock)
        if owner and _is_stale(owner):
            warnings.warn(
                f"{path}: removing the stale lock of process {owner['pid']} "
                f"(started {owner.get('time', '?')}), which is no longer running",
                RuntimeWarning,
                stacklevel=3,
            )
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        if not _try_create(lock, record):
            owner = _read_lock(lock) or owner
            who = (
                f"process {owner.get('pid')} on {owner.get('host')} since {owner.get('time')}"
                if owner
                else "another process"
            )
            raise ConcurrentWriteError(
                f"{path}: is being written by {who}; expected no other writer. Wait for it "
                f"to finish, or delete {lock.name} if that process is gone"
            )
    try:
        yield lock
    finally:
        if _read_lock(lock).get("token") == record["token"]:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _recover(path: Path) -> None:
    """Clean up what an interrupted writer of ``path`` left (we hold its lock)."""
    leftovers = sorted(
        p
        for p in path.parent.glob(f".{glob_escape(path.name)}.*")
        if (m := _LEFTOVER.match(p.name)) and m.group("name") == path.name
    )
    for item in leftovers:
        if item.name.endswith(".old") and not path.exists():
            os.replace(item, path)
            what = "restored the previous output from backup"
        else:
            _remove(item)
            what = "removed a partial output" if item.name.endswith(".tmp") else "removed a backup"
        warnings.warn(
            f"{path}: {what} {item.name} left by an interrupted write",
            RuntimeWarning,
            stacklevel=4,
        )


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _replace(tmp: Path, path: Path) -> None:
    if not path.exists() or (tmp.is_file() and path.is_file()):
        os.replace(tmp, path)  # atomic for files, and for directories onto nothing
        return
    backup = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
    os.replace(path, backup)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(backup, path)
        raise
    _remove(backup)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Write one output atomically: yield a temporary sibling, then rename it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The output (file or directory). Its parent must exist.
    overwrite : bool
        Replace an existing output. Default False: raise :class:`OutputExistsError`.

    Yields
    ------
    pathlib.Path
        Where to write (``.<name>.<hex>.tmp`` beside ``path``; nothing exists there yet).
        If the block raises, it is removed and ``path`` is untouched.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    ConcurrentWriteError
        If another process is writing ``path``.
    NotFoundError
        If the parent directory does not exist.

    Examples
    --------
    >>> with atomic_output("figure.png", overwrite=True) as tmp:  # doctest: +SKIP
    ...     fig.savefig(tmp, format="png")
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise NotFoundError(f"{path}: parent directory {str(path.parent)!r} does not exist")
    if path.exists() and not overwrite:  # before locking: the common mistake, said plainly
        raise OutputExistsError(f"{path}: already exists; pass overwrite=True (CLI: --overwrite)")
    with output_lock(path):
        _recover(path)
        if path.exists() and not overwrite:
            raise OutputExistsError(
                f"{path}: already exists; pass overwrite=True (CLI: --overwrite)"
            )
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            yield tmp
            if not (tmp.exists() or tmp.is_symlink()):
                raise NotFoundError(f"{path}: the writer produced nothing at {tmp.name}")
            _replace(tmp, path)
        except BaseException:
            _remove(tmp)
            raise
