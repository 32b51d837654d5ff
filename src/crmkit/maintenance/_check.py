"""``check``: find damage in a store without changing anything."""

from __future__ import annotations

from typing import Any

import attrs

from ..entities import ENTITIES
from ..errors import ValidationError
from ..models import from_doc
from ..storage._engine import leaf_values
from ..storage.base import LOOKUP_KEYS, Document, Storage
from ..storage.query import In
from ._common import ID, Source, ordered, snapshot, storage_of

#: Values per ``In`` query when ``check`` compares the lookup keys with the documents.
LOOKUP_BATCH = 32


@attrs.frozen(kw_only=True)
class Problem:
    """One thing :func:`check` found wrong: in which collection, on which record, and what."""

    collection: str
    record_id: str
    message: str


class _Checker:
    """One pass over a store, collection by collection, keeping only what cross-checks need."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.problems: list[Problem] = []
        self.ids: dict[str, set[str]] = {}
        self.highest: dict[str, tuple[int, str, str]] = {}  # prefix -> (number, collection, id)
        self.refs: list[tuple[str, str, str, str]] = []  # (collection, record id, target collection, target id)
        self.owner: dict[str, str | None] = {}  # record id -> the customer it belongs to
        self.events: list[tuple[str, str, str | None, str]] = []  # (event id, record id, customer id, type)
        self.emails: dict[str, str] = {}

    def problem(self, collection: str, record_id: Any, message: str) -> None:
        self.problems.append(Problem(collection=collection, record_id=str(record_id), message=message))

    def note_number(self, prefix: str, number: int, collection: str, record_id: str) -> None:
        if number > self.highest.get(prefix, (0, "", ""))[0]:
            self.highest[prefix] = (number, collection, record_id)

    def run(self) -> list[Problem]:
        names = ordered(self.storage.collections())
        for name in names:
            docs = self.storage.scan(name)
            self.documents(name, docs)
            self.lookups(name, docs)
        self.references()
        self.counters()
        return self.problems

    def documents(self, name: str, docs: list[Document]) -> None:
        # Collections crmkit does not know (a plugin's) are checked for ids and versions only.
        model = ENTITIES[name].model if name in ENTITIES else None
        prefix = getattr(model, "PREFIX", None)
        seen = self.ids.setdefault(name, set())
        for doc in docs:
            record_id = doc.get("id")
            match = ID.fullmatch(record_id) if isinstance(record_id, str) else None
            if match is None:
                self.problem(name, record_id, "the id is not a prefix, a dash and a number")
                continue
            if prefix and match.group(1) != prefix:
                self.problem(name, record_id, f"the id does not start with {prefix}-, the prefix of {name}")
            self.note_number(match.group(1), int(match.group(2)), name, record_id)
            if record_id in seen:
                self.problem(name, record_id, "the id appears twice")
            seen.add(record_id)
            version = doc.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                self.problem(name, record_id, f"version is {version!r}; it must be a whole number from 1")
            if model is None:
                continue
            try:
                record = from_doc(model, doc)
            except ValidationError as err:
                self.problem(name, record_id, f"cannot be read as a {model.__name__.lower()}: {err}")
                continue
            self.remember(name, record)

    def remember(self, name: str, record: Any) -> None:
        if name == "customers":
            for email in record.emails:
                owner = self.emails.setdefault(email.casefold(), record.id)
                if owner != record.id:
                    self.problem(name, record.id, f"email {email} also belongs to {owner}")
            for contact in record.contacts:
                if contact.id:
                    self.note_number("P", int(contact.id.split("-")[1]), name, record.id)
        elif name == "events":
            self.events.append((record.id, record.record_id, record.customer_id, record.type))
            return
        entity = ENTITIES[name]
        if entity.owner is not None:
            self.owner[record.id] = getattr(record, entity.owner)
        for field, target in entity.references.items():
            value = getattr(record, field)
            for target_id in value if isinstance(value, tuple) else (value,):
                if target_id:
                    self.refs.append((name, record.id, target, target_id))

    def lookups(self, name: str, docs: list[Document]) -> None:
        """Ask the store by each lookup key (what its indexes serve) and compare with the documents."""
        for path in LOOKUP_KEYS.get(name, ()):
            expected: dict[str, set[str]] = {}
            for doc in docs:
                for leaf in leaf_values(doc, path):
                    if isinstance(leaf, str) and isinstance(doc.get("id"), str):
                        expected.setdefault(leaf.casefold(), set()).add(doc["id"])
            values = list(expected)
            shown = ".".join(path)
            for start in range(0, len(values), LOOKUP_BATCH):
                batch = values[start : start + LOOKUP_BATCH]
                found = {doc.get("id") for doc in self.storage.scan(name, In(path, tuple(batch)))}
                wanted = set().union(*(expected[v] for v in batch))
                for record_id in sorted(wanted - found, key=str):
                    self.problem(name, record_id, f"a lookup by {shown} does not find it (an index is out of date)")
                for record_id in sorted(found - wanted, key=str):
                    self.problem(name, record_id, f"a lookup by {shown} finds it although it does not match "
                                                  "(an index is out of date)")

    def references(self) -> None:
        customers = self.ids.get("customers", set())
        every_id = set().union(*self.ids.values()) if self.ids else set()
        deleted = {record_id for _eid, record_id, _cid, kind in self.events if kind.endswith(".deleted")}
        for collection, record_id, target, target_id in self.refs:
            kind = ENTITIES[target].kind
            if target_id not in self.ids.get(target, set()):
                self.problem(collection, record_id, f"refers to {kind} {target_id}, which does not exist")
                continue
            # A link between two records of customers must stay with one customer.
            mine, theirs = self.owner.get(record_id), self.owner.get(target_id)
            if mine and theirs and mine != theirs:
                self.problem(collection, record_id, f"refers to {kind} {target_id} of {theirs}, not of {mine}")
        for event_id, record_id, customer_id, kind in self.events:
            if record_id not in every_id and record_id not in deleted:
                self.problem("events", event_id, f"{kind} is about {record_id}, which does not exist and "
                                                  "was never deleted")
            if customer_id and customer_id not in customers and customer_id not in deleted:
                self.problem("events", event_id, f"names customer {customer_id}, which does not exist and "
                                                  "was never deleted")

    def counters(self) -> None:
        counters = self.storage.counters()
        for prefix, (number, collection, record_id) in sorted(self.highest.items()):
            if counters.get(prefix, 0) < number:
                self.problem(collection, record_id, f"the id counter for {prefix} is {counters.get(prefix, 0)}, "
                                                    f"below {prefix}-{number}: new records would reuse ids")


def check(crm: Source) -> list[Problem]:
    """Check a store's integrity without changing anything; return the problems found ([] if none).

    Checks that every document has an id with its collection's prefix (once),
    a version of 1 or more, and can be read as its record model; that every
    reference (see :mod:`crmkit.entities`) names an existing record, of the
    same customer when both belong to one; that every event is about a record
    that exists or was deleted (and so is its customer); that no email belongs
    to two customers; that the id counters are above every id in use; and that
    looking documents up by the lookup keys (what the backend's indexes serve)
    finds exactly the documents that hold those values. The store is read in
    one transaction, a consistent snapshot; no write is made.
    """
    storage = storage_of(crm)
    with snapshot(storage):
        return _Checker(storage).run()
