"""Guards on the paths a reader opens: regular files only, companions kept in their folder.

An untrusted header names other files (BrainVision ``DataFile=``/``MarkerFile=``,
EEGLAB ``EEG.data``, HDF5 external links and external storage). Followed blindly,
``DataFile=../../../../etc/group`` makes neurodata decode a local file's bytes as
samples. And a FIFO named like a recording blocks its reader forever. These checks
run before anything is read:

- ``check_regular``: the path is a regular file or a directory (symlinks are
  followed), not a FIFO, socket or device;
- ``companion``: a file name from inside another file is relative, has no
  ``..`` component, and names a regular file in the referring file's folder (or
  below it).

Symlinks *inside* a folder are followed (DataLad and git-annex datasets are trees
of symlinks into ``.git/annex``): whoever laid out the folder is trusted, whoever
wrote the header is not. Archives extracted by ``neurodata._archive`` never
contain links.
"""

from __future__ import annotations

import ntpath
import os
import stat
from pathlib import Path, PurePosixPath

from .errors import FormatError, NotFoundError

__all__ = ["check_regular", "check_tree", "companion", "companions_of", "inside"]

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def check_regular(path: str | os.PathLike, *, what: str = "input") -> None:
    """Refuse ``path`` unless it is a regular file or a directory (after symlinks).

    Raises
    ------
    NotFoundError
        If it does not exist (or is a dangling symlink).
    FormatError
        If it is a FIFO, socket or device: reading one can block forever or never end.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file or directory") from None
    except OSError as exc:  # ENAMETOOLONG, ELOOP, EACCES ...
        raise NotFoundError(f"{path}: cannot be opened ({exc.strerror or exc})") from exc
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise FormatError(
        f"{path}: {what} is {kind}; expected a regular file or directory (reading it could "
        "block forever or never end)"
    )


def inside(target: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``target`` lies in ``folder`` or below, lexically (``..`` collapsed)."""
    target, folder = (
        os.path.normpath(os.path.abspath(target)),
        os.path.normpath(os.path.abspath(folder)),
    )
    return os.path.commonpath([target, folder]) == folder


def companion(referrer: Path, name: str, *, key: str) -> Path:
    """The file that ``referrer`` names ``name`` (under ``key``), checked before opening.

    Parameters
    ----------
    referrer : pathlib.Path
        The header that names the companion (e.g. the ``.vhdr``).
    name : str
        The name as written in the header.
    key : str
        What the header calls it (``"DataFile"``), for the messages.

    Returns
    -------
    pathlib.Path
        ``referrer.parent / name``.

    Raises
    ------
    FormatError
        If ``name`` is absolute, has a drive letter or a ``..`` component, or names
        something that does not exist or is not a regular file.
    """
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not name or name.startswith(("/", "\\")) or ntpath.splitdrive(name)[0] or ".." in parts:
        raise FormatError(
            f"{referrer}: {key} {name!r} leaves the header's folder; expected a file name "
            f"inside {str(referrer.parent)!r} (no absolute path, no '..')"
        )
    target = referrer.parent / name
    if not (target.exists() or target.is_symlink()):
        raise FormatError(
            f"{referrer}: header points to {key} {name!r}, which does not exist in "
            f"{str(referrer.parent)!r}"
        )
    check_regular(target, what=key)
    return target


def companions_of(raw: object, header: Path) -> None:
    """Refuse an MNE Raw whose data files (``raw.filenames``) lie outside ``header``'s folder.

    Readers resolve the data file a header names (EEGLAB's ``EEG.data``) themselves;
    this runs after the header is parsed and before any sample is read.

    Raises
    ------
    FormatError
        Naming the header and the data file.
    """
    for name in getattr(raw, "filenames", None) or ():
        if name is None:
            continue
        if not inside(name, header.parent):
            raise FormatError(
                f"{header}: its data file {str(name)!r} is outside the header's folder "
                f"{str(header.parent)!r}; expected a file beside it (no absolute path, no '..')"
            )
        check_regular(name, what="data file")


def check_tree(root: str | os.PathLike) -> None:
    """``check_regular`` for every entry of the directory ``root`` (e.g. a zarr store).

    Entries are listed with ``os.scandir`` (no ``stat`` call except for symlinks),
    and symlinked directories are not descended into.

    Raises
    ------
    FormatError
        Naming the first FIFO, socket or device found (or a symlink to one).
    """
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    check_regular(entry.path, what=f"an entry of {os.fspath(root)!r}")
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif not entry.is_file(follow_symlinks=False):
                    check_regular(entry.path, what=f"an entry of {os.fspath(root)!r}")
