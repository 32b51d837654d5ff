"""Interactions: calls, emails, meetings and visits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..errors import ValidationError
from ..models import Direction, Interaction
from .base import Service, build, insert_records, save_record, stamp_new
from .normalize import parse_day, parse_when


class InteractionService(Service[Interaction]):
    model = Interaction
    collection = "interactions"
    kind = "interaction"
    aliases = {"customer": "customer_id", "ticket": "ticket_id", "at": "occurred_at", "topic": "topics"}

    def log(self, customer_id: str | int, channel: str, summary: str, **values: Any) -> Interaction:
        """Record a contact with a customer and return it.

        ``at`` (default now) accepts what :func:`parse_when` reads; ``ticket_id``
        links a ticket of the same customer; an outbound interaction on a ticket
        that has no first response yet counts as its first response.
        """
        return self.log_many([{"customer_id": customer_id, "channel": channel, "summary": summary, **values}])[0]

    def log_many(self, rows: Iterable[Mapping[str, Any]], *, keep_ids: bool = False) -> list[Interaction]:
        """Record many interactions in one transaction; rows may be Interactions made by :meth:`build`.

        An interaction with ``follow_up_on`` gets a task due at the end of that
        day (see :func:`crmkit.services.tasks.follow_up_task`), unless it is
        restored with its id (``keep_ids``), which brings its tasks along.
        """
        with self.crm.transaction():
            built = [row if isinstance(row, Interaction) else self.build(row) for row in rows]
            records = stamp_new(self.crm, built, keep_ids=keep_ids)
            insert_records(self.crm, "interaction", self.collection, records, "interaction.logged",
                           customer_of=lambda r: r.customer_id)
            for record in records:
                if record.ticket_id and record.direction is Direction.OUTBOUND:
                    self.crm.tickets.note_response(record.ticket_id, record.occurred_at)
            # A follow-up date makes a task, for interactions new to crmkit only: those
            # restored with their ids (an export coming back) bring their own tasks.
            follow_ups = [new for old, new in zip(built, records) if new.follow_up_on and not (keep_ids and old.id)]
            if follow_ups:
                from .tasks import follow_up_task  # imported here: most interactions have no follow-up

                self.crm.tasks.add_many([follow_up_task(new, self.crm.actor) for new in follow_ups])
        return records

    def build(self, row: Mapping[str, Any]) -> Interaction:
        """Validate input values into an Interaction (not stored); checks that the links exist."""
        values = dict(row)
        now = self.crm.now()
        if not values.get("customer_id"):
            raise ValidationError("customer_id", values.get("customer_id"), "is required")
        values["customer_id"] = self.crm.customers.get(values["customer_id"]).id
        at = values.pop("at", None) or values.get("occurred_at") or now
        values["occurred_at"] = parse_when(at, now, "at")
        if values.get("follow_up_on"):
            values["follow_up_on"] = parse_day(values["follow_up_on"], now, "follow_up_on")
        if values.get("ticket_id"):
            ticket = self.crm.tickets.get(values["ticket_id"])
            if ticket.customer_id != values["customer_id"]:
                raise ValidationError("ticket_id", ticket.id, f"belongs to {ticket.customer_id}, not {values['customer_id']}")
            values["ticket_id"] = ticket.id
        return build(Interaction, values)

    def update(self, interaction_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Interaction:
        """Correct an interaction (summary, outcome, topics ...); returns the new record."""
        with self.crm.transaction():
            old = self.get(interaction_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Interaction) if k not in ("id", "created_at",
                                                                                            "updated_at", "version")}
            merged.update(changes)
            new = attrs.evolve(self.build(merged), id=old.id, created_at=old.created_at,
                               updated_at=old.updated_at, version=old.version)
            return save_record(self.crm, "interaction", self.collection, old, new, "interaction.updated",
                               expected_version=expected_version, customer_id=old.customer_id)
