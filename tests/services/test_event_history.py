"""Creation events hold no changes; a record's values at any version stay recoverable from the log."""

from __future__ import annotations

from typing import Any

from crmkit.models import to_doc
from crmkit.services.base import BOOKKEEPING


def first_values(crm: Any, record_id: str, current: dict[str, Any] | None) -> dict[str, Any]:
    """Walk a record's events backwards from its current (or, if deleted, last) values."""
    events = crm.events.find(record_id=record_id, sort="-id")
    values = dict(current or {})
    for event in events:
        for field, (old, new) in event.changes.items():
            if event.type.endswith(".deleted"):
                values[field] = old
            elif old is None:
                values.pop(field, None)
            else:
                values[field] = old
    return values


def plain(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without bookkeeping and empty fields (what events record)."""
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING and (v or isinstance(v, (bool, int, float)))}


def test_creation_events_hold_no_changes(crm, ann):
    ticket = crm.tickets.open(ann.id, "Printer jams")
    created = {e.record_id: e for e in crm.events.find() if e.is_creation}
    assert created[ann.id].changes == {} and created[ticket.id].changes == {}
    assert created[ann.id].customer_id == ann.id and created[ticket.id].customer_id == ann.id


def test_first_values_are_recoverable_while_the_record_exists(crm, ann):
    first = plain(to_doc(ann))
    crm.customers.update(ann.id, name="Ann Lee-Smith", add_tags=["gold"])
    crm.lifecycle.move(ann.id, "qualified")
    current = crm.storage.get("customers", ann.id)
    recovered = first_values(crm, ann.id, plain(current))
    assert {k: v for k, v in recovered.items() if k != "updated_at"} == first


def test_a_deleted_record_keeps_its_values_in_the_log(crm, ann):
    first = plain(to_doc(ann))
    ticket = crm.tickets.open(ann.id, "Printer jams")
    ticket_first = plain(to_doc(ticket))
    crm.customers.update(ann.id, name="Ann Lee-Smith")
    crm.customers.delete(ann.id, cascade=True)
    assert first_values(crm, ann.id, None) == first
    assert first_values(crm, ticket.id, None) == ticket_first
    deleted = crm.events.find(record_id=ann.id, type="customer.deleted")[0]
    assert deleted.changes["name"] == ["Ann Lee-Smith", None]
