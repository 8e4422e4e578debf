"""Atomic, locked writes of one output (a file or a directory).

Every output neurodata writes — stores from [`neurodata.save`][], converted
recordings, pipeline results, HTML reports, figures — goes through
[`atomic_output`][]:

1. a lock file ``.<name>.lock`` beside the output is opened and locked with
   ``fcntl.flock`` (exclusive, non-blocking) and then holds the writer's pid,
   host, start time and a token. The kernel releases a flock when its process
   dies, so a lock file that nobody holds is stale whatever it contains (empty,
   unreadable, or naming a dead process: a warning says so) and is taken over by
   locking it — an atomic step, so of racing writers exactly one wins. A second
   writer while the lock is held gets
   [`ConcurrentWriteError`][neurodata.errors.ConcurrentWriteError].
   A record naming another host is respected, since its flock may not be visible
   here. The lock file is unlinked by its holder, while still locked; a writer
   that locked a file which is no longer the one at ``.<name>.lock`` starts over.
2. leftovers of an interrupted writer (``.<name>.<hex>.tmp`` partial outputs,
   ``.<name>.<hex>.old`` backups) are cleaned up — a backup whose output is
   missing is put back first — with a warning naming them.
3. the caller writes to a temporary sibling ``.<name>.<hex>.tmp``; only when
   that returns without error, and the lock is still ours, is it renamed onto the
   output (``os.replace``: atomic for files, and for directories onto nothing; an
   existing directory is first moved aside to a ``.old`` backup and removed
   after the swap).

So a process killed at any point leaves the old output or none, never a
half-written one, and the next run says what it cleaned. Names longer than 200
bytes are shortened in the hidden names (a prefix plus a hash of the whole name),
so that any legal output name can be written.
"""

from __future__ import annotations

import contextlib
import hashlib
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

from .errors import ConcurrentWriteError, NotFoundError, OutputExistsError, WriteError

try:
    import fcntl
except ImportError:  # Windows: exclusive creation only, no stale-lock takeover
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_output", "lock_path", "output_lock", "warnings_name_output"]

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.(?P<kind>tmp|old)$")

#: Output names longer than this (in bytes) are shortened in the hidden names.
_MAX_STEM = 200


