"""``backup`` and ``restore``: the whole store in one portable file, and back into any backend."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import attrs
import orjson
import pluggy

from .._version import __version__
from ..config import locate_store
from ..errors import StorageError, ValidationError
from ..models import utcnow
from ..models.convert import format_datetime
from ..storage.base import Document, Storage
from ._common import (
    BATCH, CollectionCheck, Progress, Source, batches, check_batch_size, checksum_docs, collection_checksum,
    copy_settings, open_storage, ordered, require_empty, snapshot, storage_of,
)

#: The ``format`` value in the header line of every backup file.
BACKUP_FORMAT = "crmkit-backup"
#: The layout version of backup files this crmkit writes (and the newest it reads).
BACKUP_VERSION = 1


@attrs.frozen(kw_only=True)
class BackupReport:
    """A backup file written by :func:`backup`."""

    path: str
    created_at: str
    profile: str | None
    size: int
    collections: tuple[CollectionCheck, ...]

    @property
    def total(self) -> int:
        """Documents in the backup, over all collections."""
        return sum(c.count for c in self.collections)


@attrs.frozen(kw_only=True)
class RestoreReport:
    """A backup restored by :func:`restore`: into which store, and what arrived (all verified)."""

    path: str
    target: str
    created_at: str
    profile: str | None
    collections: tuple[CollectionCheck, ...]

    @property
    def total(self) -> int:
        """Documents restored, over all collections."""
        return sum(c.count for c in self.collections)


@contextmanager
def _atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A private temp file beside ``path``, synced and renamed over it only when the block succeeds."""
    temp = path.with_name(f".{path.name}.crmkit-tmp")
    try:
        temp.unlink(missing_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise StorageError(f"{path}: cannot write: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as err:
        raise StorageError(f"{path}: cannot write: {err.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)
    if os.name != "nt":
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        except OSError:
            pass  # some filesystems cannot sync a directory; the rename is as durable as it gets
        finally:
            os.close(dir_fd)


def _private_file(path: Path) -> IO[bytes]:
    """A new file readable by its owner only (a leftover of an interrupted run is replaced)."""
    try:
        path.unlink(missing_ok=True)
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    except OSError as err:
        raise StorageError(f"{path}: cannot write: {err.strerror}") from None


def backup(crm: Source, path: str | os.PathLike[str], *, progress: Progress = None) -> BackupReport:
    """Write the whole store to one portable file, atomically; return what was written.

    The file is gzip-compressed JSON lines. The first line is a header:
    ``{"format": "crmkit-backup", "version": 1, "crmkit": ..., "profile": ...,
    "created_at": ..., "source": url, "meta": {...}, "counters": {...},
    "collections": {name: {"count": n, "sha256": checksum}}}``; every other line
    is ``[collection, document]``, in insertion order per collection. The file
    appears only when complete (temp file, fsync, rename) and is readable by
    its owner only. :func:`restore` reads it into any backend.
    """
    storage = storage_of(crm)
    path = Path(path)
    if path.is_dir():
        raise ValidationError("file", str(path), "is a directory; name the backup file")
    if not path.parent.is_dir():
        raise StorageError(f"{path}: directory {path.parent} does not exist")
    created = format_datetime(utcnow())
    body = path.with_name(f".{path.name}.crmkit-body")
    summary: dict[str, dict[str, Any]] = {}
    try:
        with snapshot(storage):  # a consistent snapshot, and nothing is written
            meta, counters = storage.all_meta(), storage.counters()
            # The header needs every checksum, so the lines go to a second gzip member
            # first; a gzip file may hold several members, read as one stream.
            with _private_file(body) as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out:
                for name in ordered(storage.collections()):
                    docs = storage.scan(name)
                    summary[name] = {"count": len(docs), "sha256": checksum_docs(docs)}
                    prefix = orjson.dumps(name)
                    for batch in batches(docs, BATCH):
                        out.write(b"".join(b"[" + prefix + b"," + orjson.dumps(d) + b"]\n" for d in batch))
                        if progress is not None:
                            progress(len(batch))
                    del docs
        header = {"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "crmkit": __version__,
                  "profile": meta.get("profile"), "created_at": created, "source": storage.url,
                  "meta": meta, "counters": counters, "collections": summary}
        with _atomic_file(path) as final:
            final.write(gzip.compress(orjson.dumps(header) + b"\n", mtime=0))
            with body.open("rb") as lines:
                while chunk := lines.read(1 << 20):
                    final.write(chunk)
    finally:
        body.unlink(missing_ok=True)
    checks = tuple(CollectionCheck(name=n, count=s["count"], checksum=s["sha256"]) for n, s in summary.items())
    return BackupReport(path=str(path), created_at=created, profile=meta.get("profile"), size=path.stat().st_size,
                        collections=checks)


def _read_header(path: Path, fp: IO[bytes]) -> dict[str, Any]:
    line = fp.readline()
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT:
        raise ValidationError("file", str(path), "is not a crmkit backup (no crmkit-backup header)")
    version = header.get("version")
    if not isinstance(version, int) or version > BACKUP_VERSION:
        raise ValidationError("file", str(path), f"is a backup of format version {version!r}; this crmkit "
                                                 f"reads up to {BACKUP_VERSION}: upgrade crmkit")
    collections = header.get("collections")
    if not isinstance(collections, dict) or not isinstance(header.get("meta"), dict) \
            or not isinstance(header.get("counters"), dict):
        raise StorageError(f"{path}: corrupt backup: the header lacks meta, counters or collections")
    return header


def _backup_lines(path: Path, fp: IO[bytes], declared: dict[str, Any],
                  batch_size: int) -> Iterator[tuple[str, list[Document]]]:
    """The documents of a backup in batches of one collection each, checking every line's shape."""
    name: str | None = None
    batch: list[Document] = []
    for number, line in enumerate(fp, start=2):
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise StorageError(f"{path}: corrupt backup: line {number} is not JSON ({err})") from None
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict)):
            raise StorageError(f"{path}: corrupt backup: line {number} is not [collection, document]")
        if item[0] not in declared:
            raise StorageError(f"{path}: corrupt backup: line {number} is in collection {item[0]!r}, "
                               "which the header does not list")
        if item[0] != name or len(batch) >= batch_size:
            if batch:
                yield name, batch  # type: ignore[misc]
            name, batch = item[0], []
        batch.append(item[1])
    if batch:
        yield name, batch  # type: ignore[misc]


def restore(path: str | os.PathLike[str], to_url: str | Storage | None = None, *,
            pm: pluggy.PluginManager | None = None, cwd: Path | None = None,
            progress: Progress = None, batch_size: int = BATCH) -> RestoreReport:
    """Restore a :func:`backup` file into an empty store of any backend, verifying every checksum.

    ``to_url`` names the target (``None``: the store found from ``CRMKIT_DB``
    or a ``crmkit.toml`` in ``cwd`` or above, as :func:`crmkit.open` finds it;
    or an open :class:`Storage`, left open). The target is created if needed; one that
    holds records or ids, or was made for another profile, is refused. All
    documents, settings and counters are written in one transaction of the
    target, and each collection's count and checksum are compared with the
    header before it commits, so a damaged file restores nothing.

    Raises ``ValidationError`` for a file that is not a crmkit backup (or is
    of a newer format) and ``StorageError`` for a damaged one.
    """
    path = Path(path)
    check_batch_size(batch_size)
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise ValidationError("file", str(path), "does not exist") from None
    except IsADirectoryError:
        raise ValidationError("file", str(path), "is a directory") from None
    except OSError as err:
        raise StorageError(f"{path}: cannot read: {err.strerror}") from None
    with raw:
        if raw.read(2) != b"\x1f\x8b":
            raise ValidationError("file", str(path), "is not a crmkit backup (not a gzip file)")
        raw.seek(0)
        target, owned = _restore_target(to_url, pm, cwd)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as fp:
                try:
                    return _restore_into(path, fp, target, progress, batch_size)
                except (EOFError, zlib.error, gzip.BadGzipFile) as err:
                    raise StorageError(f"{path}: corrupt backup: {err}; nothing restored") from None
                except OSError as err:  # a CRC or length check at the end of a member
                    raise StorageError(f"{path}: corrupt backup: {err}; nothing restored") from None
        finally:
            if owned:
                target.close()


def _restore_target(to_url: str | Storage | None, pm: pluggy.PluginManager | None,
                    cwd: Path | None) -> tuple[Storage, bool]:
    if to_url is not None and not isinstance(to_url, str):
        return to_url, False
    location = locate_store(to_url, cwd=cwd)
    return open_storage(location.url, pm, base_dir=location.base_dir), True


def _restore_into(path: Path, fp: IO[bytes], target: Storage, progress: Progress,
                  batch_size: int) -> RestoreReport:
    header = _read_header(path, fp)
    declared: dict[str, Any] = header["collections"]
    counts: dict[str, int] = {}
    with target.transaction():
        require_empty(target, header.get("profile"))
        for name, docs in _backup_lines(path, fp, declared, batch_size):
            target.insert(name, docs)
            counts[name] = counts.get(name, 0) + len(docs)
            if progress is not None:
                progress(len(docs))
        checks = []
        for name, expected in declared.items():
            count, checksum = counts.get(name, 0), collection_checksum(target, name)
            if not isinstance(expected, dict) or count != expected.get("count") or checksum != expected.get("sha256"):
                raise StorageError(f"{path}: corrupt backup: {name} does not match its checksum "
                                   f"({count} documents read); nothing restored")
            checks.append(CollectionCheck(name=name, count=count, checksum=checksum))
        copy_settings(target, header["meta"], header["counters"])
    return RestoreReport(path=str(path), target=target.url, created_at=str(header.get("created_at")),
                         profile=header.get("profile"), collections=tuple(checks))
