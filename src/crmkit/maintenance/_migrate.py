"""``migrate``: copy a whole store into an empty store of any backend, and verify the copy."""

from __future__ import annotations

import attrs
import pluggy

from ..crm import CRM
from ..errors import StorageError
from ..storage.base import Storage
from ._common import (
    BATCH, CollectionCheck, Progress, Source, batches, checksum_docs, copy_settings, default_pm, open_storage,
    ordered, require_empty, settings_match, snapshot, storage_of,
)


@attrs.frozen(kw_only=True)
class MigrationReport:
    """What :func:`migrate` copied, verified per collection.

    ``settings_ok`` says whether the store settings (profile ...) and the id
    counters arrived too; ``ok`` is true when that and every collection matched.
    """

    source: str
    target: str
    collections: tuple[CollectionCheck, ...]
    settings_ok: bool

    @property
    def ok(self) -> bool:
        """True when every collection, the settings and the counters match the source."""
        return self.settings_ok and all(c.ok for c in self.collections)

    @property
    def total(self) -> int:
        """Documents copied, over all collections."""
        return sum(c.count for c in self.collections)


def migrate(source: Source, to_url: str | Storage, *, pm: pluggy.PluginManager | None = None,
            progress: Progress = None, batch_size: int = BATCH) -> MigrationReport:
    """Copy a whole store into an empty store (any backend) and verify the copy.

    Every collection (records and events, in insertion order, with ids,
    versions and timestamps unchanged), the store settings and the id counters
    are copied in one transaction of the target, in batched ``insert`` calls,
    while the source is read inside one of its own transactions (a consistent
    snapshot; nothing is written to it). Afterwards each collection is read
    back (from a fresh handle on the target, unless it is ``memory://``) and
    compared by count, checksum and order.

    ``to_url`` is a store URL, or an open :class:`Storage` (left open, so a
    ``memory://`` target can be inspected). A target that holds records or ids,
    or was created with another profile, is refused with ``StorageError``.
    ``batch_size`` documents go into each ``insert`` call, and
    ``progress(n)`` is called after every batch of ``n`` documents copied.
    Returns a :class:`MigrationReport`; check ``report.ok``.
    """
    storage = storage_of(source)
    pm = pm or (source.pm if isinstance(source, CRM) else default_pm())
    owned = isinstance(to_url, str)
    target = open_storage(to_url, pm) if isinstance(to_url, str) else to_url
    try:
        if owned and target.url == storage.url and not target.url.startswith("memory:"):
            raise StorageError(f"{target.url} is the store being copied; name another store")
        expected: dict[str, tuple[int, str, list[str]]] = {}
        with snapshot(storage):  # a snapshot: other writers wait until the copy is read
            meta, counters = storage.all_meta(), storage.counters()
            with target.transaction():
                require_empty(target, meta.get("profile"))
                for name in ordered(storage.collections()):
                    docs = storage.scan(name)
                    expected[name] = (len(docs), checksum_docs(docs), [d["id"] for d in docs])
                    for batch in batches(docs, batch_size):
                        target.insert(name, batch)
                        if progress is not None:
                            progress(len(batch))
                    del docs
                copy_settings(target, meta, counters)
        reader = target
        if owned and not target.url.startswith("memory:"):
            reader = open_storage(target.url, pm)  # what a new process will see, not this handle's memory
        try:
            checks = []
            for name, (count, checksum, order) in expected.items():
                docs = reader.scan(name)
                got = checksum_docs(docs)
                same = len(docs) == count and got == checksum and [d["id"] for d in docs] == order
                checks.append(CollectionCheck(name=name, count=len(docs), checksum=got, ok=same))
            settings_ok = settings_match(reader, meta, counters)
        finally:
            if reader is not target:
                reader.close()
        return MigrationReport(source=storage.url, target=target.url, collections=tuple(checks),
                               settings_ok=settings_ok)
    finally:
        if owned:
            target.close()