def _stem(name: str) -> str:
    """``name``, or for a long one a 150-byte prefix and a hash of the whole name."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= _MAX_STEM:
        return name
    prefix = raw[:150].decode("utf-8", "ignore")
    return f"{prefix}~{hashlib.sha256(raw).hexdigest()[:16]}"


def lock_path(path: Path) -> Path:
    """The lock file guarding ``path``."""
    path = Path(path)
    return path.with_name(f".{_stem(path.name)}.lock")


def _sibling(path: Path, kind: str) -> Path:
    return path.with_name(f".{_stem(path.name)}.{uuid.uuid4().hex[:8]}.{kind}")


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


def _parse(raw: bytes) -> dict:
    try:
        owner = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _read_lock(lock: Path) -> dict:
    try:
        return _parse(lock.read_bytes()[:4096])
    except OSError:
        return {}


def _busy(path: Path, lock: Path, owner: dict) -> ConcurrentWriteError:
    who = (
        f"process {owner.get('pid')} on {owner.get('host')} since {owner.get('time')}"
        if owner
        else "another process"
    )
    return ConcurrentWriteError(
        f"{path}: is being written by {who}; expected no other writer. Wait for it "
        f"to finish, or delete {lock.name} if that process is gone"
    )


def _same_file(lock: Path, fd: int) -> bool:
    try:
        st = os.stat(lock, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _write_record(path: Path, lock: Path, fd: int, record: dict) -> None:
    data = json.dumps(record).encode("utf-8")
    try:
        os.ftruncate(fd, 0)
        if os.pwrite(fd, data, 0) != len(data):
            raise OSError(28, "short write")
    except OSError as exc:
        with contextlib.suppress(OSError):
            lock.unlink()
        raise WriteError(
            exc.errno,
            f"{path}: cannot write the lock record into {lock} ({exc.strerror or exc}); "
            "expected a writable folder with free space",
        ) from exc


def _open_lock(lock: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    if fcntl is None:
        flags |= os.O_EXCL
    return os.open(lock, flags, 0o644)


def _acquire(path: Path, lock: Path, record: dict) -> int:
    """Lock ``lock`` for ``path`` and write ``record`` into it; return its descriptor."""
    while True:
        try:
            fd = _open_lock(lock)
        except FileExistsError:  # Windows: exclusive creation is the lock
            raise _busy(path, lock, _read_lock(lock)) from None
        except OSError as exc:
            raise WriteError(
                exc.errno, f"{path}: cannot create the lock file {lock.name} ({exc.strerror})"
            ) from exc
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _parse(os.pread(fd, 4096, 0))
            os.close(fd)
            raise _busy(path, lock, owner) from None
        if not _same_file(lock, fd):  # its holder unlinked it as we opened it: start over
            os.close(fd)
            continue
        owner = _parse(os.pread(fd, 4096, 0))
        if owner.get("host", socket.gethostname()) != socket.gethostname():
            os.close(fd)  # its flock may not be visible from here: respect it
            raise _busy(path, lock, owner)
        if isinstance(owner.get("pid"), int) and not _pid_alive(owner["pid"]):
            warnings.warn(
                f"{path}: removing the stale lock of process {owner['pid']} "
                f"(started {owner.get('time', '?')}), which is no longer running",
                RuntimeWarning,
                stacklevel=4,
            )
        break
    try:
        _write_record(path, lock, fd, record)
    except BaseException:
        os.close(fd)
        raise
    return fd


class _Held:
    """A held output lock: its path, and whether it is still the file at that path."""

    def __init__(self, path: Path, lock: Path, fd: int) -> None:
        self.path, self.lock, self.fd = path, lock, fd

    def check(self) -> None:
        """Raise [`ConcurrentWriteError`][] if someone removed or replaced our lock."""
        if fcntl is not None and not _same_file(self.lock, self.fd):
            raise ConcurrentWriteError(
                f"{self.path}: the lock {self.lock.name} was removed or replaced while "
                "writing; expected it to stay. Not replacing the output"
            )

    def release(self) -> None:
        try:
            if fcntl is None or _same_file(self.lock, self.fd):
                with contextlib.suppress(FileNotFoundError):
                    self.lock.unlink()  # still locked: a waiting writer will start over
        finally:
            os.close(self.fd)


@contextlib.contextmanager
def _hold(path: Path) -> Iterator[_Held]:
    lock = lock_path(path)
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "token": uuid.uuid4().hex,
    }
    held = _Held(path, lock, _acquire(path, lock, record))
    try:
        yield held
    finally:
        held.release()


@contextlib.contextmanager
def output_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the write lock of ``path`` for the duration of the block.

    Raises
    ------
    ConcurrentWriteError
        If another live process holds the lock (the message names it).
    WriteError
        If the lock file cannot be created or written (read-only folder, full disk).
    """
    with _hold(Path(path)) as held:
        yield held.lock


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _discard(tmp: Path, path: Path, exc: BaseException) -> None:
    """Remove the temporary ``tmp`` of a failed write; say by name if anything remains."""
    try:
        _remove(tmp)
    except OSError as err:
        note = f"{path}: could not remove the temporary {tmp} of the failed write ({err})"
        exc.add_note(note)
        warnings.warn(note, RuntimeWarning, stacklevel=4)
        return
    if tmp.exists() or tmp.is_symlink():
        note = f"{path}: the temporary {tmp} of the failed write reappeared; delete it by hand"
        exc.add_note(note)
        warnings.warn(note, RuntimeWarning, stacklevel=4)


def _recover(path: Path) -> None:
    """Clean up what an interrupted writer of ``path`` left (we hold its lock)."""
    leftovers = sorted(
        p
        for p in path.parent.glob(f".{glob_escape(_stem(path.name))}.*")
        if (m := _LEFTOVER.match(p.name)) and m.group("name") == _stem(path.name)
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
    backup = _sibling(path, "old")
    os.replace(path, backup)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(backup, path)
        raise
    try:
        _remove(backup)
    except OSError as err:  # the output is in place; the next write removes the backup
        warnings.warn(
            f"{path}: could not remove the backup {backup} ({err})", RuntimeWarning, stacklevel=4
        )


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Write one output atomically: yield a temporary sibling, then rename it onto ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The output (file or directory). Its parent must exist.
    overwrite : bool
        Replace an existing output. Default False: raise [`OutputExistsError`][].

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
    with _hold(path) as held:
        _recover(path)
        if path.exists() and not overwrite:
            raise OutputExistsError(
                f"{path}: already exists; pass overwrite=True (CLI: --overwrite)"
            )
        tmp = _sibling(path, "tmp")
        try:
            yield tmp
            if not (tmp.exists() or tmp.is_symlink()):
                raise NotFoundError(f"{path}: the writer produced nothing at {tmp.name}")
            held.check()
            _replace(tmp, path)
        except BaseException as exc:
            _discard(tmp, path, exc)
            raise


@contextlib.contextmanager
def warnings_name_output(tmp: Path, path: Path) -> Iterator[None]:
    """Inside the block, warnings that name the temporary ``tmp`` name ``path`` instead.

    A writer knows only the temporary file it is given; its warnings ("the channels in
    ['G'] keep their unit only in ...") must name the file the user asked for. They are
    re-issued in order when the block ends (so an ``error`` filter still fails the write).
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:  # a failed write's warnings too
        for item in caught:
            text = str(item.message).replace(str(tmp), str(path)).replace(tmp.name, path.name)
            warnings.warn_explicit(text, item.category, item.filename, item.lineno)
