"""What the maintenance functions share: opening a bare store, checksums, copying settings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import orjson
import pluggy

from ..crm import CRM, _absolute_url
from ..entities import RECORD_TYPES
from ..errors import StorageError, ValidationError
from ..registry import registry
from ..storage.base import Document, Storage
from ..storage.url import parse_store_url

#: Documents per ``insert`` call when copying: big enough to be fast, small enough to keep memory flat.
BATCH = 5000
#: Collections in the order they are copied: the records others refer to come first.
CORE_ORDER = RECORD_TYPES
#: A record id: prefix and number.
ID = re.compile(r"([A-Za-z]+)-([0-9]+)")

#: ``progress(n)``: told after each batch of ``n`` documents.
Progress = Callable[[int], None] | None
#: What the functions take: a CRM or a bare store.
Source = CRM | Storage


@attrs.frozen(kw_only=True)
class CollectionCheck:
    """One collection after a copy: how many documents, their checksum, and whether the copy matched."""

    name: str
    count: int
    checksum: str
    ok: bool = True


def storage_of(source: Source) -> Storage:
    """The store behind a CRM, or the store itself."""
    return source.storage if isinstance(source, CRM) else source


def default_pm() -> pluggy.PluginManager:
    """A plugin manager with the installed plugins, for callers that pass none."""
    from ..plugins import make_plugin_manager

    return make_plugin_manager()


def open_storage(url: str, pm: pluggy.PluginManager | None = None, *, base_dir: Path | None = None) -> Storage:
    """Open the store named by ``url`` with the backend that serves its scheme.

    Unlike :func:`crmkit.open` this gives the bare :class:`Storage`: no profile
    is checked or recorded, so it can open an empty target for a copy. A
    relative path is relative to ``base_dir`` (default: the working directory).
    """
    pm = pm or default_pm()
    scheme, _ = parse_store_url(url, base_dir)
    backend = registry(pm, "backend").get(scheme, "db")
    return backend.open(_absolute_url(url, base_dir))


def _id_key(doc: Document) -> tuple[str, int, str]:
    record_id = doc.get("id")
    text = record_id if isinstance(record_id, str) else repr(record_id)
    match = ID.fullmatch(text)
    return (match.group(1), int(match.group(2)), "") if match else (text, -1, text)


def checksum_docs(docs: Iterable[Document]) -> str:
    """The checksum of a collection's documents (see the module docstring for the definition)."""
    digest = hashlib.sha256()
    for doc in sorted(docs, key=_id_key):
        digest.update(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
        digest.update(b"\n")
    return digest.hexdigest()


def collection_checksum(storage: Storage, name: str) -> str:
    """The checksum of one collection of a store: equal checksums mean equal documents."""
    return checksum_docs(storage.scan(name))


@contextmanager
def snapshot(storage: Storage) -> Iterator[None]:
    """Read a store inside one of its transactions, a consistent view that other writers wait for.

    The transaction makes no write. A store that does not exist yet is read
    without one, so that looking at it never creates it.
    """
    if not storage.exists():
        yield
        return
    with storage.transaction():
        yield


def ordered(names: Iterable[str]) -> list[str]:
    """Collection names in copy order: the core ones as :data:`CORE_ORDER`, then the rest by name."""
    names = set(names)
    return [n for n in CORE_ORDER if n in names] + sorted(names - set(CORE_ORDER))


def check_batch_size(size: Any) -> int:
    """Return ``size`` if it can be a batch size; ``ValidationError`` otherwise."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValidationError("batch_size", size, "must be a whole number, 1 or more")
    return size


def batches(docs: Sequence[Document], size: int) -> Iterator[Sequence[Document]]:
    """``docs`` in slices of at most ``size``: the ``insert`` calls of a copy."""
    check_batch_size(size)
    for start in range(0, len(docs), size):
        yield docs[start : start + size]


def require_empty(storage: Storage, profile: str | None) -> None:
    """Refuse a target that already holds records or ids, or that was made for another profile."""
    names = storage.collections()
    if names:
        held = ", ".join(f"{storage.count(n)} {n}" for n in ordered(names))
        raise StorageError(f"{storage.url} is not empty (it holds {held}); copy into a new, empty store")
    if any(storage.counters().values()):
        raise StorageError(f"{storage.url} is not empty: it has handed out ids already; use a new store")
    existing = storage.get_meta("profile")
    if existing and profile and existing != profile:
        raise StorageError(f"{storage.url} was created with profile {existing!r}, the copy has {profile!r}")


def copy_settings(target: Storage, meta: dict[str, Any], counters: dict[str, int]) -> None:
    """Write the store settings and raise the id counters, inside the caller's transaction."""
    for key, value in meta.items():
        target.set_meta(key, value)
    for prefix, number in counters.items():
        target.bump_id(prefix, number)


def settings_match(target: Storage, meta: dict[str, Any], counters: dict[str, int]) -> bool:
    """Whether a store holds exactly these settings and id counters (unused prefixes aside)."""
    got = {k: v for k, v in target.counters().items() if v}
    return target.all_meta() == meta and got == {k: v for k, v in counters.items() if v}
