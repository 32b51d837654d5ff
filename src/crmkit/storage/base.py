"""The Storage protocol: what every backend provides.

A backend stores *documents* (plain JSON-compatible dicts produced by
``crmkit.models.convert``) in named *collections* ("customers", "tickets",
"events", ...). Every document has a string ``"id"`` and an int ``"version"``.
Backends hold no business rules: they never validate records, never build
events, never know what a customer is.

Contract (checked by ``crmkit.testing``'s conformance suite):

- Reads return copies: mutating a returned dict never changes the store.
- Every write happens inside ``transaction()``. A write called outside one runs
  in its own implicit transaction. Transactions nest: only the outermost one
  commits. An exception inside the outermost transaction rolls back every
  change made in it, and the store is as it was.
- A transaction that returned has been made durable (it survives a crash of
  the process), and two processes writing the same store lose nothing.
- ``insert`` refuses an id that already exists (``Conflict``).
- ``replace`` and ``delete`` take ``expected_version``; when the stored
  version differs they raise ``Conflict`` and change nothing.
- ``next_ids`` hands out ids that are never handed out again by this store,
  even after the record is deleted, and never to two processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import attrs

from ..errors import ValidationError
from .query import Filter, SortKey

Document = dict[str, Any]

#: Record ids are a letter prefix, a dash and a number (``C-12``); every backend insists.
ID_PATTERN = re.compile(r"([A-Za-z]+)-(0|[1-9][0-9]*)")
PREFIX_PATTERN = re.compile(r"[A-Za-z]+")


def check_prefix(prefix: Any) -> str:
    """Return ``prefix`` if it is a valid id prefix (letters only)."""
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise ValidationError("prefix", prefix, "an id prefix is one or more letters")
    return prefix


def doc_id(doc: Any) -> str:
    """Return the id of a document, checking its shape (``PREFIX-N``)."""
    if not isinstance(doc, dict):
        raise ValidationError("document", doc, "a document is a JSON object")
    record_id = doc.get("id")
    if not isinstance(record_id, str) or not ID_PATTERN.fullmatch(record_id):
        raise ValidationError("id", record_id, "a record id is letters, a dash and a number, like C-12")
    return record_id



@runtime_checkable
class Storage(Protocol):
    """A place to keep crmkit's documents. See the module docstring for the contract."""

    url: str

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them land, or none (and the store is unchanged)."""

    def get(self, collection: str, record_id: str) -> Document | None:
        """Return a copy of the document with this id, or None."""

    def get_many(self, collection: str, record_ids: Iterable[str]) -> list[Document]:
        """Return copies of the documents with these ids, in the same order, skipping missing ones."""

    def scan(
        self,
        collection: str,
        where: Filter | None = None,
        order: Sequence[SortKey] = (),
        limit: int | None = None,
    ) -> list[Document]:
        """Return copies of the documents matching ``where`` (all when None), sorted, at most ``limit``.

        Without an ``order`` the documents come in insertion order.
        """

    def count(self, collection: str, where: Filter | None = None) -> int:
        """How many documents match ``where``."""

    def insert(self, collection: str, docs: Sequence[Document]) -> None:
        """Add new documents (the bulk path: one call for a whole import). ``Conflict`` if an id exists."""

    def replace(self, collection: str, doc: Document, expected_version: int) -> None:
        """Overwrite a document. ``Conflict`` unless the stored version equals ``expected_version``."""

    def delete(self, collection: str, record_id: str, expected_version: int | None = None) -> None:
        """Remove a document. ``NotFound`` if absent, ``Conflict`` on a stale ``expected_version``."""

    def next_ids(self, prefix: str, n: int = 1) -> list[int]:
        """Reserve ``n`` fresh sequence numbers for ids with this prefix ("C", "T" ...)."""

    def bump_id(self, prefix: str, number: int) -> None:
        """Make sure later ``next_ids(prefix)`` return numbers above ``number`` (used when importing ids)."""

    def get_meta(self, key: str) -> Any:
        """Read a store-wide setting (the profile name, the format version), or None."""

    def set_meta(self, key: str, value: Any) -> None:
        """Write a store-wide setting, inside the current transaction."""

    def all_meta(self) -> dict[str, Any]:
        """Every store-wide setting, for copying a store (``db migrate``, ``db backup``)."""

    def counters(self) -> dict[str, int]:
        """The last sequence number handed out per id prefix (``{"C": 12, "T": 3}``), for copying a store."""

    def collections(self) -> list[str]:
        """The names of collections that hold at least one document."""

    def exists(self) -> bool:
        """Whether the store has been created (a file exists, a schema is there)."""

    def close(self) -> None:
        """Release files and connections. The object is unusable afterwards."""



@attrs.frozen
class BackendSpec:
    """A storage backend contributed through the ``crmkit_storage_backends`` hook.

    ``open`` receives the full store URL (``"tinydb:///srv/crm.json"``) and returns
    a :class:`Storage`; ``scheme`` is the URL scheme it serves.
    """

    scheme: str
    open: Callable[[str], Storage]
    description: str


#: Paths that services look documents up by with ``=``. Backends may index them;
#: they are hints, never required (a full scan with ``matches`` is always correct).
LOOKUP_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "customers": (("emails",), ("phones",), ("contacts", "email")),
    "interactions": (("customer_id",),),
    "tickets": (("customer_id",), ("status",)),
    "deals": (("customer_id",), ("status",), ("stage",)),
    "contracts": (("customer_id",), ("number",), ("deal_id",), ("status",)),
    "feedback": (("customer_id",), ("kind",)),
    "campaigns": (("status",),),
    "campaign_members": (("customer_id",), ("campaign_id",)),
    "orders": (("customer_id",), ("number",), ("status",)),
    "tasks": (("customer_id",), ("assignee",), ("status",)),
    "events": (("record_id",), ("customer_id",)),  # a customer's timeline reads their events
}
