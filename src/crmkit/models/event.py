"""Events: the append-only log of every change made through the library."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, overload

import attrs

from .base import Record, aware, required_text


def creation_types() -> frozenset[str]:
    """Event types that create a record: each record type's ``created_event`` in :mod:`crmkit.entities`."""
    from ..entities import ENTITIES  # imported here: entities names the models by path

    return frozenset(e.created_event for e in ENTITIES.values() if e.created_event)


@attrs.frozen(kw_only=True)
class Event(Record):
    """One change: ``type`` like ``ticket.resolved``, the record it touched, and old/new per field.

    ``changes`` maps a field name to ``[old, new]`` in stored (JSON) form.
    ``at`` is when the change was recorded; ``effective_at``, when given, is
    when it took effect (a ticket step or a stage move entered afterwards).
    """

    PREFIX = "E"

    at: datetime = attrs.field(validator=aware("at"))
    actor: str = attrs.field(validator=required_text("actor"))
    type: str = attrs.field(validator=required_text("type"))
    record_id: str = attrs.field(validator=required_text("record_id"))
    customer_id: str | None = None
    changes: dict[str, Any] = attrs.field(factory=dict)
    note: str | None = None
    effective_at: datetime | None = attrs.field(default=None, validator=aware("effective_at"))

    @property
    def happened_at(self) -> datetime:
        """When the change took effect: ``effective_at`` if given, else ``at``."""
        return self.effective_at or self.at

    @property
    def is_creation(self) -> bool:
        """Whether this event created its record (its changes are the initial values)."""
        return self.type in creation_types()


#: The stored form of an event, key by key: ``CommittedEvents`` keeps each event as a tuple in
#: this order (a tenth of the memory of a dict, for the 100k events of a bulk import).
STORED_KEYS = ("id", "created_at", "updated_at", "version", "at", "actor", "type", "record_id", "customer_id",
               "changes", "note", "effective_at")
_TYPE = STORED_KEYS.index("type")


class CommittedEvents(Sequence[Event]):
    """The events one transaction wrote, in order, read lazily from their stored form.

    A bulk import commits one event per record; a listener that wants a few
    types asks :meth:`of_type` and only those become :class:`Event` objects.
    """

    def __init__(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self._rows = rows  # stored documents as tuples, in STORED_KEYS order

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<CommittedEvents: {len(self._rows)} events of types {', '.join(sorted(self.types()))}>"

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [_event(row) for row in self._rows[index]]
        return _event(self._rows[index])

    def __iter__(self) -> Iterator[Event]:
        return (_event(row) for row in self._rows)

    def types(self) -> set[str]:
        """The event types present, without building any event."""
        return {row[_TYPE] for row in self._rows}

    def of_type(self, *types: str) -> list[Event]:
        """The events of these types (``"ticket.closed"``), in order."""
        wanted = set(types)
        return [_event(row) for row in self._rows if row[_TYPE] in wanted]


def _event(row: tuple[Any, ...]) -> Event:
    from .convert import from_doc

    return from_doc(Event, dict(zip(STORED_KEYS, row)))
