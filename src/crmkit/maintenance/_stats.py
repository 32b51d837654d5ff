"""``stats``: how big a store is."""

from __future__ import annotations

from pathlib import Path

import attrs

from ..crm import CRM
from ..storage.base import Storage
from ._common import CORE_ORDER, Source, ordered, storage_of


@attrs.frozen(kw_only=True)
class StoreStats:
    """The size of a store: documents per collection, backend, and bytes on disk when it has files."""

    url: str
    backend: str
    profile: str | None
    collections: dict[str, int]
    size_bytes: int | None
    files: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Documents over all collections."""
        return sum(self.collections.values())


def _store_files(storage: Storage) -> list[Path] | None:
    """The files a store keeps on disk, or None when it has none (memory, a server)."""
    listed = getattr(storage, "files", None)
    if callable(listed):
        return [Path(p) for p in listed()]
    path = getattr(storage, "path", None)
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    # SQLite keeps its write-ahead log and shared memory beside the database.
    candidates = [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]
    return [p for p in candidates if p.is_file()]


def stats(crm: Source) -> StoreStats:
    """How big the store is: documents per collection, backend, profile, and bytes on disk.

    ``size_bytes`` adds up the store's files (a backend may list them with a
    ``files()`` method, or have a ``path``); it is None for stores without
    files (``memory://``, a database server), unless the backend reports its
    size with a ``disk_usage()`` method.
    """
    storage = storage_of(crm)
    scheme = storage.url.split("://", 1)[0] if "://" in storage.url else "tinydb"
    names = ordered({*CORE_ORDER, *storage.collections()})
    counts = {name: storage.count(name) for name in names}
    profile = storage.get_meta("profile") or (crm.profile.name if isinstance(crm, CRM) else None)
    files = _store_files(storage)
    usage = getattr(storage, "disk_usage", None)
    if callable(usage):
        size = usage()
    elif files is None:
        size = None
    else:
        size = sum(p.stat().st_size for p in files if p.exists())
    return StoreStats(url=storage.url, backend=scheme, profile=profile, collections=counts, size_bytes=size,
                      files=tuple(str(p) for p in files or ()))
