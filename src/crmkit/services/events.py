"""Reading the event log."""

from __future__ import annotations

from ..models import Event
from .base import Service


class EventService(Service[Event]):
    """The append-only log. Events are written by the other services, never directly."""

    model = Event
    collection = "events"
    kind = "event"
    aliases = {"record": "record_id", "customer": "customer_id"}

    def for_record(self, record_id: str) -> list[Event]:
        """Every event about one record, oldest first."""
        return self.find(record_id=record_id.strip().upper(), sort="at")

    def for_customer(self, customer_id: str | int) -> list[Event]:
        """Every event about a customer and its interactions and tickets, oldest first."""
        cid = self.crm.customers.normalize_id(customer_id)
        return self.find(customer_id=cid, sort="at")
