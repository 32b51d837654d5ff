"""Events: the append-only log of every change made through the library."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
