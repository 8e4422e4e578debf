"""Extract zip and tar archives without letting a member escape the output folder.

[`safe_extract`][] refuses (with a [`FormatError`][neurodata.errors.FormatError] naming
the member) absolute paths, ``..`` components, drive letters, links and device
files, and archives whose members add up to more than ``max_bytes``; it
extracts into a temporary sibling of the destination and renames it into place
(see `neurodata._atomic.atomic_output`), so a refused or interrupted
extraction leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from ._atomic import atomic_output
from .errors import FormatError

__all__ = ["safe_extract"]

_CHUNK = 1 << 20


def _check_name(name: str, where: str) -> PurePosixPath:
    posix = PurePosixPath(name.replace("\\", "/"))
    if (
        not name
        or posix.is_absolute()
        or PureWindowsPath(name).drive
        or ".." in posix.parts
        or "\x00" in name
    ):
        raise FormatError(
            f"{where}: member {name!r} would be written outside the output folder; "
            "expected relative paths without '..'"
        )
    return posix


def _zip_members(archive: zipfile.ZipFile, where: str, max_bytes: int) -> list[zipfile.ZipInfo]:
    total = 0
    for info in archive.infolist():
        _check_name(info.filename, where)
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no type
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise FormatError(
                f"{where}: member {info.filename!r} is a link or special file; only regular "
                "files and folders are extracted"
            )
        total += info.file_size
        if total > max_bytes:
            raise FormatError(
                f"{where}: members declare more than max_bytes={max_bytes} bytes uncompressed"
            )
    return archive.infolist()


def _extract_zip(path: Path, target: Path, max_bytes: int) -> None:
    with zipfile.ZipFile(path) as archive:
        written = 0
        for info in _zip_members(archive, str(path), max_bytes):
            out = target.joinpath(*_check_name(info.filename, str(path)).parts)
            if info.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(out, "xb") as dst:
                while block := src.read(_CHUNK):
                    written += len(block)
                    if written > max_bytes:  # the declared sizes lied
                        raise FormatError(
                            f"{path}: members inflate to more than max_bytes={max_bytes} bytes"
                        )
                    dst.write(block)


def _extract_tar(path: Path, target: Path, max_bytes: int) -> None:
    with tarfile.open(path) as archive:
        members, total = [], 0
        for member in archive:
            _check_name(member.name, str(path))
            if not (member.isfile() or member.isdir()):
                raise FormatError(
                    f"{path}: member {member.name!r} is a link or special file; only regular "
                    "files and folders are extracted"
                )
            total += member.size
            if total > max_bytes:
                raise FormatError(f"{path}: members declare more than max_bytes={max_bytes} bytes")
            members.append(member)
        target.mkdir()
        try:
            archive.extractall(target, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise FormatError(f"{path}: refused member: {exc}") from None


def safe_extract(
    archive: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    overwrite: bool = False,
    max_bytes: int = 64 << 30,
) -> Path:
    """Extract a zip or tar archive into the folder ``dest``, refusing escaping members.

    Parameters
    ----------
    archive : str or os.PathLike
        A ``.zip`` or a tar archive (optionally gzip/bz2/xz compressed).
    dest : str or os.PathLike
        The folder to create; its parent must exist.
    overwrite : bool
        Replace an existing ``dest``.
    max_bytes : int
        Refuse archives whose members hold more than this many bytes (zip bombs).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    FormatError
        A member has an absolute path, a ``..`` component, is a link or a
        special file, or the archive is too large or not an archive.
    """
    path, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(path):
        extract = _extract_zip
    elif tarfile.is_tarfile(path):
        extract = _extract_tar
    else:
        raise FormatError(f"{path}: not a zip or tar archive")
    with atomic_output(dest, overwrite=overwrite) as tmp:
        try:
            if extract is _extract_zip:
                tmp.mkdir()
            extract(path, tmp, max_bytes)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FormatError(f"{path}: broken archive: {type(exc).__name__}: {exc}") from exc
    return dest
